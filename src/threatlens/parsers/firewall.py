r"""Kernel firewall log lines (netfilter ``LOG`` / nftables ``log``): ufw, iptables, nftables, firewalld.

The kernel writes one line per logged packet: the rule's prefix, then ``IN=… OUT=… SRC=… DST=…
PROTO=TCP SPT=… DPT=… … SYN …``. Those lines reach disk in several wrappers, all accepted per line:

* syslog files (``/var/log/ufw.log``, ``kern.log``, ``messages``), with a classic ``Nov 27 06:25:01
  host kernel:`` or an RFC 3339 ``2026-11-27T06:25:01.123456+00:00 host kernel:`` header;
* ``journalctl -k -o short-iso`` / ``-o short`` / ``-o short-precise``, and ``-o json`` objects;
* ``dmesg`` (``[ 1234.567890] …``, or ``--time-format iso``) and ``/dev/kmsg`` records
  (``4,1234,5678901234,-;…``): these carry the kernel's seconds since boot as ``uptime``.

A syslog timestamp has no year: the parser takes the year that puts it at most a day in the future
of ``today`` (the current date unless given), and reads it in the local time zone.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from threatlens.parsers.base import LineParser, decode, describe_garbage, precheck
from threatlens.parsers.fields import FieldError, IpValidator
from threatlens.parsers.record import RawLine, Unparsed
from threatlens.parsers.timeparse import MONTHS, parse_iso

__all__ = ["TCP_FLAGS", "FirewallParser", "FirewallRecord", "action_of"]

#: TCP flag words in the order the kernel prints them.
TCP_FLAGS: tuple[str, ...] = ("CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN")
_BLOCK_WORDS = ("BLOCK", "DROP", "REJECT", "DENY", "DENIED")
_ALLOW_WORDS = ("ALLOW", "ACCEPT", "PASS")
_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?"
_BSD = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,9})?"
#: Optional wrapper before the kernel message: a timestamp, then optionally ``host ident:``.
_HEADER = re.compile(rf"(?:({_ISO})|({_BSD}))(?: ++(\S++) ++([\w./@-]{{1,64}}+(?:\[\d{{1,10}}\])?):)? ?")
_KMSG = re.compile(r"\d{1,3},\d{1,20},(\d{1,20}),[^;]{0,64};")
_UPTIME = re.compile(r" *\[ *(\d{1,10}\.\d{1,9})\] ?")
#: The prefix is whatever the rule put before ``IN=`` (iptables allows 29 bytes, nftables 127).
#: Interface names are at most 15 bytes (IFNAMSIZ): bounded, so a hostile line costs at most 160 x 20 steps.
_MESSAGE = re.compile(r"(.{0,160}?)IN=(\S{0,20}+) OUT=(\S{0,20}+)(?: |$)")
_FLAG_SET = frozenset(TCP_FLAGS)
_CACHE_MAX = 50_000


class FirewallRecord(NamedTuple):
    """One logged packet: immutable, slotted (a tuple, like ``LogRecord``), typed.

    Fields the line did not carry are ``None``.

    ``action`` is read from the prefix: ``block`` (BLOCK/DROP/REJECT/DENY), ``allow``
    (ALLOW/ACCEPT/PASS), ``audit``, else ``log``. ``tcp_flags`` lists the TCP flags set, in the
    kernel's order (``"SYN"``, ``"ACK FIN"``; ``""`` is a packet with none, a NULL probe); ``None``
    for other protocols; ``icmp_type`` is the ICMP type (8 echo request; ICMPv6 128). ``time`` is
    wall-clock time; ``uptime`` the kernel's seconds since boot (dmesg, /dev/kmsg, journal).
    ``raw``, ``file``, ``line`` and ``offset`` are as in ``LogRecord``.
    """

    time: datetime | None
    uptime: float | None
    host: str | None
    prefix: str
    action: str
    in_iface: str | None
    out_iface: str | None
    src: str
    dst: str
    proto: str | None
    sport: int | None
    dport: int | None
    tcp_flags: str | None
    icmp_type: int | None
    length: int | None
    ttl: int | None
    raw: bytes
    file: str
    line: int
    offset: int

    @property
    def ip(self) -> str:
        """The source address (the client, as ``LogRecord.ip``)."""
        return self.src

    @property
    def seconds(self) -> float | None:
        """Log time in seconds: wall clock when known, else the kernel's uptime."""
        return self.time.timestamp() if self.time is not None else self.uptime


