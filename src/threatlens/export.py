"""Exports: original lines, JSON lines, CSV, and IP block lists for firewalls and ban tools.

Every write is atomic (temporary file in the target directory, fsync, then a rename) and never
replaces an existing file unless ``overwrite=True``: otherwise ``FileExistsError``. Each writer
returns how many items it wrote. Addresses going into a block list are validated and normalised
with :mod:`ipaddress` first; anything else raises ``ExportError`` (they come from log data).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from threatlens.errors import ExportError
from threatlens.models.verdict import Alert
from threatlens.serialize import REQUEST_COLUMNS

__all__ = [
    "BLOCKLIST_EXTENSIONS",
    "BLOCKLIST_FORMATS",
    "CSV_COLUMNS",
    "EXPORT_FORMATS",
    "alert_block_ips",
    "atomic_write",
    "csv_safe",
    "default_export_name",
    "normalize_ips",
    "render_blocklist",
    "write_blocklist",
    "write_csv",
    "write_jsonl",
    "write_raw",
]

#: Formats of request exports: original bytes, JSON lines, CSV.
EXPORT_FORMATS: tuple[str, ...] = ("raw", "jsonl", "csv")
BLOCKLIST_FORMATS: tuple[str, ...] = ("plain", "nftables", "ipset", "nginx", "apache", "fail2ban", "crowdsec")
#: File extension suggested for each block-list format.
BLOCKLIST_EXTENSIONS: dict[str, str] = {
    "plain": "txt",
    "nftables": "nft",
    "ipset": "ipset",
    "nginx": "conf",
    "apache": "conf",
    "fail2ban": "sh",
    "crowdsec": "csv",
}
#: Default CSV columns: the request fields of ``threatlens scan --output jsonl``.
CSV_COLUMNS: tuple[str, ...] = (*REQUEST_COLUMNS, "error")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,30}")
_DURATION_RE = re.compile(r"\d+(?:ms|s|m|h)(?:\d+(?:ms|s|m|h))*")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# ---- atomic, no-clobber writes -----------------------------------------------------------------
def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write(path: str | os.PathLike[str], fill: Callable[[IO[bytes]], int], *, overwrite: bool = False) -> int:
    """Write ``path`` atomically with ``fill(binary_file) -> count``; return the count.

    Without ``overwrite`` an existing ``path`` raises ``FileExistsError``, also when it appears
    while writing (the final step is a hard link, which never replaces).
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(17, "refusing to overwrite existing file", str(target))
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            count = fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise
            except OSError:  # file system without hard links: re-check, then rename
                if target.exists():
                    raise FileExistsError(17, "refusing to overwrite existing file", str(target)) from None
                os.replace(tmp, target)
            else:
                os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)
    return count


def _fsync_dir(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# ---- request exports ---------------------------------------------------------------------------
def write_raw(path: str | os.PathLike[str], raws: Iterable[bytes], *, overwrite: bool = False) -> int:
    r"""Write the original log lines byte for byte, each followed by ``\n``."""

    def fill(fh: IO[bytes]) -> int:
        n = 0
        for raw in raws:
            fh.write(raw)
            fh.write(b"\n")
            n += 1
        return n

    return atomic_write(path, fill, overwrite=overwrite)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], *, overwrite: bool = False) -> int:
    r"""Write one JSON object per line (UTF-8; undecodable characters kept as ``\udcXX`` escapes)."""

    def fill(fh: IO[bytes]) -> int:
        n = 0
        for row in rows:
            text = json.dumps(row, ensure_ascii=False, default=_json_default)
            fh.write(text.encode("utf-8", "backslashreplace") + b"\n")
            n += 1
        return n

    return atomic_write(path, fill, overwrite=overwrite)


def csv_safe(value: Any) -> str:
    """One CSV cell: lists joined with ``;``, ``None`` empty, formula-looking text defused with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        text = ";".join("" if v is None else str(v) for v in items)
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "backslashreplace")
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(
    path: str | os.PathLike[str],
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str] = CSV_COLUMNS,
    *,
    overwrite: bool = False,
) -> int:
    """Write a header and one row per dict (missing keys empty, extra keys ignored); return rows."""

    def fill(fh: IO[bytes]) -> int:
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="backslashreplace", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(columns)
        n = 0
        for row in rows:
            writer.writerow([csv_safe(row.get(c)) for c in columns])
            n += 1
        text.flush()
        text.detach()
        return n

    return atomic_write(path, fill, overwrite=overwrite)


# ---- block lists -------------------------------------------------------------------------------
def normalize_ips(ips: Iterable[str]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Validate, normalise (IPv4-mapped IPv6 to IPv4), deduplicate and sort; IPv4 first.

    Raises ``ExportError`` naming the first entry that is not a plain IP address (networks,
    zone ids, host names and anything with stray characters are refused).
    """
    out: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for raw in ips:
        if not isinstance(raw, str):
            raise ExportError(f"not an IP address: {raw!r}")
        try:
            addr = ipaddress.ip_address(raw.strip())
        except ValueError:
            raise ExportError(f"not an IP address: {raw!r}") from None
        if isinstance(addr, ipaddress.IPv6Address):
            if addr.scope_id is not None:
                raise ExportError(f"scoped IPv6 address cannot go into a block list: {raw!r}")
            if addr.ipv4_mapped is not None:
                addr = addr.ipv4_mapped
        out.add(addr)
    return sorted(out, key=lambda a: (a.version, int(a)))


