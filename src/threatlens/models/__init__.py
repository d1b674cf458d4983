"""Detection: the per-request classifier, per-IP behaviour detectors and their shared types."""

from __future__ import annotations
