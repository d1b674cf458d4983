"""``TopPortsTable``: destination ports from the firewall log, else server ports by requests (or how to get them)."""

from __future__ import annotations

from collections.abc import Sequence

from threatlens.tui import format as fmt
from threatlens.tui.live import FirewallPortCells, PortCells, TableRow
from threatlens.tui.widgets.keyed_table import KeyedTable

__all__ = ["TopPortsTable"]

NO_PORTS_HINT = "no port in this log format: add %p (Apache) or $server_port (nginx)"


FIREWALL_COLUMNS = (("port", "Port", 9), ("svc", "Service", None), ("hits", "Hits", 6), ("srcs", "Srcs", 5),
                    ("blk", "Blk", 5))


class TopPortsTable(KeyedTable):
    """Top ports: from firewall records once there are any (hits, distinct sources, blocked), else server ports."""

    BORDER_TITLE = "Ports"
    COLUMNS = (("port", "Port", 6), ("req", "Req", 6), ("flag", "Flag", 5))
    FOLD = ("blk", "srcs", "flag")
    FLEX = {"svc": (8, 1)}

    def show(self, rows: Sequence[TableRow[PortCells]], ports_seen: bool,
             firewall: Sequence[TableRow[FirewallPortCells]] = ()) -> None:
        """Display the rows of a dashboard snapshot (``firewall``: the firewall log's ports)."""
        if firewall:
            if self.COLUMNS is not FIREWALL_COLUMNS:  # the first packets: switch the columns once
                self.set_columns(FIREWALL_COLUMNS)
            self.border_title = "Ports (firewall)"
            self.set_class(False, "-no-ports")
            self.set_note("")
            self.sync([(r.key, (c.port, c.service, fmt.count(c.packets),
                                f"{'' if c.sources_exact else '~'}{fmt.count(c.sources)}", fmt.count(c.blocked)))
                       for r in firewall for c in (r.cells,)])
            return
        self.set_class(not ports_seen, "-no-ports")
        self.set_note("" if ports_seen else NO_PORTS_HINT)
        self.sync([(r.key, (str(r.cells.port), fmt.count(r.cells.requests), str(r.cells.flagged))) for r in rows])
