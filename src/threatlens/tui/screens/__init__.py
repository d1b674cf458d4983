"""The monitor's screens and dialogs, one per module.

Each is imported on first use: the dashboard's module alone is what the first frame needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatlens.lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "AllowlistPrompt": "allowlist_prompt", "BlocklistDialog": "blocklist_dialog", "CampaignScreen": "campaign",
    "ConfirmScreen": "confirm", "DashboardScreen": "dashboard", "ExportDialog": "export_dialog",
    "FilterPrompt": "filter_prompt", "KEYS": "help", "HelpScreen": "help", "IpDetailScreen": "ip_detail",
    "RequestDetailScreen": "request_detail",
}

__getattr__ = lazy_exports(__name__, _LAZY)

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
