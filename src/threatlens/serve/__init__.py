"""``threatlens serve``: the live monitor in a browser, a REST scoring API and Prometheus metrics.

One process follows the logs with the monitor's engine (:mod:`threatlens.serve.engine`) and answers
HTTP (:mod:`threatlens.serve.app`). Needs the ``serve`` extra (aiohttp, textual-serve,
prometheus-client); the core never imports this package.
"""
