"""``threatlens evaluate``: measure a model on labelled requests."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from threatlens.errors import DataError, UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``evaluate``."""
    p = sub.add_parser(
        "evaluate",
        help="measure the request classifier on labelled data (precision, recall, ROC-AUC...)",
        description="Score labelled requests with the model and print precision, recall, F1, ROC-AUC, PR-AUC, "
        "the false-positive rate at the threshold, per-category recall and the confusion matrix, for each "
        "input and overall. Accepted inputs: the labelled sets of ../shared/data (HttpParams and Kaggle "
        "CSVs, secrepo URL lists, fwaf badqueries.txt, CSIC 2010 .txt.gz files, gotestwaf .yml and CRS "
        ".yaml files or folders, fuzzdb payload lists) and labelled access logs with one "
        "'label<TAB>access-log line' per line (label 1/0, attack/benign).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  threatlens evaluate ../shared/data/labeled/httpparams/payload_train.csv\n"
        "  threatlens evaluate --json --threshold 0.7 mysite-labelled.tsv\n"
        "exit status: 0 done, 2 bad arguments, unreadable or unrecognised input",
    )
    p.add_argument("labeled", nargs="+", metavar="LABELED", help="labelled file or folder")
    p.add_argument("--model", metavar="PATH", help="model file made by 'threatlens train' (default: shipped)")
    p.add_argument("--threshold", type=float, metavar="T",
                   help="flag at score >= T (0-1; default: the model's calibrated threshold)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    p.set_defaults(func=run)


def evaluate_files(paths: list[str], model: str | None = None, threshold: float | None = None) -> dict[str, Any]:
    """Score every labelled input and return the figures per input and overall."""
    for path in paths:  # before the imports and the model (seconds): a typo fails at once
        if not os.path.exists(path):
            raise DataError(f"{path}: no such file or folder")
        if not os.access(path, os.R_OK):
            raise DataError(f"{path}: permission denied")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold {threshold}: must be between 0 and 1")
    from threatlens.models.classifier import RequestScorer
    from threatlens.models.dataset import load_labeled
    from threatlens.models.metrics import detection_metrics
    from threatlens.models.site_context import SiteContext

    scorer = RequestScorer.load(model, threshold=threshold)
    all_labels: list[int] = []
    all_scores: list[float] = []
    all_cats: list[str] = []
    all_sev: list[str] = []
    per_input: dict[str, Any] = {}
    for path in paths:
        try:
            rows = load_labeled(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: {exc}") from exc
        if not rows:
            raise DataError(f"{path}: no labelled requests found")
        scorer.context = SiteContext()  # each input is its own site
        verdicts = scorer.score([r.record for r in rows])
        labels = [r.label for r in rows]
        scores = [v.score for v in verdicts]
        cats = [r.category for r in rows]
        severities = [v.severity for v in verdicts]
        per_input[path] = detection_metrics(labels, scores, scorer.threshold, cats)
        per_input[path]["flagged_by_severity"] = by_severity(labels, severities)
        all_sev += severities
        all_labels += labels
        all_scores += scores
        all_cats += cats
    overall = detection_metrics(all_labels, all_scores, scorer.threshold, all_cats)
    overall["flagged_by_severity"] = by_severity(all_labels, all_sev)
    return {"model": scorer.info.get("version", "unknown"), "model_path": model or "shipped",
            "threshold": scorer.threshold, "inputs": per_input, "overall": overall}


def by_severity(labels: list[int], severities: list[str]) -> dict[str, dict[str, int]]:
    """Flagged requests per severity tier, split into labelled attacks and labelled benign requests."""
    from threatlens.models.verdict import SEVERITIES

    out = {tier: {"attacks": 0, "benign": 0} for tier in SEVERITIES}
    for label, tier in zip(labels, severities, strict=True):
        if tier:
            out[tier]["attacks" if label else "benign"] += 1
    return out


def run(args: argparse.Namespace) -> int:
    """Evaluate and print."""
    result = evaluate_files(args.labeled, args.model, args.threshold)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    _print_tables(result)
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not console.is_terminal:  # a file or pipe: do not squeeze the table to 80 columns
        console = Console(width=200)
    table = Table(title=f"threshold {result['threshold']:.3f}")
    cols = ("input", "n", "attacks", "precision", "recall", "F1", "ROC-AUC", "PR-AUC", "FPR", "TP", "FP", "FN",
            "TN")
    for c in cols:
        table.add_column(c, justify="left" if c == "input" else "right")
    rows = [*result["inputs"].items(), ("overall", result["overall"])]
    for name, m in rows:
        cm = m["confusion"]
        table.add_row(Text(name), *(_fmt(m[k]) for k in ("n", "attacks", "precision", "recall", "f1", "roc_auc",
                                                           "pr_auc", "fpr")),
                      str(cm["tp"]), str(cm["fp"]), str(cm["fn"]), str(cm["tn"]))
    console.print(table)
    per_cat = result["overall"].get("per_category_recall") or {}
    if per_cat:
        cat_table = Table(title="recall per category (overall)")
        cat_table.add_column("category")
        cat_table.add_column("attacks", justify="right")
        cat_table.add_column("recall", justify="right")
        for cat, row in per_cat.items():
            cat_table.add_row(cat, str(row["n"]), f"{row['recall']:.4f}")
        console.print(cat_table)
    tiers = Table(title="flagged requests per severity (overall)")
    tiers.add_column("severity")
    tiers.add_column("attacks", justify="right")
    tiers.add_column("benign", justify="right")
    for tier, row in result["overall"]["flagged_by_severity"].items():
        tiers.add_row(tier, str(row["attacks"]), str(row["benign"]))
    console.print(tiers)
    cm = result["overall"]["confusion"]
    matrix = Table(title="confusion matrix (overall)")
    matrix.add_column("")
    matrix.add_column("flagged", justify="right")
    matrix.add_column("not flagged", justify="right")
    matrix.add_row("attack", str(cm["tp"]), str(cm["fn"]))
    matrix.add_row("benign", str(cm["fp"]), str(cm["tn"]))
    console.print(matrix)
