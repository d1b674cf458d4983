"""``TopPortsTable``: server ports by requests (or how to get ports into the log)."""

from __future__ import annotations

from collections.abc import Sequence

from threatlens.tui import format as fmt
from threatlens.tui.live import PortCells, TableRow
from threatlens.tui.widgets.keyed_table import KeyedTable

__all__ = ["TopPortsTable"]

NO_PORTS_HINT = "no port in this log format: add %p (Apache) or $server_port (nginx)"


class TopPortsTable(KeyedTable):
    """Top server ports."""

    BORDER_TITLE = "Ports"
    COLUMNS = (("port", "Port", 6), ("req", "Req", 6), ("flag", "Flag", 5))

    def show(self, rows: Sequence[TableRow[PortCells]], ports_seen: bool) -> None:
        """Display the rows of a dashboard snapshot."""
        self.set_class(not ports_seen, "-no-ports")
        self.border_subtitle = "" if ports_seen else NO_PORTS_HINT
        self.sync([(r.key, (str(r.cells.port), fmt.count(r.cells.requests), str(r.cells.flagged))) for r in rows])
