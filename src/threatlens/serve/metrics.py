"""``/metrics``: the engine's counters in the Prometheus text format, through ``prometheus_client``."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from threatlens import __version__
from threatlens.serve.engine import Engine

#: (name, type, help) of every metric, for the README and the tests.
METRICS = (
    ("threatlens_lines_read_total", "counter", "Log lines read and processed (requests, packets and unparsed)"),
    ("threatlens_lines_parsed_total", "counter", "Log lines parsed into requests"),
    ("threatlens_firewall_packets_total", "counter", "Firewall log lines parsed into packets"),
    ("threatlens_lines_unparsed_total", "counter", "Log lines that could not be parsed"),
    ("threatlens_flagged_requests_total", "counter", "Requests flagged by the model, by severity"),
    ("threatlens_flagged_categories_total", "counter", "Flagged requests by attack category"),
    ("threatlens_alerts_total", "counter", "Behaviour alerts by kind and severity"),
    ("threatlens_lines_per_second", "gauge", "Lines processed per second, mean over the last 10 s"),
    ("threatlens_follow_lag_bytes", "gauge", "Bytes written to the followed files but not read yet"),
    ("threatlens_follow_pending_lines", "gauge", "Lines read but not processed yet"),
    ("threatlens_files_followed", "gauge", "Log files followed"),
    ("threatlens_following", "gauge", "1 while the engine follows the logs, 0 after reading stopped"),
    ("threatlens_model_info", "gauge", "Always 1; labels: the model in use and the ThreatLens version"),
)


class EngineCollector(Collector):
    """Reads the engine at scrape time (no background work, nothing kept between scrapes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Yield every metric in ``METRICS`` order."""
        engine = self.engine
        c = engine.counters
        rate = c.lines_per_second()
        files, lag, pending = engine.follow_lag()
        with c.lock:
            parsed, packets, unparsed = c.parsed, c.packets, c.unparsed
            flagged = dict(c.flagged)
            categories = dict(c.categories)
            alerts = dict(c.alerts)
        helps = {name: text for name, _kind, text in METRICS}

        def counter(name: str, value: float | None = None, labels: tuple[str, ...] = ()) -> CounterMetricFamily:
            return CounterMetricFamily(name.removesuffix("_total"), helps[name], value=value,
                                       labels=labels or None)

        def gauge(name: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, helps[name], value=value)

        yield counter("threatlens_lines_read_total", parsed + packets + unparsed)
        yield counter("threatlens_lines_parsed_total", parsed)
        yield counter("threatlens_firewall_packets_total", packets)
        yield counter("threatlens_lines_unparsed_total", unparsed)
        m = counter("threatlens_flagged_requests_total", labels=("severity",))
        for severity, n in sorted(flagged.items()):
            m.add_metric([severity], n)
        yield m
        m = counter("threatlens_flagged_categories_total", labels=("category",))
        for category, n in sorted(categories.items()):
            m.add_metric([category], n)
        yield m
        m = counter("threatlens_alerts_total", labels=("kind", "severity"))
        for (kind, severity), n in sorted(alerts.items()):
            m.add_metric([kind, severity], n)
        yield m
        yield gauge("threatlens_lines_per_second", rate)
        yield gauge("threatlens_follow_lag_bytes", lag)
        yield gauge("threatlens_follow_pending_lines", pending)
        yield gauge("threatlens_files_followed", files)
        yield gauge("threatlens_following", 1.0 if engine.running else 0.0)
        yield InfoMetricFamily("threatlens_model", helps["threatlens_model_info"],
                               value={"model_version": engine.model_name(), "version": __version__})


def make_registry(engine: Engine) -> CollectorRegistry:
    """A registry of its own (not the process-wide default) holding the engine's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The text exposition of ``registry``."""
    return generate_latest(registry)
