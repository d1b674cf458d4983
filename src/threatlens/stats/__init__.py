"""Live aggregates in bounded memory and offline country lookup (no Textual or rich here).

``Stats`` (aggregates), ``TopK`` (Space-Saving sketch), ``GeoLookup`` (IP → country),
``RecordFilter`` (the monitor's ``/`` filter), and helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatlens.lazy import lazy_exports

if TYPE_CHECKING:
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

#: Where each name lives, imported on first use: ``threatlens.stats.geo`` or ``.filter`` alone (the monitor's
#: UI needs them) does not load NumPy with the aggregates.
_LAZY = {
    "Stats": "aggregates", "country_label": "countries", "country_name": "countries",
    "DistinctCounters": "distinct", "FilterError": "filter", "RecordFilter": "filter", "DB_PATTERNS": "geo",
    "DEFAULT_DIRS": "geo", "EMBEDDED_SOURCE": "geo", "ENV_VAR": "geo", "GeoLookup": "geo",
    "classify_special": "geo", "find_databases": "geo", "RateMeter": "rates", "PORTS_HINT": "results",
    "AlertEntry": "results", "CountryRow": "results", "FlaggedRequest": "results", "IPDetail": "results",
    "IPRow": "results", "KeyCount": "results", "PortRow": "results", "Rates": "results", "Totals": "results",
    "Ring": "ring", "SCORE_BINS": "scores", "score_bin": "scores", "threshold_bin": "scores", "TopK": "sketch",
}

__getattr__ = lazy_exports(__name__, _LAZY)


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
