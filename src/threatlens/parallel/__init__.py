"""The exact parallel scan (``threatlens scan -j N`` and ``--dask``).

Parsing, the largest cost per line and a pure function of each line, runs in other processes
(local worker processes, or Dask tasks); everything that carries state from line to line (site
context, per-IP behaviour, campaigns, port scans, aggregates) and all output stay in the scanning
process, fed in input order and in the very batches a single process would use. So verdicts,
alerts, summaries and exports are those of ``-j 1`` by construction, not by approximation.

:mod:`~threatlens.parallel.units` says which process parses what; :mod:`~threatlens.parallel.jobs` how
many local processes ``-j`` runs, :mod:`~threatlens.parallel.local` runs them;
:mod:`~threatlens.parallel.cluster` runs it on a Dask cluster.
"""
