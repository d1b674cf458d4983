"""Seeded firewall-log traffic with ground truth: the internet's background plus known port scans.

The background is what a host firewall logs all day: single knocks (one to a few ports of 22, 23,
445, 3389, ... with SYN retransmissions, Mirai-style crafted SYNs among them), sources that come
back to knock again hours later, brute force on 22/3389, the ACK/FIN/RST stragglers of closed
connections and late UDP answers, and uptime monitors' pings. Scans are nmap-like: ``vertical``
(connect scan of many ports), ``syn`` (crafted SYN scan, ``-sS``), ``horizontal`` (one port across
the address block), ``slow`` (``-T0``/``-T1`` pacing, one probe every 15 s to 5 min) and the
stealth scans ``null``, ``fin``, ``xmas``. Lines are written as the kernel's LOG target writes them,
in the wrappers of ``threatlens.parsers.firewall`` (``STYLES``). Same seed, same lines.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

__all__ = ["SCAN_TYPES", "STYLES", "FirewallTraffic", "Packet", "format_lines", "format_packet"]

#: Scan types the generator knows (and the evaluation reports on).
SCAN_TYPES: tuple[str, ...] = ("vertical", "syn", "horizontal", "slow", "null", "fin", "xmas")
#: Line wrappers: ufw.log (RFC 3339, Ubuntu), ufw.log (classic syslog), journalctl -k -o short-iso,
#: journalctl -k -o json, nftables ``log prefix`` in kern.log, firewalld in /var/log/messages.
STYLES: tuple[str, ...] = ("ufw", "ufw_syslog", "journal", "journal_json", "nftables", "firewalld")

_KNOCK_PORTS: tuple[tuple[str, int, int], ...] = (  # (proto, port, weight)
    ("TCP", 22, 30), ("TCP", 23, 18), ("TCP", 445, 12), ("TCP", 3389, 8), ("TCP", 80, 4), ("TCP", 8080, 5),
    ("TCP", 443, 2), ("TCP", 2323, 4), ("TCP", 5555, 2), ("TCP", 1433, 2), ("TCP", 3306, 2), ("TCP", 6379, 2),
    ("TCP", 5900, 2), ("TCP", 25, 2), ("TCP", 21, 1), ("TCP", 8443, 1), ("TCP", 81, 1), ("TCP", 8888, 1),
    ("TCP", 9200, 1), ("TCP", 7547, 1), ("TCP", 37215, 1), ("TCP", 52869, 1), ("TCP", 2222, 1),
    ("UDP", 161, 1), ("UDP", 5060, 1), ("UDP", 1900, 1), ("UDP", 123, 1), ("UDP", 53, 1),
)
#: The start of nmap's frequency-ordered TCP port list (scans take a prefix, then random ports).
_NMAP_TOP = (
    80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993, 5900, 1025,
    587, 8888, 199, 1720, 465, 548, 113, 81, 6001, 10000, 514, 5060, 179, 1026, 2000, 8443, 8000, 32768, 554,
    26, 1433, 49152, 2001, 515, 8008, 49154, 1027, 5666, 646, 5000, 5631, 631, 49153, 8081, 2049, 88, 79, 5800,
    106, 2121, 1110, 49155, 6000, 513, 990, 5357, 427, 49156, 543, 544, 5101, 144, 7, 389, 8009, 3128, 444,
    9999, 5009, 7070, 5190, 3000, 5432, 1900, 3986, 13, 1029, 9, 5051, 6646, 49157, 1028, 873, 1755, 2717,
    4899, 9100, 119, 37,
)
_HOST = "web1"
_MAC = "52:54:00:12:34:56:fe:54:00:65:43:21:08:00"


@dataclass(frozen=True, slots=True)
class Packet:
    """One logged packet before formatting (``t`` in seconds since the epoch)."""

    t: float
    src: str
    dst: str
    proto: str
    sport: int | None
    dport: int | None
    flags: str | None
    length: int
    ttl: int
    window: int = 1024
    icmp_type: int | None = None
    action: str = "BLOCK"


def _flags_text(flags: str | None) -> str:
    return f"{flags} " if flags else ""


def _kernel_message(p: Packet, prefix: str, ident: int) -> str:
    head = (f"{prefix}IN=eth0 OUT= MAC={_MAC} SRC={p.src} DST={p.dst} LEN={p.length} TOS=0x00 PREC=0x00 "
            f"TTL={p.ttl} ID={ident} {'DF ' if p.length >= 52 else ''}")
    if p.proto == "TCP":
        return (f"{head}PROTO=TCP SPT={p.sport} DPT={p.dport} WINDOW={p.window} RES=0x00 "
                f"{_flags_text(p.flags)}URGP=0")
    if p.proto == "UDP":
        return f"{head}PROTO=UDP SPT={p.sport} DPT={p.dport} LEN={max(8, p.length - 20)}"
    return f"{head}PROTO=ICMP TYPE={p.icmp_type} CODE=0 ID={ident % 65536} SEQ=1"


def format_packet(p: Packet, style: str = "ufw", *, boot: float = 0.0, ident: int = 0) -> str:
    """One line in ``style`` (see ``STYLES``); ``boot`` is the epoch second the kernel's uptime counts from."""
    when = datetime.fromtimestamp(p.t, tz=UTC)
    uptime = f"[{max(0.0, p.t - boot):12.6f}] "
    if style in ("ufw", "ufw_syslog", "journal", "journal_json"):
        msg = _kernel_message(p, f"[UFW {p.action}] ", ident)
    elif style == "nftables":
        msg = _kernel_message(p, "nft-drop: " if p.action == "BLOCK" else "nft-accept: ", ident)
    elif style == "firewalld":
        msg = _kernel_message(p, "filter_IN_public_REJECT: " if p.action == "BLOCK" else "filter_IN_public_ALLOW: ",
                              ident)
    else:
        raise ValueError(f"unknown firewall log style {style!r}: use one of {', '.join(STYLES)}")
    if style == "ufw":
        return f"{when.isoformat(timespec='microseconds')} {_HOST} kernel: {uptime}{msg}"
    if style in ("ufw_syslog", "firewalld"):
        local = when.astimezone()  # classic syslog writes local time without a zone
        return f"{local:%b} {local.day:2d} {local:%H:%M:%S} {_HOST} kernel: {uptime}{msg}"
    if style == "journal":
        return f"{when:%Y-%m-%dT%H:%M:%S%z} {_HOST} kernel: {msg}"
    if style == "journal_json":
        return json.dumps({"__REALTIME_TIMESTAMP": str(round(p.t * 1e6)), "_HOSTNAME": _HOST,
                           "SYSLOG_IDENTIFIER": "kernel", "_TRANSPORT": "kernel",
                           "_SOURCE_MONOTONIC_TIMESTAMP": str(round(max(0.0, p.t - boot) * 1e6)),
                           "MESSAGE": msg}, separators=(",", ":"))
    return f"{when.isoformat(timespec='microseconds')} {_HOST} kernel: {uptime}{msg}"


