"""Exports: original lines, JSON lines, CSV, and IP block lists for firewalls and ban tools.

Every write is atomic (temporary file in the target directory, fsync, then a rename) and never
replaces an existing file unless ``overwrite=True``: otherwise ``FileExistsError``. Each writer
returns how many items it wrote. Addresses going into a block list are validated and normalised
with :mod:`ipaddress` first; anything else raises ``ExportError`` (they come from log data).
"""

from __future__ import annotations

import contextlib
import csv
import io
import ipaddress
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Self

from threatlens.errors import ExportError
from threatlens.models.verdict import Alert
from threatlens.serialize import REQUEST_COLUMNS, json_line
from threatlens.textsafe import visible

__all__ = [
    "BLOCKLIST_EXTENSIONS",
    "BLOCKLIST_FORMATS",
    "CSV_COLUMNS",
    "EXPORT_FORMATS",
    "AtomicFile",
    "ExportStream",
    "alert_block_ips",
    "atomic_write",
    "csv_safe",
    "default_export_name",
    "normalize_ips",
    "render_blocklist",
    "writable_target",
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


def writable_target(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The file to write for ``path``, checked before any work is done.

    Raises ``FileExistsError`` for an existing file without ``overwrite``, and ``ExportError`` for
    a target that is not a regular file (device, FIFO, directory, socket; a symbolic link is
    followed and its target must be a regular file) or a directory that is missing or read-only.
    """
    target = Path(path)
    try:
        st: os.stat_result | None = os.stat(target)  # follows a symbolic link
    except FileNotFoundError:
        if target.is_symlink():
            raise ExportError(f"{path} is a symbolic link to a missing file: choose another name") from None
        st = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise ExportError(f"{path} is {_kind(st.st_mode)}, not a regular file: choose another name")
        if not overwrite:
            raise FileExistsError(17, "refusing to overwrite existing file", str(path))
        target = Path(os.path.realpath(target))
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ExportError(f"cannot write {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: directory {directory} is not writable")
    return target


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


class _CommitOnExit:
    """``with`` commits when the block ends normally and aborts when it raises."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def commit(self) -> Any:  # pragma: no cover - defined by subclasses
        """Finish the write."""
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - defined by subclasses
        """Undo the write."""
        raise NotImplementedError


class AtomicFile(_CommitOnExit):
    """A file written under a hidden temporary name beside its target; ``commit()`` puts it in place.

    Without ``overwrite`` the final step is a hard link, which never replaces a file that appeared
    meanwhile (``FileExistsError``). ``abort()`` (or an exception inside ``with``) removes the
    temporary file. Errors name the target, not the temporary file.
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.path = str(path)
        self.overwrite = overwrite
        self.target = writable_target(path, overwrite=overwrite)
        self.directory = self.target.parent if str(self.target.parent) else Path(".")
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.directory)
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def commit(self) -> None:
        """Flush, sync and move the file into place (atomically)."""
        tmp, target = self.tmp, self.target
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(tmp, 0o666 & ~_umask())
            if self.overwrite:
                writable_target(target, overwrite=True)  # still a regular file (or absent)
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    raise
                except OSError:  # file system without hard links: re-check, then rename
                    if target.exists():
                        raise FileExistsError(17, "refusing to overwrite existing file", self.path) from None
                    os.replace(tmp, target)
                else:
                    os.unlink(tmp)
        except FileExistsError:
            self.abort()
            raise
        except OSError as exc:
            self.abort()
            raise ExportError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            self.abort()
            raise
        _fsync_dir(self.directory)

    def abort(self) -> None:
        """Close and remove the temporary file."""
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


def atomic_write(path: str | os.PathLike[str], fill: Callable[[IO[bytes]], int], *, overwrite: bool = False) -> int:
    """Write ``path`` atomically with ``fill(binary_file) -> count``; return the count (see ``AtomicFile``)."""
    with AtomicFile(path, overwrite=overwrite) as out:
        try:
            return fill(out.file)
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


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
class ExportStream(_CommitOnExit):
    """A request export written as it goes: ``add()`` one item, ``commit()`` puts the file in place.

    Items are the original line (``bytes``) for ``raw``, a row dict for ``jsonl`` and ``csv``.
    Nothing is held in memory; until ``commit()`` the rows sit in the hidden temporary file.
    """

    def __init__(self, path: str | os.PathLike[str], fmt: str, *, columns: Sequence[str] = CSV_COLUMNS,
                 overwrite: bool = False) -> None:
        if fmt not in EXPORT_FORMATS:
            raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
        self.path = str(path)
        self.fmt = fmt
        self.columns = tuple(columns)
        self.count = 0
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        self.out = AtomicFile(path, overwrite=overwrite)
        if fmt == "csv":
            self._csv_row(self.columns)

    def _csv_row(self, cells: Sequence[str]) -> None:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._csv.writerow(cells)
        self._write(buffer.getvalue().encode("utf-8", "backslashreplace"))

    def _write(self, data: bytes) -> None:
        try:
            self.out.file.write(data)
        except OSError as exc:
            raise ExportError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def add(self, item: bytes | Mapping[str, Any]) -> None:
        """Append one line (raw) or row (jsonl, csv)."""
        if self.fmt == "raw":
            self._write(bytes(item) + b"\n")  # type: ignore[arg-type]
        elif self.fmt == "jsonl":
            self._write(json_line(item).encode("utf-8", "backslashreplace") + b"\n")
        else:
            row: Mapping[str, Any] = item  # type: ignore[assignment]
            self._csv_row([csv_safe(row.get(c)) for c in self.columns])
        self.count += 1

    def commit(self) -> int:
        """Put the file in place; return the number of items."""
        self.out.commit()
        return self.count

    def abort(self) -> None:
        """Drop the temporary file."""
        self.out.abort()


def _write_all(path: str | os.PathLike[str], fmt: str, items: Iterable[Any], columns: Sequence[str] = CSV_COLUMNS,
               overwrite: bool = False) -> int:
    with ExportStream(path, fmt, columns=columns, overwrite=overwrite) as stream:
        for item in items:
            stream.add(item)
    return stream.count


def write_raw(path: str | os.PathLike[str], raws: Iterable[bytes], *, overwrite: bool = False) -> int:
    r"""Write the original log lines byte for byte, each followed by ``\n``."""
    return _write_all(path, "raw", raws, overwrite=overwrite)


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], *, overwrite: bool = False) -> int:
    r"""Write one JSON object per line (UTF-8; undecodable characters kept as ``\udcXX`` escapes)."""
    return _write_all(path, "jsonl", rows, overwrite=overwrite)


def csv_safe(value: Any) -> str:
    """One CSV cell: lists joined with ``;``, ``None`` empty, formula-looking text defused with ``'``.

    Text goes through :func:`~threatlens.textsafe.visible`: a spreadsheet cell must not hide tag
    characters, bidi overrides or control characters any more than the terminal table does (``raw`` and
    ``jsonl`` keep them exact).
    """
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
    text = visible(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(
    path: str | os.PathLike[str],
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str] = CSV_COLUMNS,
    *,
    overwrite: bool = False,
) -> int:
    """Write a header and one row per dict (missing keys empty, extra keys ignored); return rows."""
    return _write_all(path, "csv", rows, columns, overwrite=overwrite)


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


#: Addresses left out of block lists unless ``include_private``: blocking them behind a reverse
#: proxy or on a LAN blocks the proxy or the network itself.
_LOCAL = ("loopback", "private", "link-local")
#: Private networks (RFC 1918, carrier-grade NAT, IPv6 unique local). ``ipaddress``'s ``is_private``
#: also covers the documentation and benchmark ranges, which are not the local side of anything.
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                                    "fc00::/7"))


def unblockable(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``addr`` should not go into a block list (``None``: it may).

    ``unspecified``, ``multicast``, ``broadcast`` and ``reserved`` are never a client; ``loopback``,
    ``private`` and ``link-local`` are the local side (see ``include_private``).
    """
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_multicast:
        return "multicast"
    if isinstance(addr, ipaddress.IPv4Address) and addr == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if any(addr in net for net in _PRIVATE if net.version == addr.version):
        return "private"
    if addr.is_reserved:
        return "reserved"
    return None


def blockable(ips: Iterable[str], *, include_private: bool = False) -> tuple[list[str], dict[str, int]]:
    """``(addresses to block, {reason: how many were left out})``; addresses normalised and sorted."""
    keep: list[str] = []
    left: dict[str, int] = {}
    for addr in normalize_ips(ips):
        why = unblockable(addr)
        if why is None or (include_private and why in _LOCAL):
            keep.append(str(addr))
        else:
            left[why] = left.get(why, 0) + 1
    return keep, left


def left_out_notice(left: Mapping[str, int]) -> str:
    """One line for the user about addresses a block list left out (``""`` when none were)."""
    if not left:
        return ""
    parts = ", ".join(f"{n} {why}" for why, n in sorted(left.items()))
    hint = " (scan --include-private keeps loopback, private and link-local)" if set(left) & set(_LOCAL) else ""
    return f"left out of the block list: {parts}{hint}"


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
        lines = [
            *head,
            "# Include in an http, server or location block: include /path/to/this.conf;",
            "# deny does nothing for a request answered by 'return' (in its location or server block):",
            "# return runs in the rewrite phase, before the access phase where deny is checked.",
        ]
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
    include_private: bool = False,
    **options: str,
) -> int:
    """Render and atomically write a block list; return the number of distinct addresses written.

    Addresses that are never a client, and unless ``include_private`` the local ones, are left out
    (``blockable``; ``left_out_notice`` says which).
    """
    addrs, _left = blockable(ips, include_private=include_private)
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
