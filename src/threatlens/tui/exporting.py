"""What the export dialog asks for, and choosing the rows (writing is ``threatlens.export``'s job)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threatlens import export
from threatlens.errors import ExportError
from threatlens.serialize import REQUEST_COLUMNS, alert_dict, request_dict
from threatlens.tui.live import LiveStats

__all__ = ["EXPORT_WHAT", "BlocklistRequest", "ExportRequest", "run_export"]

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


@dataclass(frozen=True)
class ExportRequest:
    """The export dialog's result."""

    what: str
    fmt: str
    path: Path
    ip: str | None = None


@dataclass(frozen=True)
class BlocklistRequest:
    """The block-list dialog's result: ``min_severity`` is the least serious tier whose IPs go in."""

    fmt: str
    path: Path
    min_severity: str = "attack"


def run_export(live: LiveStats, req: ExportRequest, *, overwrite: bool = False) -> tuple[int, str]:
    """Write the export; return ``(count, what was counted)``. Raises ``FileExistsError`` unless ``overwrite``."""
    if req.what == "alerts":
        alerts = live.alert_items()
        if req.fmt == "raw":
            raise ExportError("alerts have no original lines: choose JSON lines or CSV")
        rows = [alert_dict(a, cc) for a, cc in alerts]
        if req.fmt == "jsonl":
            return export.write_jsonl(req.path, rows, overwrite=overwrite), "alerts"
        columns = list(rows[0]) if rows else ["type", "ip", "kind"]
        return export.write_csv(req.path, rows, columns, overwrite=overwrite), "alerts"
    if req.what == "flagged":
        items = live.flagged_items()
        label = "flagged requests"
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
