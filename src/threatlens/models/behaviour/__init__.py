"""Per-IP behaviour detectors: scanning, probing, brute force, floods, agent switching, bad tools."""

from __future__ import annotations

from threatlens.models.behaviour.config import KINDS, BehaviourConfig
from threatlens.models.behaviour.features import FEATURE_NAMES, window_features
from threatlens.models.behaviour.tracker import BehaviourTracker

__all__ = ["FEATURE_NAMES", "KINDS", "BehaviourConfig", "BehaviourTracker", "window_features"]
