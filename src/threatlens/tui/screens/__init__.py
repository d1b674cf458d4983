"""The monitor's screens and dialogs, one per module."""

from __future__ import annotations

from threatlens.tui.screens.allowlist_prompt import AllowlistPrompt
from threatlens.tui.screens.blocklist_dialog import BlocklistDialog
from threatlens.tui.screens.campaign import CampaignScreen
from threatlens.tui.screens.confirm import ConfirmScreen
from threatlens.tui.screens.dashboard import DashboardScreen
from threatlens.tui.screens.export_dialog import ExportDialog
from threatlens.tui.screens.filter_prompt import FilterPrompt
from threatlens.tui.screens.help import KEYS, HelpScreen
from threatlens.tui.screens.ip_detail import IpDetailScreen
from threatlens.tui.screens.request_detail import RequestDetailScreen

__all__ = [
    "KEYS",
    "AllowlistPrompt",
    "BlocklistDialog",
    "CampaignScreen",
    "ConfirmScreen",
    "DashboardScreen",
    "ExportDialog",
    "FilterPrompt",
    "HelpScreen",
    "IpDetailScreen",
    "RequestDetailScreen",
]
