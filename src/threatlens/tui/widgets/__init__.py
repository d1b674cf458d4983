"""The monitor's widgets, one per module (each imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatlens.lazy import lazy_exports

if TYPE_CHECKING:
    from threatlens.tui.widgets.alerts_feed import AlertsFeed
    from threatlens.tui.widgets.choice_button import ChoiceButton
    from threatlens.tui.widgets.header_bar import HeaderBar, HeaderInfo
    from threatlens.tui.widgets.keyed_table import KeyedTable
    from threatlens.tui.widgets.rate_panel import RatePanel
    from threatlens.tui.widgets.status_mix import StatusMix
    from threatlens.tui.widgets.top_countries_table import TopCountriesTable
    from threatlens.tui.widgets.top_ips_table import TopIpsTable
    from threatlens.tui.widgets.top_ports_table import TopPortsTable

_LAZY = {
    "AlertsFeed": "alerts_feed", "ChoiceButton": "choice_button", "HeaderBar": "header_bar",
    "HeaderInfo": "header_bar", "KeyedTable": "keyed_table", "RatePanel": "rate_panel", "StatusMix": "status_mix",
    "TopCountriesTable": "top_countries_table", "TopIpsTable": "top_ips_table", "TopPortsTable": "top_ports_table",
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "AlertsFeed",
    "ChoiceButton",
    "HeaderBar",
    "HeaderInfo",
    "KeyedTable",
    "RatePanel",
    "StatusMix",
    "TopCountriesTable",
    "TopIpsTable",
    "TopPortsTable",
]
