"""How many processes ``threatlens scan -j`` runs: ``-j N`` as given, ``-j auto`` by input size and free cores."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence

#: Processes ``-j auto`` uses at most: the scanning process (about 60 % of the work per line) and two
#: parsing processes already keep it busy; more would only read the input once more each.
AUTO_MAX = 3
#: Input below which ``-j auto`` stays in one process: starting a parsing process costs about as
#: much CPU as parsing this much (a .gz archive counts :data:`GZIP_RATIO` times its size).
AUTO_MIN_BYTES = 8 << 20
GZIP_RATIO = 8
#: Free cores ``-j auto`` needs before it starts a second process (and one more for each further one).
#: With ``-j 2`` the scoring process does 0.70-0.80 of ``-j 1``'s CPU work and the parsing process
#: 0.45-0.50 (moving parsed lines costs the difference), so the pair needs over 1.25 cores to beat
#: ``-j 1``: given F free cores it takes about max(0.75, 1.25 / F) of ``-j 1``'s wall time. With less it
#: gains nothing and spends 10-30 % more CPU; with Linux's autogroup scheduling (each session gets
#: its share of the CPU, however many processes it runs) it is then slower than ``-j 1`` in wall time.
AUTO_FREE = 1.25
#: Seconds over which ``-j auto`` measures how busy the cores are (the scan waits this long once).
BUSY_WINDOW = 0.1


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_processes(cores: int, busy: float) -> int:
    """Processes for ``-j auto`` on ``cores`` cores of which other programs keep ``busy`` cores busy.

    One until :data:`AUTO_FREE` cores are free, then one more for each further free core, at most
    one per core and :data:`AUTO_MAX`.
    """
    free = cores - busy
    if free < AUTO_FREE:
        return 1
    return max(1, min(cores, AUTO_MAX, 2 + int(free - AUTO_FREE)))


def busy_cores(window: float = BUSY_WINDOW) -> float:
    """Cores of this process's CPU set that other programs kept busy over the next ``window`` seconds.

    Measured from the kernel's CPU time counters (``/proc/stat``, idle and I/O wait being free,
    time stolen by a hypervisor busy) while this process sleeps, less any CPU this process used
    meanwhile. An instant measure rather than the 1-minute load average on purpose: that average
    still counts, for a minute, work that has just ended (the previous scan of a script or of
    ``bench/scan.py``, a build that just finished), and it counts waiting processes, not used cores.
    Where ``/proc/stat`` is missing (not Linux): the 1-minute load average, at most the cores.
    """
    cores = available_cores()
    before = _cpu_ticks()
    if before is None:
        return min(float(cores), os.getloadavg()[0])
    own, start = _own_cpu(), time.monotonic()
    time.sleep(window)
    after = _cpu_ticks()
    if after is None:
        return min(float(cores), os.getloadavg()[0])
    total = after[0] - before[0]
    if total <= 0:
        return 0.0
    busy_share = 1 - (after[1] - before[1]) / total  # of all the CPU time of the counted cores
    ours = max(0.0, _own_cpu() - own) / max(time.monotonic() - start, 1e-3)
    return max(0.0, min(float(cores), busy_share * cores - ours))


def _cpu_ticks() -> tuple[int, int] | None:
    """(all, free) CPU time counters of the cores this process may run on, or ``None`` without ``/proc/stat``."""
    try:
        allowed = os.sched_getaffinity(0)
        with open("/proc/stat", encoding="ascii") as f:
            lines = f.read().splitlines()
    except (AttributeError, OSError):
        return None
    total = free = counted = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or not name[3:].isdigit() or int(name[3:]) not in allowed:
            continue
        # user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
        fields = [int(v) for v in rest.split()[:8]]
        total += sum(fields)
        free += fields[3] + (fields[4] if len(fields) > 4 else 0)
        counted += 1
    return (total, free) if counted else None


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def resolve_jobs(jobs: str | int, paths: Sequence[str] = (), busy: float | None = None) -> int:
    """The number of processes for ``-j`` (see :func:`choose_jobs`)."""
    return choose_jobs(jobs, paths, busy)[0]


def choose_jobs(jobs: str | int, paths: Sequence[str] = (), busy: float | None = None) -> tuple[int, str | None]:
    """The number of processes for ``-j``, and why when ``auto`` looked at the cores (else ``None``).

    ``auto``: one for less than :data:`AUTO_MIN_BYTES` of input, else :func:`auto_processes` of the
    cores that other programs keep ``busy`` (``None``: measured now, :func:`busy_cores`).
    """
    if jobs != "auto":
        return int(jobs), None
    if _input_bytes(paths) < AUTO_MIN_BYTES:
        return 1, None
    cores = available_cores()
    if busy is None:
        busy = busy_cores()
    return auto_processes(cores, busy), f"{max(0.0, cores - busy):.1f} of {cores} cores free"


def _input_bytes(paths: Sequence[str]) -> int:
    total = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                gz = f.read(2) == b"\x1f\x8b"
                total += os.fstat(f.fileno()).st_size * (GZIP_RATIO if gz else 1)
        except OSError:
            continue  # reported by the scan itself
    return total
