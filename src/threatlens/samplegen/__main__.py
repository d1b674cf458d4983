"""``python -m threatlens.samplegen``: write a seeded sample access log, or replay one live."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime

from threatlens.samplegen import ALIASES, DEFAULT_START, FORMATS, live_lines, parse_tz, write_sample
from threatlens.samplegen.firewall import STYLES, companion


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(
        prog="python -m threatlens.samplegen",
        description="Generate a realistic access log (browsing, crawlers, monitors and a few percent of "
        "attacks) with ground-truth labels, or (--format ufw, journal, ...) the firewall log of the host that "
        "served it: internet background, the clients' allowed SYNs, and port scans by some of its attackers "
        "just before their first request. Same seed, same output.",
    )
    p.add_argument(
        "--format",
        "-f",
        default="combined",
        choices=sorted((*FORMATS, *ALIASES, *STYLES)),
        help="log format (json = Traefik JSON access log; default: combined); firewall logs: "
        "ufw (RFC 3339 ufw.log), ufw_syslog, journal (journalctl -k -o short-iso), journal_json, nftables, "
        "firewalld: the firewall log beside the access log of the same --lines, --seed, --start and --rate",
    )
    p.add_argument("--lines", "-n", type=int, default=5000, help="number of lines (default: 5000)")
    p.add_argument("--seed", "-s", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("-o", "--output", default="-", help="output file, - for standard output (default)")
    p.add_argument("--labels", metavar="FILE", help="write ip<TAB>role ground truth for every IP in the log")
    p.add_argument(
        "--line-labels",
        metavar="FILE",
        help="write line<TAB>ip<TAB>role<TAB>category for every line (with a header)",
    )
    p.add_argument(
        "--start",
        default=DEFAULT_START.isoformat(),
        help=f"ISO-8601 time of the first line (default: {DEFAULT_START.isoformat()})",
    )
    p.add_argument("--tz", help="UTC offset written in timestamps, e.g. +0200 (default: the --start offset)")
    p.add_argument("--rate", type=float, default=2.0, help="mean lines per second of log time (default: 2)")
    p.add_argument(
        "--attack-share", type=float, default=0.05, help="share of lines from attack episodes (default: 0.05)"
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="replay in real time with current timestamps, appending to --output (endless "
        "unless --lines is given explicitly)",
    )
    p.add_argument("--speed", type=float, default=1.0, help="with --live: play this many times faster")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lines < 0:
        parser.error("--lines must be >= 0")
    try:
        tz = parse_tz(args.tz) if args.tz else None
        start = datetime.fromisoformat(args.start)
    except ValueError as exc:
        parser.error(str(exc))
    if args.live:
        explicit = any(a in ("--lines", "-n") or a.startswith("--lines=") for a in (argv or sys.argv[1:]))
        out = sys.stdout if args.output == "-" else open(args.output, "a", encoding="utf-8")  # noqa: SIM115
        try:
            for line in live_lines(
                args.seed,
                args.format,
                args.rate,
                speed=args.speed,
                attack_share=args.attack_share,
                tz=tz,
                n_lines=args.lines if explicit else None,
            ):
                out.write(line + "\n")
                out.flush()
        except (KeyboardInterrupt, BrokenPipeError):
            return 0
        finally:
            if out is not sys.stdout:
                out.close()
        return 0
    if args.format in STYLES:
        if args.live:
            parser.error("--live writes access logs only")
        lines, labels = companion(args.seed, args.lines, start, args.rate, attack_share=args.attack_share,
                                  style=args.format)
        text = "".join(f"{line}\n" for line in lines)
        if args.output == "-":
            sys.stdout.write(text)
        else:
            with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            print(f"wrote {len(lines)} firewall lines to {args.output}", file=sys.stderr)
        if args.labels:
            with open(args.labels, "w", encoding="utf-8", newline="\n") as fh:
                fh.write("".join(f"{ip}\t{role}\n" for ip, role in sorted(labels.items())))
        return 0
    began = time.perf_counter()
    counts = write_sample(
        sys.stdout if args.output == "-" else args.output,
        args.lines,
        args.format,
        args.seed,
        start,
        args.rate,
        attack_share=args.attack_share,
        tz=tz,
        labels_path=args.labels,
        line_labels_path=args.line_labels,
    )
    took = time.perf_counter() - began
    if args.output != "-":
        total = sum(counts.values())
        attacks = sum(v for k, v in counts.items() if k.startswith("attacker:"))
        print(
            f"wrote {total} lines to {args.output} in {took:.1f} s ({total / max(took, 1e-9):,.0f} lines/s); "
            f"attack lines {attacks} ({attacks / max(total, 1):.1%})",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
