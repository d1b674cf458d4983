"""Simulated traffic: browsing sessions, crawlers, monitors and attack episodes, merged in time order.

Every actor is a generator of :class:`Event` in non-decreasing time; a heap merges them. One
``random.Random(seed)`` drives everything and actors are advanced in a fixed order, so the
output is a pure function of the seed and the parameters.
"""

from __future__ import annotations

import heapq
import ipaddress
import random
import zlib
from collections.abc import Iterator

from threatlens.samplegen import vocab
from threatlens.samplegen.events import Event, Request

#: Ground-truth roles written to the labels file.
BENIGN_ROLES = ("benign", "crawler", "monitor")
ATTACK_KINDS = (
    "scanner",
    "sqli",
    "xss",
    "path_traversal",
    "cmd_injection",
    "brute_force",
    "bad_bot",
    "ua_switching",
)
#: (min, max) lines of one episode at full scale (a 5,000-line planning chunk).
_EPISODE_SIZES = {
    "scanner": (20, 60),
    "sqli": (15, 45),
    "xss": (8, 25),
    "path_traversal": (8, 25),
    "cmd_injection": (5, 15),
    "brute_force": (20, 60),
    "bad_bot": (30, 80),
    "ua_switching": (10, 30),
}
_SENSITIVE_MARKERS = (
    ".env",
    ".git",
    ".aws",
    "backup",
    ".sql",
    ".bak",
    ".ssh",
    ".htaccess",
    "config",
    ".DS_Store",
    ".svn",
    "docker-compose",
    "sftp.json",
)
#: Mean lines of a human browsing session and a crawler visit (measured; used to pace arrivals).
_LINES_PER_SESSION = 11.3
_LINES_PER_CRAWL = 9.0
_CRAWLER_SHARE = 0.08


def _size_of(target: str, lo: int, hi: int) -> int:
    """A stable response size for a resource (same URL, same size), without Python's salted hash."""
    return lo + zlib.crc32(target.encode()) % (hi - lo)


