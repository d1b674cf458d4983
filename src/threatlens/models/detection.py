"""``Detection``: the per-request scorer, the allowlist and the per-IP behaviour detectors together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from threatlens.models.allowlist import Allowlist
from threatlens.models.behaviour import BehaviourTracker
from threatlens.models.campaigns import CampaignTracker
from threatlens.models.verdict import Alert, Verdict
from threatlens.parsers.record import LogRecord

if TYPE_CHECKING:
    from threatlens.models.classifier import RequestScorer

#: The verdict of a request without a scorer, and of an allowlisted request.
CLEAN = Verdict(0.0, False)
ALLOWLISTED = Verdict(0.0, False, (), ("allowlisted",))


class Detection:
    """Score batches of records and watch each client IP.

    ``process`` returns one verdict per record (parallel to the input) and the alerts the batch
    raised. Allowlisted requests get ``flagged=False`` with the reason ``allowlisted`` and never
    reach the behaviour or campaign detectors (so an allowlisted IP never raises an alert nor joins
    a campaign). Without a scorer (``scorer=None``) every verdict has score 0 and only the behaviour
    detectors speak.
    """

    def __init__(self, scorer: RequestScorer | None, behaviour: BehaviourTracker | None = None,
                 allowlist: Allowlist | None = None, campaigns: CampaignTracker | None = None) -> None:
        self.scorer = scorer
        self.behaviour = behaviour if behaviour is not None else BehaviourTracker()
        self.campaigns = campaigns if campaigns is not None else CampaignTracker()
        self.allowlist = allowlist if allowlist is not None else Allowlist()
        self._threshold: float | None = None

    @classmethod
    def load(cls, model: str | Path | None = None, *, threshold: float | None = None,
             baseline: str | Path | None = None, allowlist: Iterable[str] = (),
             parsed_allowlist: Allowlist | None = None) -> Detection:
        """Load the model (``None``: the shipped one), the baseline and the allowlist.

        ``baseline=None`` uses the default baseline file if it exists (see
        :func:`threatlens.models.baseline.default_baseline_path`); an explicit path must exist.
        Raises :class:`~threatlens.errors.ModelError` for a missing or untrusted model or baseline, and
        :class:`~threatlens.errors.AllowlistError` for a bad allowlist entry. ``parsed_allowlist``:
        ``allowlist`` already read (the config's), copied rather than read again (:meth:`Allowlist.parse`).
        """
        from threatlens.models.baseline import Baseline, default_baseline_path
        from threatlens.models.classifier import RequestScorer

        allow = Allowlist.parse(allowlist, built=parsed_allowlist)
        scorer = RequestScorer.load(model, threshold=threshold)
        if baseline is None:
            default = default_baseline_path()
            learned = Baseline.load(default) if default.is_file() else None
        else:
            learned = Baseline.load(baseline)
        return cls(scorer, BehaviourTracker(baseline=learned), allow)

    @property
    def threshold(self) -> float | None:
        """The score at or above which a request is flagged (the scorer's; ``None`` without one)."""
        return self.scorer.threshold if self.scorer is not None else self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {value}")
        if self.scorer is not None:
            self.scorer.threshold = value
        self._threshold = value

    def flush(self) -> list[Alert]:
        """The input ended for good (a scan, not a follow): campaign alerts that were waiting for log time."""
        return self.campaigns.flush()

    def process(self, records: Sequence[LogRecord]) -> tuple[list[Verdict], list[Alert]]:
        """Score ``records`` and run the behaviour detectors; return (verdicts, new alerts)."""
        if not records:
            return [], []
        allow = self.allowlist
        if allow:
            keep = [i for i, r in enumerate(records) if not allow.matches(r)]
            kept = [records[i] for i in keep] if len(keep) != len(records) else records
        else:
            keep, kept = None, records
        scored = self.scorer.score(kept) if self.scorer is not None and kept else [CLEAN] * len(kept)
        alerts = self.behaviour.observe(kept, scored) + self.campaigns.observe(kept, scored) if kept else []
        if keep is None or len(keep) == len(records):
            return list(scored), alerts
        verdicts = [ALLOWLISTED] * len(records)
        for i, v in zip(keep, scored, strict=True):
            verdicts[i] = v
        return verdicts, alerts