def action_of(prefix: str) -> str:
    """``block``, ``allow``, ``audit`` or ``log``, from the words of a log prefix."""
    upper = prefix.upper()
    if any(word in upper for word in _BLOCK_WORDS):
        return "block"
    if any(word in upper for word in _ALLOW_WORDS):
        return "allow"
    return "audit" if "AUDIT" in upper else "log"


def _value(text: str, key: str) -> str | None:
    """The value after the first ``key`` (`` SRC=``) up to the next space, or None."""
    start = text.find(key)
    if start < 0:
        return None
    start += len(key)
    end = text.find(" ", start)
    return text[start:end] if end >= 0 else text[start:]


def _tcp_flags(text: str) -> str:
    """The flag words the kernel prints between ``RES=0x00`` and ``URGP=`` (or after ``WINDOW=``)."""
    start = text.find(" RES=")
    if start < 0:
        start = text.find(" WINDOW=")
    end = text.find(" URGP=", start)
    words = text[start + 1:end if end >= 0 else None].split()[1:] if start >= 0 else []
    return " ".join(w for w in words if w in _FLAG_SET)


def _port(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise FieldError(f"bad port {text[:20]!r}")
    return int(text)


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else None


class FirewallParser(LineParser):
    """Parses kernel firewall log lines in any of the wrappers above (see the module docstring)."""

    name = "firewall"
    description = "kernel firewall log (ufw, iptables/nftables LOG, firewalld; syslog, journalctl, dmesg)"
    specificity = 20

    def __init__(self, *, today: date | None = None) -> None:
        self.today = today
        self._ip = IpValidator()
        self._times: dict[str, datetime] = {}
        self._prefixes: dict[str, tuple[str, str]] = {}

    def parse_raw(self, raw: RawLine) -> FirewallRecord | Unparsed:  # type: ignore[override]
        """Parse one line; never raises."""
        data = raw.data
        problem = precheck(data, self.max_bytes)
        if problem is not None:
            return Unparsed(data, problem, raw.file, raw.line, raw.offset)
        try:
            text = decode(data)
            if text[:1] == "{":
                return self._journal_json(text, raw)
            return self._line(text, raw)
        except FieldError as exc:
            return Unparsed(data, describe_garbage(data) or str(exc), raw.file, raw.line, raw.offset)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            return Unparsed(data, f"bad field value: {exc}"[:200], raw.file, raw.line, raw.offset)

    def looks_like_kernel_log(self, data: bytes) -> bool:
        """Whether a line is a kernel log line (kern.log, journalctl -k, dmesg), with or without a packet."""
        text = decode(data[:300])
        if (m := _HEADER.match(text)) is not None:
            return m.group(4) == "kernel" or _UPTIME.match(text, m.end()) is not None
        return bool(_KMSG.match(text) or _UPTIME.match(text)
                    or (text.startswith("{") and '"SYSLOG_IDENTIFIER":"kernel"' in text.replace(" ", "")))

    # -- wrappers --------------------------------------------------------------------------------

    def _line(self, text: str, raw: RawLine) -> FirewallRecord:
        when: datetime | None = None
        host: str | None = None
        uptime: float | None = None
        pos = 0
        if (m := _KMSG.match(text)) is not None:
            uptime = int(m.group(1)) / 1e6
            pos = m.end()
        elif (m := _HEADER.match(text)) is not None:
            iso, bsd, host = m.group(1), m.group(2), m.group(3)
            when = self._iso(iso) if iso else self._bsd(bsd)
            pos = m.end()
        if (u := _UPTIME.match(text, pos)) is not None:
            uptime = float(u.group(1))
            pos = u.end()
        return self._message(text[pos:], when, uptime, host, raw)

    def _journal_json(self, text: str, raw: RawLine) -> FirewallRecord:
        obj = json.loads(text)
        if not isinstance(obj, dict):
            raise FieldError("not a JSON object")
        message = obj.get("MESSAGE")
        if isinstance(message, list):  # journald writes non-UTF-8 messages as a list of bytes
            message = decode(bytes(int(b) & 0xFF for b in message[:65536]))
        if not isinstance(message, str):
            raise FieldError("journal JSON object without a MESSAGE")
        when = None
        realtime = obj.get("__REALTIME_TIMESTAMP")
        if isinstance(realtime, str) and realtime.isdigit():
            when = datetime.fromtimestamp(int(realtime) / 1e6, tz=UTC)
        uptime = None
        mono = obj.get("_SOURCE_MONOTONIC_TIMESTAMP")
        if isinstance(mono, str) and mono.isdigit():
            uptime = int(mono) / 1e6
        host = obj.get("_HOSTNAME")
        return self._message(message, when, uptime, host if isinstance(host, str) else None, raw)

    # -- the kernel message ----------------------------------------------------------------------

    def _message(self, msg: str, when: datetime | None, uptime: float | None, host: str | None,
                 raw: RawLine) -> FirewallRecord:
        m = _MESSAGE.match(msg)
        if m is None:
            raise FieldError("no firewall entry (IN=… OUT=…) in this line")
        prefix_text = m.group(1)
        known = self._prefixes.get(prefix_text)
        if known is None:
            stripped = prefix_text.strip()
            known = (stripped, action_of(stripped))
            if len(self._prefixes) < 1024:
                self._prefixes[prefix_text] = known
        # an ICMP error quotes the packet it answers in brackets: not this packet's fields
        rest = " " + msg[m.end():].partition("[")[0]
        src, dst = _value(rest, " SRC="), _value(rest, " DST=")
        if src is None or dst is None:
            raise FieldError("firewall entry without SRC= and DST= addresses")
        proto = _value(rest, " PROTO=")
        return FirewallRecord(
            time=when,
            uptime=uptime,
            host=host,
            prefix=known[0],
            action=known[1],
            in_iface=m.group(2) or None,
            out_iface=m.group(3) or None,
            src=self._address(src),
            dst=self._address(dst),
            proto=proto,
            sport=_port(_value(rest, " SPT=")),
            dport=_port(_value(rest, " DPT=")),
            tcp_flags=_tcp_flags(rest) if proto == "TCP" else None,
            icmp_type=_number(_value(rest, " TYPE=")) if proto is not None and proto.startswith("ICMP") else None,
            length=_number(_value(rest, " LEN=")),  # the first LEN is the IP packet's (UDP repeats one)
            ttl=_number(_value(rest, " TTL=") or _value(rest, " HOPLIMIT=")),
            raw=raw.data,
            file=raw.file,
            line=raw.line,
            offset=raw.offset,
        )

    def _address(self, text: str) -> str:
        try:
            value = self._ip(text)
        except FieldError:
            raise FieldError(f"firewall address is not an IP address: {text[:60]!r}") from None
        if value is None:
            raise FieldError("firewall entry with an empty address")
        return value

    # -- timestamps ------------------------------------------------------------------------------

    def _iso(self, text: str) -> datetime:
        value = self._times.get(text)
        if value is None:
            value = parse_iso(text.replace(",", "."))
            self._remember(text, value)
        return value

    def _bsd(self, text: str) -> datetime:
        value = self._times.get(text)
        if value is None:
            month = MONTHS.get(text[:3])
            if month is None:
                raise FieldError(f"bad month in {text!r}")
            day = int(text[4:6])
            clock, _, fraction = text[7:].partition(".")
            hh, mm, ss = (int(x) for x in clock.split(":"))
            micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
            today = self.today or date.today()
            year = today.year
            if date(year, month, min(day, 28)) > today + timedelta(days=1):
                year -= 1  # December's lines read in January
            value = datetime(year, month, day, hh, mm, ss, micro).astimezone()
            self._remember(text, value)
        return value

    def _remember(self, text: str, value: datetime) -> None:
        if len(self._times) >= _CACHE_MAX:
            self._times.clear()
        self._times[text] = value

