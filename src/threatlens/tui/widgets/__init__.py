"""The monitor's widgets, one per module."""

from __future__ import annotations

from threatlens.tui.widgets.alerts_feed import AlertsFeed
from threatlens.tui.widgets.choice_button import ChoiceButton
from threatlens.tui.widgets.header_bar import HeaderBar, HeaderInfo
from threatlens.tui.widgets.keyed_table import KeyedTable
from threatlens.tui.widgets.rate_panel import RatePanel
from threatlens.tui.widgets.status_mix import StatusMix
from threatlens.tui.widgets.top_countries_table import TopCountriesTable
from threatlens.tui.widgets.top_ips_table import TopIpsTable
from threatlens.tui.widgets.top_ports_table import TopPortsTable

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
