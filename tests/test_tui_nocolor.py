"""With ``NO_COLOR`` the monitor draws what matters most (HIGH scores, the attack tier, the header's flagged and
alerts counts) bold or reversed in the ordinary text colour, never dimmer than ordinary text."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.segment import Segment

from threatlens.tui.app import make_app
from tui_support import ATTACKER, FIXED_NOW, RuleDetection, attack_lines, normal_lines, run_async, wait_for, write_log


def _segments(app) -> list[list[Segment]]:
    """The frame as the terminal gets it (line filters such as NO_COLOR's monochrome applied)."""
    return [list(strip) for strip in app.screen._compositor.render_strips()]


def _find(lines: list[list[Segment]], row_has: str, text: str) -> Segment:
    for line in lines:
        if row_has in "".join(s.text for s in line):
            for seg in line:
                if seg.text.strip() == text:
                    return seg
    raise AssertionError(f"no {text!r} on a line with {row_has!r}")


def _brightness(seg: Segment) -> float:
    color = seg.style.color if seg.style and seg.style.color else None
    assert color is not None and color.triplet is not None, seg
    return sum(color.triplet) / 3


@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "colour"])
@run_async
async def test_what_matters_is_bold_or_reverse_without_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    lines = normal_lines(40) + attack_lines(9, start=40)
    log = write_log(tmp_path / "access.log", lines)
    app = make_app([log], from_start=True, detection=RuleDetection(), geo=None, clock=lambda: FIXED_NOW,
                   export_dir=tmp_path / "exports")
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.live.totals.lines >= len(lines) and app.live.totals.alerts >= 1,
                       timeout=30)
        app.refresh_dashboard(force=True)
        await pilot.pause()
        frame = _segments(app)
        assert app.no_color is no_color
        ordinary = _find(frame, "lines/s", f"lines {len(lines)}  parsed {len(lines)}  unparsed 0  flagged")
        score = _find(frame, ATTACKER, "0.95 HIGH")
        tier = _find(frame, ATTACKER, "attack")
        flagged = _find(frame, "lines/s", "9")
        alerts = _find(frame, "lines/s", "1")
        for seg in (score, tier, flagged, alerts):
            assert not seg.style.dim, seg
            assert seg.style.bold, seg
            if no_color:
                assert _brightness(seg) >= _brightness(ordinary), (seg, ordinary)
        if no_color:
            assert score.style.reverse and flagged.style.reverse and alerts.style.reverse
