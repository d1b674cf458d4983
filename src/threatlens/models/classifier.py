"""The per-request scorer: a trained payload model plus evidence and the site's own context.

:class:`RequestScorer` turns each :class:`~threatlens.parsers.record.LogRecord` into a
:class:`~threatlens.models.verdict.Verdict`. Its parts, combined by noisy-OR:

* the **payload model** (logistic regression on hashed character n-grams and numeric features of
  the decoded query and of the decoded path, see :mod:`threatlens.models.features`), calibrated so
  that its decision threshold maps to score 0.5; unambiguous attack fragments (``union select``,
  ``<script``, ``../../etc/passwd``) raise the score to at least 0.9;
* **probe evidence**: sensitive files, web-shell names and software-specific paths, weighed by the
  :class:`~threatlens.models.site_context.SiteContext` (a probe the site answered 4xx and never
  serves is hostile; a path it does serve is not); and probes on no list: a 4xx for a script
  extension this site has never served, ``HEAD`` with no user agent on a script, ``//`` before a
  script, a method or a ``POST`` this site has never accepted;
* **protocol evidence**: odd methods (``PROPFIND``, ``CONNECT``, ``TRACE``...), proxy-style targets,
  garbage request lines;
* **agent evidence**: attack tools (strong) and bad bots (weak) by user agent, payloads in the
  user agent or referer.

The model reads the path and each query parameter separately (the strongest one counts) and only
units with attack syntax (see :mod:`threatlens.models.units`). Each record is judged against what
earlier lines taught the site context, then teaches it: verdicts do not depend on batch size.
Scoring is vectorised (one dot product per batch for the targets not seen before) and cached per
``(method, path, query)``, per user agent and per referer, each cache bounded.
The model loads only through :func:`skops.io.load` with a fixed allowlist of types, or as plain NumPy
arrays from the ``.npz`` saved beside it (:mod:`threatlens.models.weights`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from threatlens.errors import ModelError
from threatlens.models.features import N_HASH, gram_dot, numeric_matrix
from threatlens.models.normalize import normalise
from threatlens.models.safe_load import load_trusted
from threatlens.models.signatures import PathHit, agent_evidence, is_known_crawler, path_hits, payload_evidence
from threatlens.models.site_context import SiteContext, extension, url_host
from threatlens.models.units import (
    PLAIN_PATH,
    PLAIN_QUERY,
    param_has_syntax,
    path_has_syntax,
    path_text,
    query_params,
    query_text,
)
from threatlens.models.verdict import Verdict, severity_of
from threatlens.models.weights import load_weights, weights_path
from threatlens.parsers.record import RECORD_INDEX, LogRecord

#: File names of the shipped model and its description, inside this package.
MODEL_FILE = "threatlens-model.skops"
INFO_FILE = "model.json"
#: The only non-default types a model file may contain. Anything else is refused before loading.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.linear_model._logistic.LogisticRegression",
    "numpy.float64",
    "numpy.float32",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.dtype",
    "builtins.dict",
    "builtins.list",
    "builtins.str",
    "builtins.float",
    "builtins.int",
)
#: Model file format this code reads.
FORMAT = 1
#: Bound of each cache (entries); past it the oldest quarter is dropped (the target cache may hold
#: one batch more until the next batch starts).
CACHE_SIZE = 32_768
#: Distinct values (targets, verdicts, agents ...) shared between cache entries (then the sharing starts again).
_SHARED_MAX = 16_384
#: Score of each kind of evidence (before noisy-OR combination).
W_STRONG_PAYLOAD = 0.9
W_HARD_SENSITIVE = 0.9
W_PROBE = 0.8
W_WEBSHELL = 0.85
W_SCANNER_AGENT = 0.95
W_BAD_BOT = 0.15
W_ODD_METHOD = 0.75
W_GARBAGE = 0.9
W_WRITE_UNSERVED = 0.55
W_EXT_PROBE = 0.6  # a 4xx for a script extension the site never served (once the site is warm)
W_EXT_PROBE_COLD = 0.35  # the same before the site served WARM answers
W_HEAD_NO_AGENT = 0.6
W_SLASHES = 0.6
W_METHOD_NEVER_OK = 0.55
W_POST_NEVER_OK = 0.55  # a POST to a (warm) site that has never accepted POSTs: comment spam, exploit bodies
W_REFERRER_SPAM = 0.55
#: Browsers nobody has run on the open web for over a decade (IE 6 and older, Windows 9x/NT 4, Mozilla/1-3):
#: real visitors do not send them, referrer spammers and old bots do.
_ANCIENT_AGENT = re.compile(r"\bMSIE [1-6]\.|\bWindows (?:95|98|NT [34]\.)|\bWin 9x\b|^Mozilla/[1-3]\.")
#: Referers that are search engines and big social sites (a visitor came from a search or a share).
_SEARCH_REFERER = re.compile(r"(?:^|\.)(?:google|bing|yahoo|duckduckgo|baidu|yandex|ask|aol|naver|ecosia|qwant|"
                             r"facebook|t\.co|twitter|x\.com|linkedin|reddit|news\.ycombinator)\.", re.IGNORECASE)
#: Highest score the payload model may give a unit without attack syntax (it ranks, it never flags).
GATED_CAP = 0.45
#: Marks a unit without attack syntax while its score is gathered.
_GATED = "\x00gated"
#: Score a declared crawler's request keeps at most when only the payload model disliked it: crawlers
#: replay the links they found, broken templates included; they do not craft payloads.
CRAWLER_MODEL_ONLY_CAP = 0.45
W_PROBE_REDIRECTED = 0.45  # a probe answered 3xx on a path never served: weak (http→https sites redirect all)
W_FOREIGN_PROXY = 0.75
W_FOREIGN_PROXY_OK = 0.55

_WEIRD_METHODS = frozenset({"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
                            "CONNECT", "TRACE", "TRACK", "DEBUG", "MKCALENDAR", "REPORT", "ACL", "BIND"})
_ALWAYS_BAD_METHODS = frozenset({"CONNECT", "TRACE", "TRACK", "DEBUG"})
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_PLAIN_METHODS = frozenset({"GET", "HEAD", "POST"})
_OTHER_ONLY = ("other",)
_TARGET_KEY = itemgetter(RECORD_INDEX["method"], RECORD_INDEX["path"], RECORD_INDEX["query"])
_AGENT = itemgetter(RECORD_INDEX["user_agent"])
_REFERER = itemgetter(RECORD_INDEX["referer"])
#: Server-side and executable extensions: a 4xx for one the site never served is a probe.
PROBE_EXTENSIONS = frozenset({"php", "php3", "php4", "php5", "php7", "phtml", "asp", "aspx", "ashx", "asmx", "axd",
                              "jsp", "jspx", "do", "action", "cgi", "pl", "cfm", "dll", "exe", "sh", "py"})
#: Answers that say "no such thing here" for a method (not "you may not").
_METHOD_REFUSED = frozenset({404, 405, 501})
_METHOD_OK = re.compile(r"[A-Z]{3,12}")
#: Protocol versions that exist; anything else in a request line is a malformed or probing client.
_VALID_PROTOCOLS = frozenset({"HTTP/0.9", "HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3", "HTTP/3.0"})
#: Raw texts with none of these need no model (the benign fast path for user agents and referers).
_SUSPECT_AGENT = re.compile(r"[<>'\"`$|{}]|\\(?!x[0-9a-f]{2})|\(\s*\)\s*\{|%[0-9a-fA-F]{2}|\.\./|"
                            r"\b(?:select|union|sleep)\b",
                            re.IGNORECASE)
_SUSPECT_REFERER = re.compile(r"[<>'\"`$|{}]|\\(?!x[0-9a-f]{2})|%(?:27|22|3c|3e|00|60|7b|24)|\.\./", re.IGNORECASE)


class _Target(NamedTuple):
    """Context-independent facts about one ``(method, path, query)``."""

    score: float  # payload and protocol evidence, already combined
    categories: tuple[str, ...]
    reasons: tuple[str, ...]
    hits: tuple[PathHit, ...]  # probe/sensitive/web-shell names, weighed by site context per record
    write: bool  # POST/PUT/... (weighed by site context)
    script_ext: str  # the path's server-side extension ("" if none): a 4xx on one never served is a probe
    odd_method: bool  # not GET/HEAD/POST: evidence when the site never accepted it
    head_script: bool  # HEAD on a script path (evidence without a user agent)
    proxy_host: str | None  # host of an absolute-form target (proxy abuse unless it is the site's own)
    url_units: tuple[tuple[str, float, str], ...]  # (host, model score, text) of parameters holding a URL
    verdict: Verdict | None  # the constant verdict when nothing depends on context


class _Extra(NamedTuple):
    """Evidence from the user agent or referer."""

    score: float
    category: str
    reason: str


#: Marks a user agent or referer not looked at yet (the caches hold ``None`` for "no evidence").
_UNSEEN = _Extra(-1.0, "", "")


def calibrate(p: np.ndarray, raw_threshold: float) -> np.ndarray:
    """Map raw model probabilities so that ``raw_threshold`` becomes 0.5 (monotone, piecewise linear)."""
    t = min(max(raw_threshold, 1e-6), 1 - 1e-6)
    return np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1 - t))


def _noisy_or(scores: Sequence[float]) -> float:
    keep = 1.0
    for s in scores:
        keep *= 1.0 - s
    return 1.0 - keep


def _trim(cache: dict[Any, Any], cap: int) -> None:
    """Drop the oldest entries of ``cache`` until it holds three quarters of ``cap``."""
    excess = len(cache) - (cap - cap // 4)
    if len(cache) > cap and excess > 0:
        for key in list(cache)[:excess]:
            del cache[key]


def shipped_model_path() -> Path:
    """Path of the model shipped inside the package."""
    return Path(str(resources.files("threatlens.models").joinpath(MODEL_FILE)))


def load_model_file(path: str | Path) -> dict[str, Any]:
    """Load a model file safely: refuse any type outside :data:`TRUSTED_TYPES` (``ModelError``).

    The ``.npz`` of plain weights beside a skops file is used instead when it was saved from that very
    file (:mod:`threatlens.models.weights`): no scikit-learn import, milliseconds instead of seconds.
    """
    p = Path(path)
    if p.suffix == ".npz":
        obj: Any = load_weights(p)
    else:
        obj = load_weights(weights_path(p), skops_file=p) if p.is_file() else None
        if obj is None:
            obj = load_trusted(p, TRUSTED_TYPES, what="model")
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or "payload" not in obj:
        raise ModelError(f"{p}: not a ThreatLens model (format {FORMAT} expected)")
    payload = obj["payload"]
    try:  # what RequestScorer reads, so a wrong type is this one line and not a traceback there
        np.asarray(payload.coef_, dtype=np.float64).ravel()
        np.asarray(payload.intercept_, dtype=np.float64).ravel()[0]
        float(obj["raw_threshold"]), float(obj.get("threshold", 0.5))
    except (AttributeError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise ModelError(f"{p}: not a ThreatLens model (its payload is a {type(payload).__name__}; "
                         f"{exc.__class__.__name__} reading its weights or thresholds)") from None
    return obj


class RequestScorer:
    """Score requests; ``threshold`` may be changed live, ``default_threshold`` is the model's."""

    def __init__(self, model: dict[str, Any], info: dict[str, Any] | None = None,
                 *, threshold: float | None = None, cache_size: int = CACHE_SIZE) -> None:
        self._model = model["payload"]
        self._raw_threshold = float(model["raw_threshold"])
        coef = np.asarray(self._model.coef_, dtype=np.float64).ravel()
        if coef.shape[0] <= N_HASH:
            raise ModelError("model does not match this version's features; retrain it")
        self._coef_grams = coef[:N_HASH]
        self._coef_numeric = coef[N_HASH:]
        self._intercept = float(np.asarray(self._model.intercept_).ravel()[0])
        self.info: dict[str, Any] = dict(info or {})
        self.default_threshold = float(self.info.get("threshold", model.get("threshold", 0.5)))
        self.threshold = self.default_threshold if threshold is None else float(threshold)
        self.context = SiteContext()
        self.cache_size = cache_size
        self._targets: dict[tuple[str | None, str | None, str | None], _Target] = {}
        self._agents: dict[str | None, _Extra | None] = {None: None}
        self._referers: dict[str | None, _Extra | None] = {None: None}
        self._crawlers: dict[str | None, bool] = {None: False}
        self._ancient: dict[str, bool] = {}
        #: (target key, user agent, referer) -> verdict, for targets whose verdict needs no context
        self._combos: dict[tuple[Any, ...], Verdict] = {}
        #: one instance per distinct target or verdict value (interned), and per agent, referer or context bits
        self._shared: dict[Any, Any] = {}
        self._strings: dict[Any, Any] = {}
        self._verdict_threshold = self.threshold
        self.hits = 0
        self.misses = 0

    # -- loading ------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None, *, threshold: float | None = None) -> RequestScorer:
        """Load a model file (``None``: the shipped one) and the ``model.json`` beside it, if any."""
        p = shipped_model_path() if path is None else Path(path)
        model = load_model_file(p)
        info_path = p.with_name(INFO_FILE) if path is None else p.with_suffix(".json")
        if path is not None and not info_path.exists() and p.with_name(INFO_FILE).exists():
            info_path = p.with_name(INFO_FILE)
        info: dict[str, Any] = {}
        if info_path.exists():
            try:
                info = json.loads(info_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
        if not info or info.get("model_file", p.name) != p.name:
            info = {"threshold": model.get("threshold", 0.5), "version": model.get("version", "unknown")}
        return cls(model, info, threshold=threshold)

    # -- model --------------------------------------------------------------------------------------

    def payload_scores(self, texts: Sequence[str], kinds: Sequence[str]) -> np.ndarray:
        """Calibrated payload-model scores (0.5 = the model's threshold) of normalised units."""
        if not texts:
            return np.zeros(0)
        # the logistic regression's decision function, without predict_proba's per-call validation
        z = gram_dot(texts, self._coef_grams) + numeric_matrix(texts, kinds) @ self._coef_numeric + self._intercept
        raw = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return calibrate(raw, self._raw_threshold)

    def _build_targets(self, keys: list[tuple[str | None, str | None, str | None]]) -> None:
        texts: list[str] = []
        kinds: list[str] = []
        owners: list[tuple[int, str | None]] = []
        prepared: list[tuple[str, list[str]]] = []
        for i, (_method, path, query) in enumerate(keys):
            pt = path_text(_local_part(path))
            qt = query_text(query)
            params = [] if not qt or PLAIN_QUERY.fullmatch(qt) else [query_text(raw) for raw in query_params(query)]
            prepared.append((pt, params))
            if pt and not PLAIN_PATH.fullmatch(pt):
                texts.append(pt)
                kinds.append("path")
                owners.append((i, None if path_has_syntax(pt) else _GATED))
            for unit in params:
                if unit and not PLAIN_QUERY.fullmatch(unit):
                    texts.append(unit)
                    kinds.append("query")
                    gated = not param_has_syntax(unit)
                    owners.append((i, _GATED if gated else url_host(unit.partition("=")[2].strip())))
        scores = self.payload_scores(texts, kinds)
        best = [0.0] * len(keys)
        which = [""] * len(keys)
        content = [0.0] * len(keys)
        urls: list[list[tuple[str, float, str]]] = [[] for _ in keys]
        for (owner, host), kind, text, s in zip(owners, kinds, texts, scores.tolist(), strict=True):
            if host is _GATED:  # no attack syntax: the model may rank it, never flag it
                content[owner] = max(content[owner], min(s, GATED_CAP))
            elif host is not None:
                urls[owner].append((host, s, f"{kind} parameter: {text}"))
            elif s > best[owner]:
                best[owner] = s
                which[owner] = f"{kind} parameter: {text}" if kind == "query" else f"{kind}: {text}"
        shared = self._shared
        if len(shared) > _SHARED_MAX:
            shared.clear()
        for i, key in enumerate(keys):
            t = self._make_target(key, prepared[i], best[i], which[i], tuple(urls[i]), content[i])
            # most targets are equal (plain content, no evidence): one object serves them all
            self._targets[key] = shared.setdefault(t, t)

    def _make_target(self, key: tuple[str | None, str | None, str | None], prepared: tuple[str, list[str]],
                     ml: float, ml_text: str, url_units: tuple[tuple[str, float, str], ...] = (),
                     content: float = 0.0) -> _Target:
        method, path, _query = key
        pt, params = prepared
        parts = [ml]
        cats: list[str] = []
        reasons: list[str] = []
        # fragments per parameter: "&id=" separates, it is no shell "& id"; a "+" in a path stands for a space
        for text, plus in (*((p, False) for p in params), (pt, True)):
            for ev in payload_evidence(text, plus=plus):
                if ev.category not in cats:
                    cats.append(ev.category)
                    reasons.append(ev.reason)
                if ev.strong:
                    parts.append(W_STRONG_PAYLOAD)
        if ml >= 0.5 and not cats:
            cats.append("other")
            reasons.append(f"unusual {_printable(ml_text, 50)}")
        if method is None or not _METHOD_OK.fullmatch(method):
            parts.append(W_GARBAGE)
            cats.append("protocol_abuse")
            shown = (method or "")[:20].encode("unicode_escape", "replace").decode("ascii", "replace")
            reasons.append(f"malformed request line {shown!r}" if method else "empty request line")
        elif method in _WEIRD_METHODS:
            parts.append(W_ODD_METHOD if method in _ALWAYS_BAD_METHODS else W_ODD_METHOD * 0.6)
            cats.append("protocol_abuse")
            reasons.append(f"{method} method")
        proxy_host = None
        if path is not None and not path.startswith("/") and path != "*":
            low = path[:8].lower()
            proxy_host = url_host(path) if low.startswith(("http://", "https://")) else None
            if proxy_host is None:
                parts.append(W_GARBAGE if ":" in path else 0.6)
                if "protocol_abuse" not in cats:
                    cats.append("protocol_abuse")
                reasons.append("proxy-style target" if ":" in path else "target without leading /")
        ext = extension(pt) if pt else ""
        script_ext = ext if ext in PROBE_EXTENSIONS else ""
        if script_ext and path is not None and path.startswith("//"):
            parts.append(W_SLASHES)
            if "scanner" not in cats:
                cats.append("scanner")
            reasons.append(f"// before a .{script_ext} script")
        hits = tuple(path_hits(pt)) if pt else ()
        score = max(_noisy_or(parts), content)  # content text only ranks, below the threshold
        write = method in _WRITE_METHODS
        odd_method = method is not None and method not in _PLAIN_METHODS and _METHOD_OK.fullmatch(method) is not None
        head_script = method == "HEAD" and bool(script_ext)
        verdict = None
        if not (hits or write or script_ext or odd_method or proxy_host or url_units):
            flagged = score >= self._verdict_threshold
            verdict = Verdict(round(score, 4), flagged, tuple(cats), tuple(reasons[:4]), False,
                              severity_of(cats, flagged))
        return _Target(score, tuple(cats), tuple(reasons[:4]), hits, write, script_ext, odd_method, head_script,
                       proxy_host, url_units, verdict)

    def _extra(self, text: str, *, agent: bool) -> _Extra | None:
        parts: list[_Extra] = []
        if agent:
            ev = agent_evidence(text)
            if ev is not None:
                parts.append(_Extra(W_SCANNER_AGENT if ev.strong else W_BAD_BOT, ev.category, ev.reason))
        suspect = (_SUSPECT_AGENT if agent else _SUSPECT_REFERER).search(text)
        norm = normalise(text, plus=not agent) if suspect else ""
        evs = payload_evidence(norm) if suspect else []
        if evs:  # the model never saw agents or referers as benign text: it only weighs a known fragment
            where = "user agent" if agent else "referer"
            s = float(self.payload_scores([norm], ["query"])[0])
            strong = [e for e in evs if e.strong]
            if strong:
                s = max(s, W_STRONG_PAYLOAD)
            if s >= 0.3 or strong:
                ev0 = (strong or evs)[0]
                parts.append(_Extra(s, ev0.category, f"{ev0.reason} in {where}"))
        if not parts:
            return None
        best = max(parts, key=lambda e: e.score)
        return _Extra(_noisy_or([p.score for p in parts]), best.category,
                      "; ".join(p.reason for p in sorted(parts, key=lambda e: -e.score)))

    # -- scoring ------------------------------------------------------------------------------------

    def clear_cache(self) -> None:
        """Forget cached verdicts (needed after the threshold changes)."""
        self._targets.clear()
        self._combos.clear()
        self._shared.clear()
        self._strings.clear()
        self._agents = {None: None}
        self._referers = {None: None}
        self._crawlers = {None: False}
        self._ancient = {}

    def score(self, records: Sequence[LogRecord]) -> list[Verdict]:
        """Score a batch of records in order.

        Each record is judged against what the site context learnt from *earlier* records, then
        teaches it; so a probe is never excused by its own future, and the verdicts are the same
        whatever the batch size (scan, ``--follow`` and the monitor agree).
        """
        if self.threshold != self._verdict_threshold:
            self._verdict_threshold = self.threshold
            self._targets.clear()
            self._combos.clear()
        targets = self._targets
        if len(targets) > self.cache_size:  # trimmed between batches, so a batch's own entries stay
            _trim(targets, self.cache_size)
        keys = list(map(_TARGET_KEY, records))
        missing = {k: None for k in keys if k not in targets}
        if missing:
            self.misses += len(missing)
            self._build_targets(list(missing))
        self.hits += len(records) - len(missing)
        ctx = self.context
        # the context learns from each record after it was judged; it is told in runs, just before a record
        # needs it (most verdicts do not), so records[:taught] are known to it whenever it is asked
        observe = ctx.observe_all
        taught = 0

        def teach(upto: int) -> None:
            nonlocal taught
            if taught < upto:
                observe(records[taught:upto])
                taught = upto

        agents = self._agents
        referers = self._referers
        combos = self._combos
        unusual = ctx.unusual_size
        ancients = self._ancient
        shared: dict[Any, Any] = self._shared
        strings: dict[Any, Any] = self._strings
        out: list[Verdict] = []
        append = out.append
        i = 0
        try:
            for i, (r, key, ua, ref) in enumerate(zip(records, keys, map(_AGENT, records), map(_REFERER, records),
                                                      strict=True)):
                t = targets[key]
                a = agents.get(ua, _UNSEEN)
                if a is _UNSEEN:
                    a = agents[ua] = self._extra(ua, agent=True) if ua else None
                    if len(agents) > self.cache_size:
                        _trim(agents, self.cache_size)
                f = referers.get(ref, _UNSEEN)
                if f is _UNSEEN:
                    f = referers[ref] = self._extra(ref, agent=False) if ref else None
                    if len(referers) > self.cache_size:
                        _trim(referers, self.cache_size)
                v = t.verdict
                if v is None or a is not None or f is not None:
                    if v is None:  # depends on what the site served before and how it answered now
                        teach(i)
                        bits = self._context_bits(r, t)
                        ckey: tuple[Any, ...] = (key, ua, ref, r.status, bits)
                    else:
                        bits = None
                        ckey = (key, ua, ref)
                    v = combos.get(ckey)
                    if v is None:
                        v = self._finish(r, t, a, f, bits)
                        # the entry keeps one copy of each agent, referer, context and verdict (a record's own
                        # strings would stay alive once per entry, and most verdicts are equal)
                        same = strings.setdefault
                        ckey = (key, same(ua, ua), same(ref, ref))
                        if bits is not None:
                            ckey = (*ckey, r.status, same(bits, bits))
                        v = combos[ckey] = shared.setdefault(v, v)
                        if len(combos) > self.cache_size:
                            _trim(combos, self.cache_size)
                        if len(strings) > _SHARED_MAX:
                            strings.clear()
                        if len(shared) > _SHARED_MAX:
                            shared.clear()
                proto = r.protocol
                if proto is not None and proto not in _VALID_PROTOCOLS:
                    v = self._bad_protocol(v, proto)
                # whenever it could be flagged at some threshold, not only at this one: the monitor's ``t``
                # re-counts stored scores, which must be the scores a run at the new threshold gives
                if v.score > CRAWLER_MODEL_ONLY_CAP and v.categories == _OTHER_ONLY and self._is_crawler(ua):
                    v = Verdict(min(v.score, CRAWLER_MODEL_ONLY_CAP), False, v.categories,
                                (*v.reasons[:3], "declared crawler following a link"), False, "")
                if ref is not None and ua is not None:
                    ancient = ancients.get(ua)
                    if ancient is None:
                        ancient = self._implausible(ua)
                    if ancient and ref[:4] == "http":
                        teach(i)
                        v = self._referrer_spam(v, ref)
                if v.flagged:
                    status = r.status
                    if status is not None and 200 <= status < 300:
                        v = v._replace(possibly_succeeded=True)
                    else:
                        teach(i)
                        if unusual(r.path, r.bytes):
                            v = v._replace(possibly_succeeded=True)
                append(v)
        except BaseException:  # as line by line: the records judged before the failing one taught the context
            teach(i)
            raise
        teach(len(records))
        return out

    def _implausible(self, ua: str) -> bool:
        got = self._ancient.get(ua)
        if got is None:
            got = self._ancient[ua] = _ANCIENT_AGENT.search(ua) is not None
            if len(self._ancient) > self.cache_size:
                _trim(self._ancient, self.cache_size)
        return got

    def _referrer_spam(self, v: Verdict, ref: str) -> Verdict:
        """An external, non-search referer sent with a browser no one has run for a decade: referrer spam."""
        host = url_host(ref)
        if host is None or self.context.is_own_host(host) or _SEARCH_REFERER.search(host + "."):
            return v
        score = _noisy_or([v.score, W_REFERRER_SPAM])
        flagged = score >= self._verdict_threshold
        cats = v.categories if "bad_bot" in v.categories else (*v.categories, "bad_bot")
        reasons = (*v.reasons, f"referrer spam from {_printable(host, 40)} with an implausible browser")[:4]
        return Verdict(round(score, 4), flagged, cats, reasons, v.possibly_succeeded, severity_of(cats, flagged))

    def _is_crawler(self, ua: str | None) -> bool:
        crawler = self._crawlers.get(ua)
        if crawler is None:
            crawler = self._crawlers[ua] = is_known_crawler(ua)
            if len(self._crawlers) > self.cache_size:
                _trim(self._crawlers, self.cache_size)
        return crawler

    def _context_bits(self, r: LogRecord, t: _Target) -> tuple[Any, ...]:
        """What the site context says that matters for this target (part of the verdict cache key)."""
        ctx = self.context
        served = ctx.serves(r.path)
        ext = t.script_ext
        ext_served = ctx.serves_extension(ext) if ext else True
        warm = ctx.warm if ext or r.method == "POST" else True
        if r.method == "POST":
            method_ok = ctx.post_ok
        elif t.odd_method:
            method_ok = r.method in ctx.methods_ok
        else:
            method_ok = True
        proxy_own = ctx.is_own_host(t.proxy_host) if t.proxy_host else True
        urls_own = tuple(ctx.is_own_host(u[0]) for u in t.url_units)
        return (served, ext_served, warm, method_ok, proxy_own, urls_own)

    def _bad_protocol(self, v: Verdict, proto: str) -> Verdict:
        """Add the evidence of a protocol version that does not exist (``HTTP/1.2``, ``HTTP/7``)."""
        score = _noisy_or([v.score, W_GARBAGE])
        cats = v.categories if "protocol_abuse" in v.categories else (*v.categories, "protocol_abuse")
        shown = proto[:20].encode("unicode_escape", "replace").decode("ascii", "replace")
        reasons = (*v.reasons, f"invalid protocol version {shown!r}")[:4]
        flagged = score >= self._verdict_threshold
        return Verdict(round(score, 4), flagged, cats, reasons, v.possibly_succeeded, severity_of(cats, flagged))

    def _finish(self, r: LogRecord, t: _Target, a: _Extra | None, f: _Extra | None,
                bits: tuple[Any, ...] | None) -> Verdict:
        """Combine a target's evidence with site context, agent and referer (``possibly_succeeded`` unset)."""
        parts = [t.score]
        cats = list(t.categories)
        reasons = list(t.reasons)
        status = r.status or 0
        ok = 200 <= status < 300
        redirected = 300 <= status < 400
        error = 400 <= status < 500
        if bits is not None:
            served_before, ext_served, warm, method_ok, proxy_own, urls_own = bits
            probed = False
            for hit in t.hits:
                if hit.kind == "hard":
                    s = W_HARD_SENSITIVE
                elif hit.kind == "webshell":
                    s = 0.3 if served_before else (W_WEBSHELL if error else 0.6 if ok else 0.3)
                elif error and not served_before:
                    s = W_PROBE if hit.kind == "probe" else W_PROBE * 0.95
                elif redirected and not served_before and hit.kind == "probe":
                    s = W_PROBE_REDIRECTED
                else:
                    s = 0.15
                parts.append(s)
                probed = probed or s >= 0.5
                if hit.category not in cats:
                    cats.append(hit.category)
                if hit.kind == "probe" and s >= 0.5:
                    reasons.append(f"{hit.reason} on a site that does not serve it")
                else:
                    reasons.append(hit.reason)
            # a declared crawler's 404 on a script is a broken link it followed (lists still apply to it,
            # and a fake crawler that probes is the behaviour detectors' fake_crawler)
            if t.script_ext and error and not ext_served and not probed and not self._is_crawler(r.user_agent):
                parts.append(W_EXT_PROBE if warm else W_EXT_PROBE_COLD)
                if "scanner" not in cats:
                    cats.append("scanner")
                reasons.append(f"probe for a .{t.script_ext} script on a site that never served one")
            if t.head_script and (not r.user_agent or r.user_agent == "-"):
                parts.append(W_HEAD_NO_AGENT)
                if "scanner" not in cats:
                    cats.append("scanner")
                reasons.append(f"HEAD without a user agent on a .{t.script_ext} script")
            if r.method == "POST" and not method_ok and warm and not redirected:  # 3xx: post/redirect/get
                parts.append(W_POST_NEVER_OK)
                cats.append("other")
                reasons.append(f"POST to a site that has not accepted POSTs before (answered {status})")
            elif t.odd_method and status in _METHOD_REFUSED and not method_ok:
                parts.append(W_METHOD_NEVER_OK)
                cats.append("protocol_abuse")
                reasons.append(f"{r.method} on a site that never accepted one (answered {status})")
            elif t.write and error and not served_before and not t.hits:
                parts.append(W_WRITE_UNSERVED)
                cats.append("other")
                reasons.append(f"{r.method} to a path the site does not serve")
            if t.proxy_host is not None and not proxy_own:
                parts.append(W_FOREIGN_PROXY_OK if ok else W_FOREIGN_PROXY)
                cats.append("protocol_abuse")
                reasons.append(f"full-URL request for another host {_printable(t.proxy_host, 40)}")
            for (_host, s, text), own in zip(t.url_units, urls_own, strict=True):
                if not own:
                    parts.append(s)
                    if s >= 0.5 and not cats:
                        cats.append("other")
                        reasons.append(f"unusual {_printable(text, 50)}")
        for extra in (a, f):
            if extra is not None:
                parts.append(extra.score)
                if extra.category not in cats:
                    cats.append(extra.category)
                reasons.append(extra.reason)
        score = _noisy_or(parts)
        flagged = score >= self._verdict_threshold
        if not flagged and score < 0.3:
            cats = [c for c in cats if c != "other"]
        cats = list(dict.fromkeys(cats))
        return Verdict(round(score, 4), flagged, tuple(cats), tuple(dict.fromkeys(reasons))[:4], False,
                       severity_of(cats, flagged))


def _local_part(target: str | None) -> str | None:
    """The path of an absolute-form target (``http://host/path`` → ``/path``); other targets unchanged.

    The host of a full-URL request is judged against the site's own hosts, not by the payload model.
    """
    if target and target[:1] != "/" and target[:8].lower().startswith(("http://", "https://")):
        rest = target.split("/", 3)
        return "/" + rest[3] if len(rest) == 4 else "/"
    return target


def _printable(text: str, limit: int) -> str:
    """Log content made safe for a reason: control characters escaped, length capped."""
    text = text[:limit]
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
