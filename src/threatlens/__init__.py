"""ThreatLens: spot attacks in web server access logs, live or headless."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
