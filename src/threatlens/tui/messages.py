"""App-wide messages posted by the ingest and model-loading workers (threads post, the UI paints)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

__all__ = ["DetectionReady", "IngestNote", "IngestProgress", "IngestStopped", "IpPrefetched", "IpSnapshotArrived",
           "SnapshotArrived"]


@dataclass
class IngestProgress(Message):
    """Lines were counted; coalesced: a newer one replaces a pending older one."""

    lines: int
    pending: int
    progress: str = ""

    def can_replace(self, message: Message) -> bool:
        """Can replace."""
        return isinstance(message, IngestProgress)


@dataclass
class IngestNote(Message):
    """Something the user should know (format detected, rotation, a read error)."""

    text: str
    severity: str = "information"


@dataclass
class IngestStopped(Message):
    """The ingest worker ended (standard input closed, or an error)."""

    error: str | None = None


@dataclass
class DetectionReady(Message):
    """The model finished loading in its worker (``name`` for the header), or failed (``error``)."""

    name: str
    threshold: float | None = None
    error: str | None = None


class SnapshotArrived(Message):
    """The ingestion process pushed a new dashboard snapshot; coalesced like ``IngestProgress``."""

    def can_replace(self, message: Message) -> bool:
        """Can replace."""
        return isinstance(message, SnapshotArrived)


@dataclass
class IpSnapshotArrived(Message):
    """The ingestion process answered for the IP screen opened from an earlier answer: show the newer one."""

    ip: str
    snapshot: object


@dataclass
class IpPrefetched(Message):
    """The selected row's IP snapshot, asked ahead of Enter: the hidden IP screen draws it meanwhile."""

    ip: str
    snapshot: object