class FirewallTraffic:
    """Builds seeded packet lists; ``labels`` maps every source IP to ``background`` or ``scan:TYPE``.

    ``dsts`` are the addresses the firewall protects (a host's one or two, or a block behind a
    gateway); knocks go to one of them (sometimes two or three), sweeps across them.
    """

    def __init__(self, seed: int, start: datetime, dsts: Iterable[str]) -> None:
        self.rng = random.Random(seed)
        self.t0 = start.timestamp()
        self.dsts = list(dsts)
        if not self.dsts:
            raise ValueError("at least one destination address")
        self.labels: dict[str, str] = {}
        self._ports, self._weights = zip(*(((proto, port), w) for proto, port, w in _KNOCK_PORTS), strict=True)

    # -- addresses -------------------------------------------------------------------------------

    def _new_ip(self, role: str) -> str:
        rng = self.rng
        while True:
            first = rng.choice((1, 2, 5, 14, 27, 31, 36, 37, 41, 45, 46, 58, 61, 77, 89, 91, 103, 106, 109, 111,
                                112, 117, 118, 119, 121, 122, 123, 125, 138, 141, 159, 162, 165, 167, 170, 175,
                                177, 179, 180, 181, 182, 183, 185, 186, 187, 190, 193, 194, 195, 196, 197, 200,
                                201, 210, 211, 212, 213, 218, 219, 220, 221, 222, 223))
            ip = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            if ip not in self.labels:
                self.labels[ip] = role
                return ip

    def _syn(self, t: float, src: str, dst: str, port: int, *, crafted: bool, proto: str = "TCP",
             action: str = "BLOCK") -> Packet:
        rng = self.rng
        if proto == "UDP":
            return Packet(t, src, dst, "UDP", rng.randrange(1024, 65536), port, None, rng.choice((48, 60, 120)),
                          rng.randrange(40, 250), action=action)
        length, window = (rng.choice((40, 44)), rng.choice((1024, 14600, 65535))) if crafted else (
            rng.choice((52, 60)), rng.choice((64240, 29200, 65535, 8192)))
        return Packet(t, src, dst, "TCP", rng.randrange(1024, 65536), port, "SYN", length, rng.randrange(30, 250),
                      window, action=action)

    # -- the background --------------------------------------------------------------------------

    def knock(self, t: float, returning: float = 0.05) -> list[Packet]:
        """One background source knocking from ``t``: one to a few ports (now and then up to 11).

        With retransmissions, and sometimes again hours later, on the same ports or on new ones.
        """
        rng = self.rng
        src = self._new_ip("background")
        crafted = rng.random() < 0.35  # Mirai and friends send raw SYNs
        roll = rng.random()
        n = 1 if roll < 0.65 else rng.randint(2, 3) if roll < 0.93 else rng.randint(4, 7) if roll < 0.98 else \
            rng.randint(8, 11)
        hosts = [rng.choice(self.dsts)] if rng.random() < 0.8 else rng.sample(self.dsts, min(3, len(self.dsts)))
        visits = 1 if rng.random() >= returning else rng.randint(2, 10)
        picked = self._pick_ports(n)
        out = []
        for _visit in range(visits):
            for proto, port in picked:
                t += rng.choice((0.0, rng.uniform(0, 5), rng.uniform(0, 600)))
                for dst in hosts:
                    for retry in (0.0, 1.0, 3.0)[: rng.randint(1, 3)]:
                        out.append(self._syn(t + retry, src, dst, port, crafted=crafted, proto=proto))
            t += rng.uniform(1800, 7200)
            if rng.random() < 0.5:  # a bot that comes back with other ports
                picked = self._pick_ports(rng.randint(1, 3))
        return out

    def _pick_ports(self, n: int) -> list[tuple[str, int]]:
        rng = self.rng
        picked = list(dict.fromkeys(rng.choices(self._ports, self._weights, k=n * 4)))
        while len(picked) < n:  # more than the weighted list gives: a few random high ports
            picked.append(("TCP", rng.randrange(1024, 65536)))
        return picked[:n]

    def background(self, duration: float = 86400.0, *, knockers: int = 3000, returning: float = 0.05,
                   brute: int = 20, strays: int = 3000, monitors: int = 4) -> list[Packet]:
        """A day (by default) of what the internet sends a firewall, with no scan in it."""
        rng = self.rng
        out: list[Packet] = []
        for _ in range(knockers):
            out.extend(self.knock(self.t0 + rng.uniform(0, duration), returning))
        for _ in range(brute):
            src = self._new_ip("background")
            port = rng.choice((22, 22, 22, 3389))
            t = self.t0 + rng.uniform(0, duration)
            dst = rng.choice(self.dsts)
            for _i in range(rng.randint(100, 2000)):
                t += rng.expovariate(1 / 2.0)
                out.append(self._syn(t, src, dst, port, crafted=False, action="LIMIT BLOCK"))
        for _ in range(strays):  # stragglers of closed connections, in both directions, and late DNS answers
            t = self.t0 + rng.uniform(0, duration)
            dst = rng.choice(self.dsts)
            kind = rng.random()
            if kind < 0.1:
                src = rng.choice(("8.8.8.8", "1.1.1.1", "9.9.9.9"))
                self.labels.setdefault(src, "background")
                out.append(Packet(t, src, dst, "UDP", 53, rng.randrange(32768, 61000), None, rng.randrange(60, 500),
                                  rng.randrange(50, 120)))
                continue
            src = self._new_ip("background")
            flags = rng.choice(("ACK FIN", "ACK RST", "RST", "ACK PSH FIN", "ACK"))
            if kind < 0.6:  # a client's late FIN/RST to the web server
                sport, dport = rng.randrange(1024, 65536), rng.choice((443, 443, 80))
            else:  # a server's late answer to one of our connections
                sport, dport = rng.choice((443, 80, 22)), rng.randrange(32768, 61000)
            for i in range(rng.randint(1, 4)):
                out.append(Packet(t + i * rng.uniform(0.2, 30), src, dst, "TCP", sport, dport, flags, 52,
                                  rng.randrange(40, 120), rng.randrange(200, 600)))
        for _ in range(monitors):
            src = self._new_ip("background")
            hosts = rng.sample(self.dsts, min(2, len(self.dsts)))
            t = self.t0 + rng.uniform(0, 60)
            while t < self.t0 + duration:
                out.extend(Packet(t, src, dst, "ICMP", None, None, None, 84, 55, icmp_type=8) for dst in hosts)
                t += 60.0
        return out

    # -- scans -----------------------------------------------------------------------------------

    def _scan_ports(self, n: int) -> list[int]:
        rng = self.rng
        ports = list(_NMAP_TOP[: min(n, len(_NMAP_TOP))])
        extra = set(ports)
        while len(ports) < n:
            p = rng.randrange(1, 65536)
            if p not in extra:
                extra.add(p)
                ports.append(p)
        rng.shuffle(ports)  # nmap randomises the order
        return ports

    def scan(self, kind: str, t: float | None = None, src: str | None = None, size: int | None = None) -> list[Packet]:
        """One scan of ``kind`` (see ``SCAN_TYPES``) starting at ``t`` (epoch seconds; default: random in the day).

        ``size`` fixes the number of ports (hosts for a horizontal sweep); by default it varies, down
        to below the detection thresholds.
        """
        rng = self.rng
        if kind not in SCAN_TYPES:
            raise ValueError(f"unknown scan type {kind!r}")
        src = src or self._new_ip(f"scan:{kind}")
        self.labels[src] = f"scan:{kind}"
        t = self.t0 + rng.uniform(0, 80000) if t is None else t
        out: list[Packet] = []
        if kind == "horizontal":
            proto, port = rng.choice((("TCP", 445), ("TCP", 22), ("TCP", 3389), ("TCP", 23), ("TCP", 6379),
                                      ("UDP", 161)))
            crafted = rng.random() < 0.5
            hosts = rng.sample(self.dsts, min(size or rng.randint(min(6, len(self.dsts)), len(self.dsts)),
                                              len(self.dsts)))
            for dst in hosts:
                t += rng.uniform(0.01, 2.0)
                out.append(self._syn(t, src, dst, port, crafted=crafted, proto=proto))
            return out
        dst = rng.choice(self.dsts)
        if kind == "slow":
            gap = rng.choice((15.0, 60.0, 300.0))  # nmap -T1, a patient script, nmap -T0
            for port in self._scan_ports(size or rng.randint(8, 40)):
                t += gap * rng.uniform(0.8, 1.2)
                out.append(self._syn(t, src, dst, port, crafted=rng.random() < 0.5))
            return out
        # log-uniform sizes, down to below the thresholds: 10-1000 ports (SYN), 2-300 (stealth)
        n = size or (round(math.exp(rng.uniform(math.log(10), math.log(1000)))) if kind in ("vertical", "syn") else
                     round(math.exp(rng.uniform(math.log(2), math.log(300)))))
        gap = rng.uniform(0.002, 0.2)
        flags = {"null": "", "fin": "FIN", "xmas": "URG PSH FIN"}.get(kind, "SYN")
        for port in self._scan_ports(n):
            t += gap * rng.uniform(0.5, 1.5)
            packet = self._syn(t, src, dst, port, crafted=kind != "vertical")
            if kind not in ("vertical", "syn"):
                packet = replace(packet, flags=flags, length=40, window=1024)
            out.append(packet)
            if rng.random() < 0.05:  # a retransmission
                out.append(replace(packet, t=t + 1.0))
        return out


