"""``threatlens train``: rebuild the request classifier, or learn a site's behaviour baseline."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from threatlens.errors import DataError, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``train``."""
    p = sub.add_parser(
        "train",
        help="rebuild the request classifier from labelled data, or learn a behaviour baseline",
        description="Without --baseline: rebuild the per-request classifier from the labelled data in DIR "
        "(layout of ../shared/data: labeled/, logs/, signatures/), measure it on a held-out split and "
        "write the model file plus model.json (version, data, command, seed, threshold, metrics) beside it. "
        "The same seed gives the same model. With --baseline LOG...: fit the per-IP behaviour baseline "
        "(IsolationForest) on this site's own access logs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  threatlens train --data ../shared/data   # into ~/.local/share/threatlens/threatlens-model.skops\n"
        "  threatlens train --data /srv/data --out /tmp/model.skops --seed 1\n"
        "  threatlens train --baseline /var/log/nginx/access.log*\n"
        "exit status: 0 done, 2 bad arguments or missing data",
    )
    p.add_argument("--data", metavar="DIR", type=Path,
                   help="labelled data folder, laid out like ../shared/data (required without --baseline)")
    p.add_argument("--out", metavar="PATH", type=Path,
                   help="where to write the model (default: threatlens-model.skops in $XDG_DATA_HOME/threatlens, "
                   "~/.local/share/threatlens; use it with --model or model = in the config); with "
                   "--baseline: the baseline file (default: beside the user configuration)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed of split and fit (default 0)")
    p.add_argument("--baseline", nargs="+", metavar="LOG",
                   help="fit the behaviour baseline on these access logs instead of the classifier")
    p.add_argument("--json", action="store_true", help="print the resulting model information as JSON")
    p.set_defaults(func=run)


def _command_line(args: argparse.Namespace) -> str:
    parts = ["threatlens", "train"]
    if args.data is not None:
        parts += ["--data", str(args.data)]
    if args.out is not None:
        parts += ["--out", str(args.out)]
    parts += ["--seed", str(args.seed)]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    """Train and report."""
    if args.baseline:
        return _run_baseline(args)
    from threatlens.config import default_data_dir
    from threatlens.models.classifier import MODEL_FILE

    if args.data is None:
        raise UsageError("--data DIR is required: the folder of labelled data (laid out like ../shared/data)")
    data = args.data
    if not (data / "labeled").is_dir():
        raise DataError(f"no labelled data in {data} (expected a labeled/ folder)")
    out = args.out if args.out is not None else default_data_dir() / MODEL_FILE
    if out.suffix != ".skops":
        raise UsageError(f"--out {out}: the model file name must end in .skops")
    info = _train_with_progress(data, out, args.seed, _command_line(args))
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(info, out)
    return 0


def _train_with_progress(data: Path, out: Path, seed: int, command: str) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from threatlens.models.training import train_model

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("training", total=1.0)

        def progress(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=fraction)
            if not console.is_terminal:
                print(f"threatlens train: {message}", file=sys.stderr)

        try:
            return train_model(data, out, seed, progress=progress, command=command)
        except OSError as exc:  # unreadable data, or an output path that cannot be written
            raise DataError(str(exc)) from exc


def _print_summary(info: dict[str, Any], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    m = info["metrics"]
    p = m["payload_test"]
    v = m["payload_test_benign_values"]
    e = m["elastic_heldout_ips"]
    table = Table(title=f"model written to {out}", show_header=True)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("training units (train / calibration / test)",
         f"{info['training_data']['train']:,} / {info['training_data']['calibration']:,} / "
         f"{info['training_data']['test']:,}"),
        ("payload test ROC-AUC", f"{p['roc_auc']}"),
        ("payload test recall / precision", f"{p['recall']:.4f} / {p['precision']:.4f}"),
        ("payload test FPR (all benign units)", f"{p['fpr']:.4%}"),
        ("FPR on benign parameter values", f"{v['fpr']:.4%}"),
        ("held-out elastic IPs with a flagged request", f"{e['flagged_ips']} of {e['ips']}"),
        ("threshold", f"{info['threshold']}"),
        ("seconds", f"{info['train_seconds']}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
    from threatlens.textsafe import visible

    print(visible(f"use it with --model {out} (or model = {json.dumps(str(out))} in the config file)"))


def _run_baseline(args: argparse.Namespace) -> int:
    for log in args.baseline:
        if log != "-" and not Path(log).is_file():
            raise UsageError(f"--baseline {log}: no such file")
    from threatlens.models.baseline import train_baseline

    try:
        info = train_baseline(list(args.baseline), args.out, args.seed)
    except OSError as exc:
        raise DataError(str(exc)) from exc
    if args.json:
        json.dump(info, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(f"baseline written to {info.get('path', args.out)}")
    return 0
