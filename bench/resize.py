"""How long the monitor's tables keep their old columns after the terminal is resized (real terminal: tmux).

The monitor runs in a tmux session on ``sample_logs/combined.log`` (read from the start, then idle unless
``--rate`` starts ``bench/tui.py``'s writer); this script resizes the window through 100, 160, 64, 120 and 80
columns and polls ``tmux capture-pane`` every few milliseconds. For each resize it takes two times:

* **first frame**: the first capture whose panels' top borders are the ones the screen settles on (the peer:
  the monitor's first redraw at the new size, plus tmux's delivery and a capture's cost; tmux itself crops or
  pads the old screen at once, which is not counted);
* **tables fit**: the first capture whose table headers (top IPs, countries, ports, alerts) are the ones the
  screen settles on (its last capture, 2.5 s later).

``fit - first`` is the lag the tables add: 0 when they are drawn with their new columns in the first frame.
``--paused`` presses ``p`` first; ``--ingest thread`` runs the monitor with ingestion in its UI process
(``threatlens-tui`` uses a separate process).

    .venv/bin/python bench/resize.py [--rounds 4] [--ingest process|thread] [--paused] [--rate 0]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from keys import Pane, header, pct, start_writer

BENCH = Path(__file__).resolve().parent
SAMPLE = BENCH.parent / "sample_logs" / "combined.log"
WIDTHS = (100, 160, 64, 120, 80, 160)
HEIGHT = 45
POLL = 0.004
SETTLE = 2.5  # seconds of captures after each resize; the last one is what the screen settles on
_HEADERS = re.compile(r"(IP +Req|CC +Country|Port +Req|#    Time)")
_DIGITS = re.compile(r"[0-9]+")


def table_headers(screen: str) -> list[str]:
    """The header line of each table on screen (the panel borders split them)."""
    return [chunk.rstrip() for row in screen.splitlines() for chunk in row.split("│") if _HEADERS.search(chunk)]


def top_borders(screen: str) -> list[str]:
    """The rows holding a panel's top border, counts as ``#`` (titles count lines as they arrive)."""
    return [_DIGITS.sub("#", row.rstrip()) for row in screen.splitlines() if "╭" in row]


def one_resize(pane: Pane, width: int) -> tuple[float, float]:
    """Seconds to the first capture with the settled panel borders and to the first with the settled table headers."""
    t0 = time.monotonic()
    pane.tmux("resize-window", "-t", "tl", "-x", str(width), "-y", str(HEIGHT))
    caps: list[tuple[float, str]] = []
    while time.monotonic() - t0 < SETTLE:
        caps.append((time.monotonic() - t0, pane.screen()))
        time.sleep(POLL)
    final = table_headers(caps[-1][1])
    borders = top_borders(caps[-1][1])
    first = next((t for t, s in caps if top_borders(s) == borders), float("nan"))
    fit = next((t for t, s in caps if table_headers(s) == final), float("nan"))
    return first, fit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4, help="passes over the widths")
    ap.add_argument("--ingest", choices=("process", "thread"), default="process")
    ap.add_argument("--paused", action="store_true", help="press p before resizing")
    ap.add_argument("--rate", type=int, default=0, help="lines/s a writer appends meanwhile (0: none)")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed (apt-get install tmux): nothing measured")
        return 0
    print(f"resize lag, {args.ingest} ingestion{', paused' if args.paused else ''}, writer {args.rate} lines/s, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        log = work / "access.log"
        log.write_bytes(SAMPLE.read_bytes())
        config = work / "config.toml"
        if args.ingest == "process":
            command = f"{Path(sys.executable).with_name('threatlens-tui')} --from-start --config {config} {log}"
        else:
            command = (f"{sys.executable} -c \"from threatlens.tui.app import make_app; make_app(['{log}'], "
                       f"from_start=True, ingest='thread', config_path='{config}').run()\"")
        pane = Pane(f"threatlens-resize-{os.getpid()}")
        pane.start(command)
        pane.tmux("resize-window", "-t", "tl", "-x", "160", "-y", str(HEIGHT))
        writer = None
        firsts: list[float] = []
        lags: list[float] = []
        try:
            pane.wait(lambda s: "model threatlens-model" in header(s) and "lines 5" in s, 60)
            time.sleep(1.0)
            if args.paused:
                pane.keys("p")
                pane.wait(lambda s: "PAUSED" in header(s))
            if args.rate:
                lines = work / "lines.log"
                lines.write_bytes(SAMPLE.read_bytes() * 10)
                writer = start_writer(log, lines, args.rate, args.rounds * len(WIDTHS) * (SETTLE + 0.5) + 5)
            for _ in range(args.rounds):
                for width in WIDTHS:
                    first, fit = one_resize(pane, width)
                    firsts.append(first)
                    lags.append(max(0.0, fit - first))
                    print(f"  {width:>3} columns: first frame {first * 1000:5.0f} ms, tables fit {fit * 1000:5.0f} ms",
                          flush=True)
                    time.sleep(0.3)
        finally:
            if writer is not None:
                writer.kill()
            pane.quit()
    print(f"first frame after a resize: p50 {pct(firsts, 50) * 1000:.0f} ms, max {max(firsts) * 1000:.0f} ms; "
          f"tables fit after it: p50 {pct(lags, 50) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms "
          f"(0: the first frame); load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
