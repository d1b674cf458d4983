"""What this site serves, learnt from its own log as it streams — strictly from earlier lines.

A request for ``/wp-login.php`` is routine on a WordPress site and a probe everywhere else; only
the site's own answers tell them apart. :class:`SiteContext` keeps:

* per path, how often the server answered it with a **2xx** (a 3xx proves nothing: on an http→https
  or trailing-slash site every probe is redirected first) or a 4xx, and the running mean and spread
  of successful response sizes (to spot an answer unusual for its path);
* which file extensions it has served with 2xx (a 404 for ``.asp`` on a site that never served one
  is a probe, with no list needed), which methods it has ever answered with 2xx, and whether it
  accepts ``POST`` (answered 2xx/3xx to several different clients);
* the site's own host names: from the virtual-host field, from full-URL requests it answered 2xx
  several times, and from referers that point at pages it serves (links from its own pages).

The scorer asks first and tells afterwards (:meth:`observe` after judging each record), so each line
is judged against earlier lines only and a verdict never depends on how the log was cut into
batches. Memory is bounded: past ``max_paths`` paths the oldest quarter is forgotten; the other
tables have small fixed caps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import itemgetter
from typing import Any
from urllib.parse import urlsplit

from threatlens.parsers.record import RECORD_INDEX, LogRecord

#: The fields :meth:`SiteContext.observe_all` learns from, in one C call per record.
_OBSERVED = itemgetter(*(RECORD_INDEX[f] for f in ("path", "status", "bytes", "method", "vhost", "referer", "ip")))

#: Default number of distinct paths remembered.
MAX_PATHS = 100_000
#: Caps of the small tables (extensions, hosts); once full, new keys are ignored.
MAX_EXTENSIONS = 512
MAX_HOSTS = 256
#: Distinct referers remembered as already learnt from (then the memory starts again).
MAX_REFERERS = 50_000
#: Times a host must be seen (full-URL request answered 2xx, or a referer to a served page) to count as the site's own.
OWN_HOST_MIN = 3
#: Distinct clients whose POST the site accepted before it counts as a site that takes POSTs.
POST_MIN_CLIENTS = 3
#: Successful answers seen before "this site never served X" is strong evidence.
WARM = 20
#: Marks a referer that can never vote for its host (no host, or it points at "/"; parsed once).
_NO_VOTE = ("", "/")


def extension(path: str | None) -> str:
    """The lower-case extension of the last path segment (``""`` if none)."""
    if not path:
        return ""
    last = path.rpartition("/")[2]
    stem, dot, ext = last.rpartition(".")
    return ext.lower() if dot and stem and len(ext) <= 8 else ""


def url_host(url: str | None) -> str | None:
    """The lower-case host of an absolute ``http(s)``/``ftp`` URL, else ``None``."""
    if not url or "://" not in url[:12]:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


class SiteContext:
    """Bounded, causal statistics of the server's answers."""

    __slots__ = ("_ext_ok", "_host_votes", "_paths", "_post_ips", "_refs_seen", "max_paths", "methods_ok", "ok_total",
                 "own_hosts", "post_ok")

    def __init__(self, max_paths: int = MAX_PATHS) -> None:
        self.max_paths = max_paths
        #: path -> [2xx answers, 4xx answers, size count, size mean, size M2] once answered 2xx; before
        #: that only its 4xx answers, as an int (most paths of a flood of probes are never served)
        self._paths: dict[str, list[float] | int] = {}
        self._ext_ok: dict[str, int] = {}
        self._host_votes: dict[str, int] = {}
        self.own_hosts: set[str] = set()
        self.methods_ok: set[str] = set()
        self.post_ok = False
        self._post_ips: set[str | None] = set()
        self._refs_seen: dict[str, tuple[str, str]] = {}  #: referer -> (host, path), parsed once
        self.ok_total = 0

    def __len__(self) -> int:
        return len(self._paths)

    # -- questions (about what came before) --------------------------------------------------------

    def serves(self, path: str | None) -> bool:
        """True once the site answered ``path`` with a 2xx."""
        return type(self._paths.get(path) if path is not None else None) is list

    def errors(self, path: str | None) -> int:
        """How many 4xx answers ``path`` got."""
        st = self._paths.get(path) if path is not None else None
        if st is None:
            return 0
        return st if isinstance(st, int) else int(st[1])

    def serves_extension(self, ext: str) -> bool:
        """True once the site answered a path with this extension with a 2xx."""
        return self._ext_ok.get(ext, 0) > 0

    def is_own_host(self, host: str | None) -> bool:
        """True when ``host`` is one of the site's own names (as learnt so far)."""
        return host is not None and host in self.own_hosts

    @property
    def warm(self) -> bool:
        """Enough successful answers seen for "never served" to mean something."""
        return self.ok_total >= WARM

    def unusual_size(self, path: str | None, size: int | None, *, min_count: int = 5, z: float = 4.0) -> bool:
        """True when ``size`` is far from the usual successful answer size for ``path``."""
        if path is None or size is None:
            return False
        st = self._paths.get(path)
        if not isinstance(st, list) or st[2] < min_count:
            return False
        mean = st[3]
        std = math.sqrt(st[4] / (st[2] - 1)) if st[2] > 1 else 0.0
        return abs(size - mean) > max(z * std, 0.5 * mean, 512.0)

    # -- learning (after the record was judged) ----------------------------------------------------

    def observe(self, r: LogRecord) -> None:
        """Learn from one answer of the server."""
        self.observe_all((r,))

    def observe_all(self, records: Iterable[LogRecord]) -> None:
        """Learn from answers of the server, in order (the scorer hands the records judged since it last asked)."""
        paths = self._paths
        refs_seen = self._refs_seen
        own_hosts = self.own_hosts
        methods_ok = self.methods_ok
        ok_total = self.ok_total
        try:
            for path, status, size, method, vhost, ref, ip in map(_OBSERVED, records):
                if path is None or status is None:
                    continue
                st: Any = paths.get(path)
                if st is None:
                    if len(paths) >= self.max_paths:
                        self._forget()
                    st = paths[path] = 0
                if 200 <= status < 300:
                    if st.__class__ is int:
                        st = paths[path] = [0, st, 0, 0.0, 0.0]  # same place in the (oldest first) order
                    st[0] += 1
                    ok_total += 1
                    if size is not None:
                        c = st[2] + 1
                        delta = size - st[3]
                        st[2] = c
                        st[3] += delta / c
                        st[4] += delta * (size - st[3])
                    if st[0] == 1:
                        ext = extension(path)
                        if ext and len(self._ext_ok) < MAX_EXTENSIONS:
                            self._ext_ok[ext] = self._ext_ok.get(ext, 0) + 1
                    if method not in methods_ok and method is not None and len(methods_ok) < 64:
                        methods_ok.add(method)
                    if vhost or path[0] != "/":
                        self._learn_host(vhost, path)
                    if ref and ref[:4] == "http":
                        host_path = refs_seen.get(ref)
                        if host_path is None or (host_path is not _NO_VOTE and host_path[0] not in own_hosts):
                            self._learn_referer(ref, host_path)
                elif 400 <= status < 500:
                    if st.__class__ is int:
                        paths[path] = st + 1
                    else:
                        st[1] += 1
                if method == "POST" and not self.post_ok and 200 <= status < 400:
                    # accepted from several clients: one spam bot answered 200 by a static site proves nothing
                    self._post_ips.add(ip)
                    self.post_ok = len(self._post_ips) >= POST_MIN_CLIENTS
        finally:
            self.ok_total = ok_total

    def _learn_host(self, vhost: str | None, path: str) -> None:
        """The virtual host of a 2xx, and the host of a full-URL request answered 2xx, are the site's names."""
        if vhost:
            host = vhost.lower().partition(":")[0]
            if host not in self.own_hosts:
                self._vote(host, OWN_HOST_MIN)
        if path[0] != "/":
            self._vote(url_host(path), 1)

    def _learn_referer(self, ref: str, host_path: tuple[str, str] | None) -> None:
        """A referer pointing at a page this site serves is a link from the site itself: its host is ours."""
        if host_path is None:
            seen = self._refs_seen
            if len(seen) >= MAX_REFERERS:
                seen.clear()
            parts = ref.split("/", 3)  # scheme, "", host[:port], rest
            host = parts[2].lower().rpartition("@")[2].partition(":")[0] if len(parts) == 4 else ""
            ref_path = "/" + parts[3].partition("?")[0].partition("#")[0] if len(parts) == 4 else "/"
            if not host or ref_path == "/":  # a search engine's "https://www.bing.com/": never a vote
                seen[ref] = _NO_VOTE
                return
            host_path = seen[ref] = (host, ref_path)
        host, ref_path = host_path
        if len(self.own_hosts) < MAX_HOSTS and self.serves(ref_path):
            self._vote(host, 1)

    def _vote(self, host: str | None, weight: int) -> None:
        if not host or host in self.own_hosts:
            return
        votes = self._host_votes
        if host not in votes and len(votes) >= MAX_HOSTS:
            return
        n = votes[host] = votes.get(host, 0) + weight
        if n >= OWN_HOST_MIN and len(self.own_hosts) < MAX_HOSTS:
            self.own_hosts.add(host)
            del votes[host]

    def _forget(self) -> None:
        drop = max(1, self.max_paths // 4)
        paths = self._paths
        for key in list(paths)[:drop]:
            del paths[key]
