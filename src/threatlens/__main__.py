"""``python -m threatlens`` is the ``threatlens`` command."""

from __future__ import annotations

import sys

from threatlens.cli import main

sys.exit(main())
