"""Live aggregates in bounded memory and offline country lookup (no Textual or rich here).

``Stats`` (aggregates), ``TopK`` (Space-Saving sketch), ``GeoLookup`` (IP → country),
``RecordFilter`` (the monitor's ``/`` filter), and helpers.
"""

from __future__ import annotations

from threatlens.stats.aggregates import Stats
from threatlens.stats.countries import country_label, country_name
from threatlens.stats.distinct import DistinctCounters
from threatlens.stats.filter import FilterError, RecordFilter
from threatlens.stats.geo import (
    DB_PATTERNS,
    DEFAULT_DIRS,
    EMBEDDED_SOURCE,
    ENV_VAR,
    GeoLookup,
    classify_special,
    find_databases,
)
from threatlens.stats.rates import RateMeter
from threatlens.stats.results import (
    PORTS_HINT,
    AlertEntry,
    CountryRow,
    FlaggedRequest,
    IPDetail,
    IPRow,
    KeyCount,
    PortRow,
    Rates,
    Totals,
)
from threatlens.stats.ring import Ring
from threatlens.stats.scores import SCORE_BINS, score_bin, threshold_bin
from threatlens.stats.sketch import TopK

__all__ = [
    "DB_PATTERNS",
    "DEFAULT_DIRS",
    "EMBEDDED_SOURCE",
    "ENV_VAR",
    "PORTS_HINT",
    "SCORE_BINS",
    "AlertEntry",
    "CountryRow",
    "DistinctCounters",
    "FilterError",
    "FlaggedRequest",
    "GeoLookup",
    "IPDetail",
    "IPRow",
    "KeyCount",
    "PortRow",
    "RateMeter",
    "Rates",
    "RecordFilter",
    "Ring",
    "Stats",
    "TopK",
    "Totals",
    "classify_special",
    "country_label",
    "country_name",
    "find_databases",
    "score_bin",
    "threshold_bin",
]
