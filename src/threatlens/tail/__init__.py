"""Follow log files like ``tail -F``: through rotation, truncation and deletion, in batches."""

from __future__ import annotations

from threatlens.tail.batches import BatchQueue
from threatlens.tail.follower import Follower, FollowerError, SourceStats, follow_stream
from threatlens.tail.lines import LineAssembler

__all__ = ["BatchQueue", "Follower", "FollowerError", "LineAssembler", "SourceStats", "follow_stream"]