def format_lines(packets: Iterable[Packet], style: str = "ufw", *, boot: float | None = None) -> Iterator[str]:
    """Format packets in time order (``boot``: when the kernel's uptime starts; default a day earlier)."""
    ordered = sorted(packets, key=lambda p: p.t)
    if boot is None:
        boot = (ordered[0].t if ordered else 0.0) - timedelta(days=1).total_seconds()
    for i, p in enumerate(ordered):
        yield format_packet(p, style, boot=boot, ident=(i * 7919) % 65536)


#: Scans the companion log gives the access log's attackers, in order of their first request.
_COMPANION_SCANS = ("syn", "vertical", "null", "fin")
_SCANNING_ROLES = ("attacker:scanner", "attacker:sqli", "attacker:xss", "attacker:path_traversal",
                   "attacker:cmd_injection")


def companion(seed: int, n_lines: int, start: datetime, rate: float = 2.0, *, attack_share: float = 0.05,
              style: str = "ufw") -> tuple[list[str], dict[str, str]]:
    """The firewall log of the host that served ``generate(n_lines, seed=seed, start=start, rate=rate)``.

    Over the access log's time span (from ten minutes before it): the internet's background, the
    first SYN to 443 of about a third of the web clients (allowed), a few of the access log's
    attackers scanning ports two to six minutes before their first request (so the monitor shows
    "port scan, then N probes"), and a slow scan. Returns the lines and ``ip -> role`` labels
    (``background``, ``client``, ``scan:TYPE``; attackers keep their access-log role after a ``;``).
    """
    from threatlens.samplegen.traffic import Traffic

    first: dict[str, tuple[float, str]] = {}
    last_t = 0.0
    for ev in Traffic(seed, rate, attack_share).events(n_lines):
        first.setdefault(ev.ip, (ev.t, ev.role))
        last_t = ev.t
    t0 = start.timestamp()
    lead = 600.0
    host = ("198.51.100.10",)
    traffic = FirewallTraffic(seed + 1000, datetime.fromtimestamp(t0 - lead, tz=UTC), host)
    span = last_t + lead
    day = span / 86400
    packets = traffic.background(span, knockers=max(20, round(3000 * day)), brute=0, strays=max(10, round(1000 * day)),
                                 monitors=1)
    rng = traffic.rng
    scanned = 0
    for ip, (t, role) in sorted(first.items(), key=lambda kv: kv[1][0]):
        if role in _SCANNING_ROLES and ":" not in ip and scanned < len(_COMPANION_SCANS):
            kind = _COMPANION_SCANS[scanned]
            scanned += 1
            packets.extend(traffic.scan(kind, t0 + t - rng.uniform(120, 360), ip, size=rng.randint(30, 60)))
            traffic.labels[ip] = f"scan:{kind};{role}"
        elif role == "benign" and ":" not in ip and rng.random() < 0.3:
            packets.append(traffic._syn(t0 + t - 0.05, ip, host[0], 443, crafted=False, action="ALLOW"))
            traffic.labels.setdefault(ip, "client")
    packets.extend(traffic.scan("slow", t0 + rng.uniform(0, max(1.0, last_t / 3))))
    return list(format_lines(packets, style, boot=t0 - 86400 * 3)), traffic.labels


def live_packets(seed: int, clock: float, *, knocks_per_minute: float = 20.0,
                 scan_every: float = 90.0) -> Iterator[Packet]:
    """Endless packets in time order from ``clock`` on: one-packet knocks, and a scan now and then.

    Knocks come at ``knocks_per_minute``; a scan of 40-120 ports about every ``scan_every`` seconds.
    """
    start = datetime.fromtimestamp(clock, tz=UTC)
    traffic = FirewallTraffic(seed, start, ("198.51.100.10",))
    rng = traffic.rng
    t = clock
    next_scan = clock + 20.0
    kinds = ("syn", "vertical", "xmas", "fin", "null")
    n = 0
    while True:
        if t >= next_scan:
            probes = sorted(traffic.scan(kinds[n % len(kinds)], t, size=rng.randint(40, 120)), key=lambda p: p.t)
            n += 1
            next_scan = t + scan_every * rng.uniform(0.7, 1.3)
            yield from probes
            t = probes[-1].t
            continue
        t += rng.expovariate(knocks_per_minute / 60.0)
        proto, port = traffic._pick_ports(1)[0]
        yield traffic._syn(t, traffic._new_ip("background"), traffic.dsts[0], port, crafted=rng.random() < 0.35,
                           proto=proto)
