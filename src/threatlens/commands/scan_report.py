"""The summary tables printed at the end of ``threatlens scan --output table``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from threatlens.errors import ReadError
from threatlens.stats.results import PORTS_APACHE_LINE, PORTS_NGINX_LINE, count_text
from threatlens.textsafe import visible


def _t(value: object, limit: int = 80) -> Text:
    """Log content as literal text, shortened, control characters visible."""
    text = visible("" if value is None else str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text)


def _score_style(score: float) -> str:
    return "bold red" if score >= 0.9 else "red" if score >= 0.7 else "yellow" if score >= 0.4 else ""


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=False, pad_edge=False)
    for col in columns:
        justify = "right" if col in ("requests", "flagged", "count", "max score", "score", "IPs", "4xx", "5xx",
                                     "line", "lines") else "left"
        table.add_column(col, justify=justify, overflow="fold")
    return table


def _where(file: str, lines: str, several: bool) -> Text:
    """Line numbers, prefixed with the file they are in when the scan read several (a long path loses its start)."""
    if not several:
        return Text(lines)
    text = visible(f"{file}:{lines}")
    return Text("…" + text[-39:] if len(text) > 40 else text)


def _partial(console: Console, lines: int, incomplete: Sequence[ReadError], interrupted: str | None) -> None:
    """Say that the summary covers part of the input: a signal stopped the scan, or inputs were not read to the end."""
    if interrupted:
        how = "Ctrl-C" if interrupted == "SIGINT" else interrupted
        console.print(Text(f"INTERRUPTED ({how}): partial summary, of the {lines:,} lines read before it",
                           style="bold red"))
    if incomplete:
        inputs = "1 input" if len(incomplete) == 1 else f"{len(incomplete)} inputs"
        console.print(Text(f"INPUT INCOMPLETE: {inputs} not read to the end; the summary covers what was read",
                           style="bold red"))
        for error in incomplete:
            console.print(Text("  " + visible(str(error)), style="red"))


def _ports_hint(console: Console) -> None:
    """How to log the server port; the config lines whole, never wrapped, so that they can be copied."""
    console.print(Text("Server ports: not in this log. This log has no server port.", style="dim"))
    console.print(Text("Apache: add %p to the LogFormat, as in the stock vhost_combined format:", style="dim"))
    console.print(Text("  " + PORTS_APACHE_LINE), soft_wrap=True)
    console.print(Text("nginx: add $server_port to the log_format, then log with it (access_log ... ports;):",
                       style="dim"))
    console.print(Text("  " + PORTS_NGINX_LINE), soft_wrap=True)


def render_summary(console: Console, stats: Any, pipeline: Any, *, top: int = 10, elapsed: float = 0.0,
                   files: int = 1, incomplete: Sequence[ReadError] = (), interrupted: str | None = None) -> None:
    """Print totals, flagged requests, alerts and the top tables (``files``: how many inputs were read).

    ``incomplete`` (inputs not read to their end) and ``interrupted`` (the signal that stopped the
    scan) are said right after the totals and again at the end.
    """
    several = files > 1
    totals = stats.totals()
    rate = totals.lines / elapsed if elapsed > 0 else 0.0
    head = Text()
    head.append(f"{totals.lines:,} lines", style="bold")
    head.append(f"  parsed {totals.parsed:,}  unparsed {totals.unparsed:,}")
    if totals.packets:
        head.append(f"  firewall packets {totals.packets:,}")
    if totals.scored:
        head.append("  flagged ")
        head.append(f"{totals.flagged:,}", style="bold red" if totals.flagged else "")
        head.append(f"  alerts {totals.alerts:,}  possibly succeeded {totals.possibly_succeeded:,}")
        if totals.threshold is not None:
            head.append(f"  (threshold {totals.threshold:.2f})")
    elif totals.packets and pipeline.portscan is not None:  # a firewall log alone: no request to score
        head.append(f"  alerts {totals.alerts:,}")
    else:
        head.append("  (not scored)")
    head.append(f"  — {elapsed:.1f} s, {rate:,.0f} lines/s", style="dim")
    console.print(head)
    _partial(console, totals.lines, incomplete, interrupted)
    if pipeline.format_names:
        console.print(Text(f"format: {', '.join(pipeline.format_names)}   geo: {stats.geo.source}", style="dim"))

    if totals.unparsed:
        table = _table("Unparsed lines by reason", "reason", "lines")
        for reason, count in sorted(totals.unparsed_by_reason.items(), key=lambda kv: -kv[1])[:top]:
            table.add_row(_t(reason, 100), f"{count:,}")
        console.print(table)

    flagged = stats.flagged(top * 2)
    if flagged:
        table = _table(f"Flagged requests (newest {len(flagged)} of {totals.flagged:,})",
                       "file:line" if several else "line", "ip", "cc", "score", "tier", "request", "status",
                       "categories", "reasons")
        for item in flagged:
            rec, verdict = item.record, item.verdict
            score = Text(f"{verdict.score:.2f}", style=_score_style(verdict.score))
            status = Text(str(rec.status or "-"), style="bold magenta" if verdict.possibly_succeeded else "")
            if verdict.possibly_succeeded:
                status.append(" !")
            request = f"{rec.method or ''} {rec.target}".strip()
            table.add_row(_where(rec.file, str(rec.line), several), _t(rec.ip), _t(item.country or ""), score,
                          _t(verdict.severity or "-"), _t(request, 60), status, _t(",".join(verdict.categories)),
                          _t("; ".join(verdict.reasons), 60))
        console.print(table)
        if any(i.verdict.possibly_succeeded for i in flagged):
            console.print(Text("  ! possibly succeeded: a malicious-looking request that got a 2xx or an unusual "
                               "response size — look at these first", style="magenta"))

    alerts = stats.alerts(top * 2)
    if alerts:
        table = _table(f"Behaviour alerts (newest {len(alerts)} of {totals.alerts:,})", "ip", "cc", "kind",
                       "file:lines" if several else "lines", "count", "score", "tier", "reasons")
        for entry in alerts:
            a = entry.alert
            who = f"{a.ip} +{len(a.members) - 1}" if len(a.members) > 1 else a.ip  # a campaign: its first IP +N
            table.add_row(_t(who), _t(entry.country or ""), _t(a.kind),
                          _where(a.file, f"{a.first_line}-{a.last_line}", several), f"{a.events:,}",
                          Text(f"{a.score:.2f}", style=_score_style(a.score)), _t(a.severity),
                          _t("; ".join(a.reasons), 70))
        console.print(table)

    table = _table("Top client IPs", "ip", "cc", "requests", "flagged", "max score", "tier", "4xx", "5xx",
                   "categories")
    for row in stats.top_ips(top):
        table.add_row(_t(row.ip), _t(row.country or ""), count_text(row.requests, row.error), f"{row.flagged:,}",
                      Text(f"{row.max_score:.2f}", style=_score_style(row.max_score)), _t(row.severity or "-"),
                      f"{row.status_4xx:,}", f"{row.status_5xx:,}", _t(",".join(row.categories)))
    console.print(table)

    table = _table("Top paths", "path", "requests")
    for row in stats.top_paths(top):
        table.add_row(_t(row.key, 90), count_text(row.requests, row.error))
    console.print(table)

    statuses = stats.top_statuses(20)
    if statuses:
        mix = Text("Status mix: ", style="bold")
        total = sum(r.requests for r in statuses) or 1
        for row in sorted(statuses, key=lambda r: (r.key is None, r.key or 0)):
            mix.append(f"{row.key or '-'} ", style="bold")
            mix.append(f"{row.requests:,} ({100 * row.requests / total:.1f}%)  ")
        console.print(mix)

    table = _table("Top countries", "country", "requests", "flagged", "IPs")
    for row in stats.top_countries(top):
        ips = f"{row.distinct_ips:,}" if row.distinct_exact else f"~{row.distinct_ips:,}"
        table.add_row(_t(row.label), f"{row.requests:,}", f"{row.flagged:,}", ips)
    console.print(table)

    firewall = stats.firewall
    if firewall.seen:
        table = _table("Firewall: destination ports", "port", "service", "packets", "sources", "blocked", "allowed")
        for fw in firewall.top_ports(top):
            sources = f"{fw.sources:,}" if fw.sources_exact else f"~{fw.sources:,}"
            table.add_row(f"{fw.port}/{fw.proto}", fw.service, f"{fw.packets:,}", sources, f"{fw.blocked:,}",
                          f"{fw.allowed:,}")
        console.print(table)
    if stats.ports_available:
        table = _table("Server ports", "port", "requests", "flagged")
        for row in stats.top_ports(top):
            table.add_row(str(row.port), count_text(row.requests, row.error), f"{row.flagged:,}")
        console.print(table)
    elif totals.parsed:
        _ports_hint(console)
    _partial(console, totals.lines, incomplete, interrupted)
