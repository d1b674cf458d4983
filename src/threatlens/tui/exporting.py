"""What the export dialog asks for, and choosing the rows (writing is ``threatlens.export``'s job)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threatlens import export
from threatlens.errors import ExportError
from threatlens.models.verdict import at_least
from threatlens.serialize import REQUEST_COLUMNS, alert_dict, request_dict
from threatlens.tui.live import LiveStats

__all__ = ["EXPORT_WHAT", "TIERED", "TIER_CHOICES", "TIER_WORDS", "BlocklistRequest", "ExportRequest", "run_export"]

#: What can be exported: key → label in the dialog.
EXPORT_WHAT: dict[str, str] = {
    "flagged": "flagged requests",
    "alerts": "alerts",
    "filter": "all lines of the current filter",
    "ip": "the IP on screen",
}
FORMAT_LABELS: dict[str, str] = {
    "raw": "original log lines (byte for byte)",
    "jsonl": "JSON lines with scores and reasons",
    "csv": "CSV",
}
EXTENSIONS = {"raw": "log", "jsonl": "jsonl", "csv": "csv"}
#: The least serious tier in a dialog's choice: what goes in (that tier and the more serious ones).
TIER_CHOICES: dict[str, str] = {
    "attack": "attack only",
    "suspicious": "attack + suspicious",
    "nuisance": "all, nuisance too",
}
#: The same, in a sentence ("exported 12 flagged requests (attack tier)").
TIER_WORDS: dict[str, str] = {
    "attack": "attack tier",
    "suspicious": "attack or suspicious tier",
    "nuisance": "any tier",
}
#: What the tier choice applies to (the filter's lines and an IP's lines go out whole).
TIERED = ("flagged", "alerts")


@dataclass(frozen=True)
class ExportRequest:
    """The export dialog's result."""

    what: str
    fmt: str
    path: Path
    ip: str | None = None
    #: flagged requests and alerts: the least serious tier exported (see ``TIER_CHOICES``)
    min_severity: str = "attack"


@dataclass(frozen=True)
class BlocklistRequest:
    """The block-list dialog's result: ``min_severity`` is the least serious tier whose IPs go in."""

    fmt: str
    path: Path
    min_severity: str = "attack"


def run_export(live: LiveStats, req: ExportRequest, *, overwrite: bool = False) -> tuple[int, str]:
    """Write the export; return ``(count, what was counted)``. Raises ``FileExistsError`` unless ``overwrite``."""
    tier = f" ({TIER_WORDS.get(req.min_severity, req.min_severity)})"
    if req.what == "alerts":
        alerts = [(a, cc) for a, cc in live.alert_items() if at_least(a.severity, req.min_severity)]
        if req.fmt == "raw":
            raise ExportError("alerts have no original lines: choose JSON lines or CSV")
        rows = [alert_dict(a, cc) for a, cc in alerts]
        if req.fmt == "jsonl":
            return export.write_jsonl(req.path, rows, overwrite=overwrite), "alerts" + tier
        columns = list(rows[0]) if rows else ["type", "ip", "kind"]
        return export.write_csv(req.path, rows, columns, overwrite=overwrite), "alerts" + tier
    if req.what == "flagged":
        items = live.flagged_items(min_severity=req.min_severity)
        label = "flagged requests" + tier
    elif req.what == "ip":
        if not req.ip:
            raise ExportError("no IP on screen: open an IP first (Enter on a row)")
        items = live.ip_items(req.ip)  # type: ignore[assignment]
        label = f"retained requests of {req.ip}"
    else:
        items = live.filtered_items()  # type: ignore[assignment]
        label = "retained requests of the filter" if live.filter is not None else "retained requests"
    if req.fmt == "raw":
        return export.write_raw(req.path, (r.raw for r, _v, _c in items), overwrite=overwrite), label
    rows = [request_dict(r, v, c) for r, v, c in items]
    if req.fmt == "jsonl":
        return export.write_jsonl(req.path, rows, overwrite=overwrite), label
    return export.write_csv(req.path, rows, REQUEST_COLUMNS, overwrite=overwrite), label