class Traffic:
    """The simulation; iterate :meth:`events`, then read :attr:`labels` (ip -> role)."""

    def __init__(
        self, seed: int = 0, rate: float = 2.0, attack_share: float = 0.05, chunk_lines: int = 5000
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if not 0 <= attack_share < 0.5:
            raise ValueError("attack_share must be in [0, 0.5)")
        self.rng = random.Random(seed)
        self.rate = rate
        self.attack_share = attack_share
        self.chunk_lines = chunk_lines
        self.labels: dict[str, str] = {}
        self._pool: list[str] = []
        self._ua_of: dict[str, str] = {}

    # ---- addresses -------------------------------------------------------------------------
    def _public_ip(self, v6_share: float = 0.12) -> str:
        rng = self.rng
        while True:
            if rng.random() < v6_share:
                prefix = rng.choice(vocab.IPV6_PREFIXES)
                groups = [f"{rng.getrandbits(16):x}" for _ in range(2)]
                host = rng.choice(
                    (
                        "::1",
                        f"::{rng.getrandbits(16):x}",
                        f":{rng.getrandbits(16):x}:{rng.getrandbits(16):x}:"
                        f"{rng.getrandbits(16):x}:{rng.getrandbits(16):x}",
                    )
                )
                text = f"{prefix}:{groups[0]}:{groups[1]}{host}"
            else:
                text = str(ipaddress.IPv4Address(rng.getrandbits(32)))
            addr = ipaddress.ip_address(text)
            if addr.is_global and not addr.is_multicast:
                text = str(addr)
                if text not in self.labels:
                    return text

    def _claim(self, ip: str, role: str) -> str:
        self.labels.setdefault(ip, role)
        return ip

    # ---- the merge loop --------------------------------------------------------------------
    def events(self, n_lines: int | None = None) -> Iterator[Event]:
        """Yield ``n_lines`` events in time order (forever if ``None``); ``t`` is seconds from start."""
        rng = self.rng
        heap: list[tuple[float, int, Event, Iterator[Event]]] = []
        seq = 0

        def start(gen: Iterator[Event]) -> None:
            nonlocal seq
            ev = next(gen, None)
            if ev is not None:
                seq += 1
                heapq.heappush(heap, (ev.t, seq, ev, gen))

        for i, mon in enumerate(vocab.MONITORS):
            start(self._monitor(mon, phase=rng.uniform(0, mon[4]), index=i))
        benign_rate = self.rate * (1.0 - self.attack_share)
        session_gap = _LINES_PER_SESSION / (benign_rate * (1 - _CRAWLER_SHARE))
        crawl_gap = _LINES_PER_CRAWL / (benign_rate * _CRAWLER_SHARE)
        next_session = rng.expovariate(1 / session_gap) * 0.2
        next_crawl = rng.expovariate(1 / crawl_gap)
        emitted = 0
        next_plan = 0
        chunk = self.chunk_lines if n_lines is None else min(self.chunk_lines, max(n_lines, 1))
        now = 0.0
        while n_lines is None or emitted < n_lines:
            if emitted >= next_plan:
                lines = chunk if n_lines is None else min(chunk, n_lines - emitted)
                for gen in self._plan_chunk(now, lines, first=emitted == 0):
                    start(gen)
                next_plan += chunk
            # Start every actor due before the next event, then emit the earliest event.
            horizon = heap[0][0] if heap else min(next_session, next_crawl)
            while next_session <= horizon or next_crawl <= horizon:
                if next_session <= next_crawl:
                    start(self._human(next_session))
                    next_session += rng.expovariate(1 / session_gap)
                else:
                    start(self._crawler(next_crawl))
                    next_crawl += rng.expovariate(1 / crawl_gap)
                horizon = heap[0][0]
            _, _, ev, gen = heapq.heappop(heap)
            now = ev.t
            emitted += 1
            yield ev
            start(gen)

    # ---- benign actors ---------------------------------------------------------------------
    def _monitor(self, mon: tuple[str, str, str, str, float], phase: float, index: int) -> Iterator[Event]:
        ip, ua, method, path, period = mon
        self._claim(ip, "monitor")
        t = phase
        port = 40000 + index
        while True:
            size = 0 if method == "HEAD" else 2
            yield Event(
                t,
                ip,
                "monitor",
                None,
                Request(
                    method,
                    path,
                    200,
                    size,
                    None,
                    ua,
                    "HTTP/1.1",
                    vocab.SITE_HOST,
                    80 if ip.startswith("10.") else 443,
                    port,
                    0.0008,
                ),
            )
            t += period

    def _crawler(self, t: float) -> Iterator[Event]:
        rng = self.rng
        ua, prefixes = rng.choice(vocab.CRAWLERS)
        ip = f"{rng.choice(prefixes)}{rng.randint(1, 254)}"
        while self.labels.get(ip, "crawler") != "crawler":
            ip = f"{rng.choice(prefixes)}{rng.randint(1, 254)}"
        self._claim(ip, "crawler")
        port = rng.randint(30000, 65000)
        pages = int(rng.expovariate(1 / (_LINES_PER_CRAWL - 1))) + 1
        if rng.random() < 0.3:
            yield Event(
                t,
                ip,
                "crawler",
                None,
                Request("GET", "/robots.txt", 200, 213, None, ua, "HTTP/1.1", port=443, client_port=port),
            )
            t += rng.uniform(0.5, 5)
        for _ in range(pages):
            target, status, size = self._page_choice(crawler=True)
            yield Event(
                t,
                ip,
                "crawler",
                None,
                Request(
                    "GET",
                    target,
                    status,
                    size,
                    None,
                    ua,
                    "HTTP/1.1",
                    client_port=port,
                    duration=rng.uniform(0.02, 0.3),
                ),
            )
            t += rng.expovariate(1 / 6.0) + 0.5

    def _benign_ip(self) -> str:
        rng = self.rng
        if self._pool and rng.random() < 0.45:
            return rng.choice(self._pool)
        ip = self._claim(self._public_ip(), "benign")
        self._pool.append(ip)
        self._ua_of[ip] = rng.choice(vocab.BROWSER_UAS)
        return ip

    def _page_choice(self, crawler: bool = False) -> tuple[str, int, int]:
        """A (target, status, size) for a page view; sizes are stable per URL."""
        rng = self.rng
        r = rng.random()
        if r < 0.32:
            slug, pid = rng.choice(vocab.PRODUCTS)
            extra = rng.choice(
                (
                    "",
                    "",
                    "&sort=price",
                    "&ref=search",
                    "&variant=2",
                    "&utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale",
                )
            )
            target = f"/product/{slug}?id={pid}{extra}"
        elif r < 0.50:
            cat = rng.choice(vocab.CATEGORIES)
            extra = rng.choice(("", "&sort=price", "&sort=-price&page=2", "&page=3", "&sort=newest"))
            target = f"/products?category={cat}{extra}"
        elif r < 0.60:
            target = "/"
        elif r < 0.70 and not crawler:
            target = f"/search?q={rng.choice(vocab.SEARCHES)}" + rng.choice(("", "", "&sort=relevance"))
        elif r < 0.80:
            target = f"/blog/{rng.choice(vocab.BLOG_POSTS)}/"
        elif r < 0.86:
            target = rng.choice(("/about", "/contact", "/shipping", "/returns", "/faq", "/blog/"))
        elif r < 0.89:
            return rng.choice(vocab.STALE_LINKS), 404, 1452
        elif r < 0.92:
            return rng.choice(("/shop", "/blog", "/index.html")), 301, 0
        elif crawler:
            target = "/sitemap.xml"
        else:
            target = "/cart"
        return target, 200, _size_of(target, 6000, 60000)

    def _human(self, t: float) -> Iterator[Event]:
        rng = self.rng
        ip = self._benign_ip()
        ua = self._ua_of[ip]
        returning = rng.random() < 0.4
        proto = "HTTP/2.0" if rng.random() < 0.6 else "HTTP/1.1"
        port = rng.randint(32768, 60999)
        host = vocab.SITE_HOST
        base = f"https://{host}"
        referer: str | None = rng.choice(vocab.REFERRERS_EXTERNAL) if rng.random() < 0.6 else None

        def req(method: str, target: str, status: int, size: int, ref: str | None, dur: float) -> Request:
            return Request(method, target, status, size, ref, ua, proto, host, 443, port, dur)

        if rng.random() < 0.04:  # typed the plain-http address: redirected to https
            yield Event(
                t,
                ip,
                "benign",
                None,
                Request("GET", "/", 301, 0, None, ua, "HTTP/1.1", host, 80, port, 0.0004),
            )
            t += rng.uniform(0.05, 0.3)
        pages = int(rng.expovariate(1 / 3.0)) + 1
        for i in range(pages):
            flow = rng.random()
            if i > 0 and flow < 0.06:  # add to cart: POST, redirect, cart page
                rng.choice(vocab.PRODUCTS)  # which product: keeps the random stream stable
                yield Event(t, ip, "benign", None, req("POST", "/cart/add", 302, 0, referer, 0.05))
                t += rng.uniform(0.05, 0.2)
                target, status, size = "/cart", 200, _size_of("/cart", 6000, 20000)
            elif i > 0 and flow < 0.09:  # log in
                yield Event(t, ip, "benign", None, req("GET", "/login", 200, 5120, referer, 0.02))
                t += rng.uniform(4, 20)
                yield Event(t, ip, "benign", None, req("POST", "/login", 302, 0, f"{base}/login", 0.12))
                t += rng.uniform(0.05, 0.2)
                target, status, size = "/account", 200, 14210
            elif i > 1 and flow < 0.11:  # check out
                yield Event(t, ip, "benign", None, req("POST", "/checkout", 302, 0, f"{base}/cart", 0.4))
                t += rng.uniform(0.1, 0.5)
                target, status, size = (
                    f"/order/confirmation?order={100000 + rng.randint(0, 99999)}",
                    200,
                    9876,
                )
            else:
                target, status, size = self._page_choice()
            yield Event(
                t, ip, "benign", None, req("GET", target, status, size, referer, rng.uniform(0.02, 0.4))
            )
            if status == 301:
                t += rng.uniform(0.02, 0.15)
                target = {"/shop": "/products?category=gifts", "/blog": "/blog/"}.get(target, "/")
                status, size = 200, _size_of(target, 6000, 60000)
                yield Event(t, ip, "benign", None, req("GET", target, status, size, referer, 0.1))
            page_url = f"{base}{target}"
            if status == 200:
                t += rng.uniform(0.05, 0.3)
                if i == 0 or rng.random() < 0.15:
                    assets = vocab.STATIC_ASSETS
                    for asset, asset_size in assets:
                        if returning or i > 0:
                            if rng.random() < 0.5:
                                continue
                            yield Event(t, ip, "benign", None, req("GET", asset, 304, 0, page_url, 0.001))
                        else:
                            yield Event(
                                t, ip, "benign", None, req("GET", asset, 200, asset_size, page_url, 0.004)
                            )
                        t += rng.uniform(0.005, 0.08)
                if target.startswith("/product/"):
                    pid = target.split("id=", 1)[1].split("&", 1)[0]
                    img = f"/media/products/{pid}-800.webp"
                    yield Event(
                        t,
                        ip,
                        "benign",
                        None,
                        req("GET", img, 200, _size_of(img, 20000, 160000), page_url, 0.006),
                    )
                    if rng.random() < 0.3:
                        t += rng.uniform(0.2, 1.5)
                        yield Event(
                            t, ip, "benign", None, req("GET", f"/api/stock?id={pid}", 200, 41, page_url, 0.01)
                        )
            referer = page_url
            t += rng.expovariate(1 / 25.0) + 1.0

    # ---- attack episodes -------------------------------------------------------------------
    def _plan_chunk(self, t0: float, lines: int, first: bool) -> list[Iterator[Event]]:
        """Schedule attack episodes worth ``attack_share`` of ``lines`` within the coming span."""
        rng = self.rng
        budget = int(self.attack_share * lines)
        if budget <= 0:
            return []
        span = lines / self.rate
        scale = min(1.0, lines / 5000)
        kinds = list(ATTACK_KINDS)
        rng.shuffle(kinds)
        centers = [t0 + rng.uniform(0.05, 0.8) * span for _ in range(rng.randint(1, 2))]
        subnet = self._public_ip(v6_share=0.0).rsplit(".", 1)[0]
        gens: list[Iterator[Event]] = []
        while budget > 0:
            kind = (
                kinds.pop() if kinds else rng.choice(("scanner", "scanner", "sqli", "bad_bot", "brute_force"))
            )
            lo, hi = _EPISODE_SIZES[kind]
            size = min(budget, max(3, int(rng.randint(lo, hi) * scale)))
            budget -= size
            if first and not gens:
                begin = t0 + span * rng.uniform(0.01, 0.03)
            elif rng.random() < 0.6:
                begin = min(t0 + 0.85 * span, rng.choice(centers) + abs(rng.gauss(0, span * 0.04)))
            else:
                begin = t0 + rng.uniform(0.02, 0.85) * span
            if rng.random() < 0.35:  # part of a campaign from one provider's /24
                ip = f"{subnet}.{rng.randint(2, 254)}"
                if ip in self.labels:
                    ip = self._public_ip()
            else:
                ip = self._public_ip(v6_share=0.08)
            self._claim(ip, f"attacker:{kind}")
            gens.append(getattr(self, f"_ep_{kind}")(begin, ip, size))
        return gens

    def _ep(self, ip: str, kind: str, t: float, cat: str | None, r: Request) -> Event:
        return Event(t, ip, f"attacker:{kind}", cat, r)

    def _ep_scanner(self, t: float, ip: str, size: int) -> Iterator[Event]:
        rng = self.rng
        ua = rng.choice(vocab.SCANNER_UAS)
        proto = "HTTP/1.0" if ua.startswith("masscan") else "HTTP/1.1"
        gap = 1 / rng.uniform(2, 15)
        port = rng.randint(1024, 65000)
        probes = list(vocab.SCANNER_PROBES)
        rng.shuffle(probes)
        for i in range(size):
            if i == 0 and rng.random() < 0.5:
                yield self._ep(
                    ip, "scanner", t, None, Request("GET", "/", 200, 31337, None, ua, proto, client_port=port)
                )
            else:
                path, status = probes[i % len(probes)]
                cat = "sensitive_file" if any(m in path for m in _SENSITIVE_MARKERS) else "scanner"
                size_b = 1452 if status == 404 else (199 if status == 403 else 0)
                yield self._ep(
                    ip,
                    "scanner",
                    t,
                    cat,
                    Request("GET", path, status, size_b, None, ua, proto, client_port=port, duration=0.002),
                )
            t += rng.expovariate(1 / gap)

    def _injection(
        self, t: float, ip: str, size: int, kind: str, fast_ua: str | None, targets: list[tuple[str, str]]
    ) -> Iterator[Event]:
        rng = self.rng
        tool = fast_ua is not None and rng.random() < 0.5
        ua = fast_ua if tool and fast_ua else rng.choice(vocab.BROWSER_UAS)
        gap = 1 / rng.uniform(2, 8) if tool else rng.uniform(2, 15)
        port = rng.randint(1024, 65000)
        recon = 0 if tool else min(size - 1, rng.randint(1, 3))
        for i in range(size):
            if i < recon:
                target, status, length = self._page_choice(crawler=True)
                yield self._ep(
                    ip, kind, t, None, Request("GET", target, status, length, None, ua, client_port=port)
                )
            else:
                target, cat = rng.choice(targets)
                r = rng.random()
                status = 200 if r < 0.7 else (500 if r < 0.85 else (403 if r < 0.95 else 400))
                length = _size_of(target, 4000, 40000) if status == 200 else 530
                yield self._ep(
                    ip,
                    kind,
                    t,
                    cat,
                    Request(
                        "GET",
                        target,
                        status,
                        length,
                        None,
                        ua,
                        client_port=port,
                        duration=rng.uniform(0.01, 0.5),
                    ),
                )
            t += rng.expovariate(1 / gap)

    def _ep_sqli(self, t: float, ip: str, size: int) -> Iterator[Event]:
        targets = []
        for value in vocab.SQLI_VALUES:
            slug, _ = vocab.PRODUCTS[len(value) % len(vocab.PRODUCTS)]
            targets += [
                (f"/product/{slug}?id={value}", "sqli"),
                (f"/search?q={value}", "sqli"),
                (f"/products?category=lamps&sort={value}", "sqli"),
            ]
        return self._injection(t, ip, size, "sqli", vocab.SQLMAP_UA, targets)

    def _ep_xss(self, t: float, ip: str, size: int) -> Iterator[Event]:
        targets = []
        for value in vocab.XSS_VALUES:
            targets += [
                (f"/search?q={value}", "xss"),
                (f"/blog/?s={value}", "xss"),
                (f"/login?next={value}", "xss"),
                (f"/contact?name={value}&email=a%40b.c", "xss"),
            ]
        return self._injection(t, ip, size, "xss", None, targets)

    def _ep_path_traversal(self, t: float, ip: str, size: int) -> Iterator[Event]:
        return self._injection(
            t, ip, size, "path_traversal", "Mozilla/5.0 zgrab/0.x", list(vocab.TRAVERSAL_TARGETS)
        )

    def _ep_cmd_injection(self, t: float, ip: str, size: int) -> Iterator[Event]:
        rng = self.rng
        ua = rng.choice(vocab.CMDI_UAS)
        port = rng.randint(1024, 65000)
        ua_attack = "{" in ua
        for _ in range(size):
            if ua_attack and rng.random() < 0.5:
                target = rng.choice(("/cgi-bin/test.cgi", "/cgi-bin/status", "/", "/index.php"))
            else:
                target = rng.choice(vocab.CMDI_TARGETS)[0]
            status = rng.choice((404, 404, 400, 200, 500))
            yield self._ep(
                ip,
                "cmd_injection",
                t,
                "cmd_injection",
                Request(
                    "GET",
                    target,
                    status,
                    1452 if status == 404 else 612,
                    None,
                    ua,
                    client_port=port,
                    duration=0.01,
                ),
            )
            t += rng.expovariate(1 / 1.5)

    def _ep_brute_force(self, t: float, ip: str, size: int) -> Iterator[Event]:
        rng = self.rng
        ua = rng.choice(
            (
                "python-requests/2.31.0",
                "Mozilla/5.0 (Hydra)",
                vocab.BROWSER_UAS[0],
                "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:68.0) Gecko/20100101 Firefox/68.0",
            )
        )
        wordpress = rng.random() < 0.4
        path = "/blog/wp-login.php" if wordpress else "/login"
        gap = 1 / rng.uniform(0.5, 4)
        succeeds = rng.random() < 0.3
        referer = f"https://{vocab.SITE_HOST}{path}"
        yield self._ep(ip, "brute_force", t, None, Request("GET", path, 200, 5120, None, ua))
        for i in range(1, size):
            t += rng.expovariate(1 / gap)
            if succeeds and i == size - 1:
                yield self._ep(
                    ip,
                    "brute_force",
                    t,
                    "brute_force",
                    Request("POST", path, 302, 0, referer, ua, duration=0.15),
                )
            elif wordpress and rng.random() < 0.25:
                yield self._ep(
                    ip,
                    "brute_force",
                    t,
                    "brute_force",
                    Request("POST", "/blog/xmlrpc.php", 200, 403, None, ua, duration=0.2),
                )
            else:
                status = 200 if wordpress or rng.random() < 0.5 else 401
                yield self._ep(
                    ip,
                    "brute_force",
                    t,
                    "brute_force",
                    Request("POST", path, status, 5311, referer, ua, duration=0.15),
                )

    def _ep_bad_bot(self, t: float, ip: str, size: int) -> Iterator[Event]:
        rng = self.rng
        ua = rng.choice(vocab.SCRAPER_UAS)
        gap = 1 / rng.uniform(8, 30)
        limit = rng.randint(size // 2, size)
        port = rng.randint(1024, 65000)
        for i in range(size):
            slug, pid = vocab.PRODUCTS[i % len(vocab.PRODUCTS)]
            target = rng.choice(
                (
                    f"/product/{slug}?id={pid}&page={i // 20 + 1}",
                    f"/products?category={rng.choice(vocab.CATEGORIES)}&page={i % 40 + 1}",
                    f"/api/stock?id={pid}",
                )
            )
            status, length = (200, _size_of(target, 6000, 60000)) if i < limit else (429, 169)
            yield self._ep(
                ip,
                "bad_bot",
                t,
                "bad_bot",
                Request("GET", target, status, length, None, ua, client_port=port, duration=0.03),
            )
            t += rng.expovariate(1 / gap)

    def _ep_ua_switching(self, t: float, ip: str, size: int) -> Iterator[Event]:
        rng = self.rng
        agents = vocab.BROWSER_UAS + vocab.SCRAPER_UAS[:4]
        for _ in range(size):
            ua = rng.choice(agents)
            if rng.random() < 0.3:
                r = Request("POST", "/login", 200, 5311, f"https://{vocab.SITE_HOST}/login", ua)
            else:
                slug, pid = rng.choice(vocab.PRODUCTS)
                target = f"/product/{slug}?id={pid}"
                r = Request("GET", target, 200, _size_of(target, 6000, 60000), None, ua)
            yield self._ep(ip, "ua_switching", t, "bad_bot", r)
            t += rng.expovariate(1 / 1.2)