def _clean_comment(comment: str) -> list[str]:
    lines = [_CONTROL_RE.sub(" ", part).rstrip() for part in comment.splitlines()]
    return [f"# {line}" for line in lines if line.strip()]


def _check_name(name: str, what: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ExportError(f"bad {what} {name!r}: letters, digits, _ and - only, starting with a letter, max 31")
    return name


def alert_block_ips(alert: Alert) -> tuple[str, ...]:
    """The addresses an alert puts on a block list: its IP; a campaign's members only when it is an attack.

    A ``suspicious`` campaign (odd one-shot requests, no probe) is for a human to look at, not a ban.
    """
    if alert.kind != "campaign":
        return (alert.ip,)
    return (alert.members or (alert.ip,)) if alert.severity == "attack" else ()


def render_blocklist(
    ips: Iterable[str],
    fmt: str,
    *,
    set_name: str = "threatlens_block",
    comment: str = "Generated by ThreatLens",
    jail: str = "threatlens",
    duration: str = "24h",
) -> str:
    """Render a block list of ``ips`` in ``fmt`` (one of ``BLOCKLIST_FORMATS``) as text.

    ``set_name`` names the nftables/ipset sets (IPv6 goes into ``<set_name>_v6``), ``jail`` the
    fail2ban jail, ``duration`` the CrowdSec decision duration. ``comment`` becomes ``#`` lines in
    the formats that allow comments (not plain, ipset or crowdsec, whose importers take none).
    """
    if fmt not in BLOCKLIST_FORMATS:
        raise ExportError(f"unknown block list format {fmt!r}; choose from {', '.join(BLOCKLIST_FORMATS)}")
    addrs = normalize_ips(ips)
    v4 = [str(a) for a in addrs if a.version == 4]
    v6 = [str(a) for a in addrs if a.version == 6]
    all_ips = v4 + v6
    head = _clean_comment(comment)
    name = _check_name(set_name, "set name")
    name6 = _check_name(f"{name}_v6", "set name")
    lines: list[str]
    if fmt == "plain":
        lines = all_ips
    elif fmt == "nftables":
        lines = [
            *head,
            f"# Load with: nft -f FILE; then e.g. add rule inet filter input ip saddr @{name} drop",
            f"#                                   and add rule inet filter input ip6 saddr @{name6} drop",
            "add table inet filter",
            f"add set inet filter {name} {{ type ipv4_addr; }}",
            f"add set inet filter {name6} {{ type ipv6_addr; }}",
        ]
        for set_id, members in ((name, v4), (name6, v6)):
            for i in range(0, len(members), 256):
                lines.append(f"add element inet filter {set_id} {{ {', '.join(members[i : i + 256])} }}")
    elif fmt == "ipset":
        maxelem = max(65536, len(v4), len(v6))
        lines = [
            f"create {name} hash:ip family inet hashsize 1024 maxelem {maxelem} -exist",
            f"create {name6} hash:ip family inet6 hashsize 1024 maxelem {maxelem} -exist",
        ]
        lines += [f"add {name} {ip} -exist" for ip in v4]
        lines += [f"add {name6} {ip} -exist" for ip in v6]
    elif fmt == "nginx":
        lines = [*head, "# Include in an http, server or location block: include /path/to/this.conf;"]
        lines += [f"deny {ip};" for ip in all_ips]
    elif fmt == "apache":
        lines = [
            *head,
            "# Include inside <Directory>, <Location> or a virtual host (Apache 2.4).",
            "<RequireAll>",
            "    Require all granted",
        ]
        lines += [f"    Require not ip {ip}" for ip in all_ips]
        lines.append("</RequireAll>")
    elif fmt == "fail2ban":
        jail_name = _check_name(jail, "jail name")
        lines = [
            "#!/bin/sh",
            *head,
            f"# Bans each address in the fail2ban jail {jail_name!r} (it must exist).",
            "set -e",
        ]
        lines += [f"fail2ban-client set {jail_name} banip {ip}" for ip in all_ips]
    else:  # crowdsec
        if not _DURATION_RE.fullmatch(duration):
            raise ExportError(f"bad CrowdSec duration {duration!r} (e.g. 4h, 30m, 24h)")
        lines = ["duration,reason,scope,type,value"]
        lines += [f"{duration},threatlens,ip,ban,{ip}" for ip in all_ips]
    return "\n".join(lines) + "\n" if lines else ""


def write_blocklist(
    path: str | os.PathLike[str],
    ips: Iterable[str],
    fmt: str,
    *,
    overwrite: bool = False,
    **options: str,
) -> int:
    """Render and atomically write a block list; return the number of distinct addresses."""
    addrs = [str(a) for a in normalize_ips(ips)]
    text = render_blocklist(addrs, fmt, **options)

    def fill(fh: IO[bytes]) -> int:
        fh.write(text.encode("ascii"))
        return len(addrs)

    return atomic_write(path, fill, overwrite=overwrite)


# ---- names -------------------------------------------------------------------------------------
def default_export_name(kind: str, ext: str, when: datetime | None = None) -> str:
    """``threatlens-<kind>-YYYYmmdd-HHMMSS.<ext>``, e.g. ``threatlens-flagged-20261121-234501.log``."""
    moment = when if when is not None else datetime.now()
    safe_kind = re.sub(r"[^A-Za-z0-9_.-]+", "-", kind).strip("-.") or "export"
    safe_ext = re.sub(r"[^A-Za-z0-9]+", "", ext.lstrip(".")) or "txt"
    return f"threatlens-{safe_kind}-{moment:%Y%m%d-%H%M%S}.{safe_ext}"
