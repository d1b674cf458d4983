"""Thresholds of the per-IP behaviour detectors (sensible defaults; all in log time)."""

from __future__ import annotations

from dataclasses import dataclass

#: Every alert kind the behaviour detectors emit, with its categories.
KINDS: dict[str, tuple[str, ...]] = {
    "scanning": ("scanner",),
    "sensitive_file_probing": ("sensitive_file", "scanner"),
    "admin_probing": ("scanner",),
    "brute_force": ("brute_force",),
    "form_spam": ("brute_force", "bad_bot"),
    "crawl_flood": ("dos",),
    "user_agent_switching": ("bad_bot",),
    "bad_user_agent": ("scanner", "bad_bot"),
    "fake_crawler": ("bad_bot",),
    "user_enumeration": ("scanner",),
    "repeated_attacks": (),
    "anomalous_behaviour": ("other",),
}


@dataclass(frozen=True, slots=True)
class BehaviourConfig:
    """Detector thresholds. A burst is one IP's activity without a gap longer than ``idle_gap``."""

    idle_gap: float = 600.0  #: seconds of silence that end a burst
    expire_after: float = 3600.0  #: seconds after which an idle IP's state may be dropped
    # scanning: weighted distinct missing (4xx) paths
    scan_min_distinct: int = 6
    scan_min_weight: float = 6.0
    scan_min_4xx_ratio: float = 0.5
    # sensitive files / admin panels / software probes
    sensitive_min_distinct: int = 2
    admin_min_distinct: int = 2
    # brute force and form spam
    login_min_posts: int = 8
    form_min_posts: int = 6
    auth_fail_min: int = 10
    auth_fail_min_ratio: float = 0.5
    # crawl flood: requests per minute far above the site's learned norm
    flood_min_per_minute: float = 240.0
    flood_min_per_10s: float = 40.0  #: non-static requests in 10 s (cache-busting floods are short)
    flood_factor: float = 8.0
    flood_norm_quantile: float = 0.99
    flood_norm_min_samples: int = 200
    # user enumeration: distinct account ids asked for (WordPress ?author=N)
    enum_min_distinct: int = 4
    # user-agent switching
    ua_min_distinct: int = 6
    ua_min_ratio: float = 0.3
    # repeated flagged requests (per-request scorer)
    attack_min_flagged: int = 3
    # no alert storm: re-alert in the same burst only when the evidence grew this much and cooldown passed
    escalate_factor: float = 4.0
    escalate_cooldown: float = 600.0
    # baseline checkpoints: evaluate the IsolationForest at these request counts (then doubling)
    baseline_min_requests: int = 20
