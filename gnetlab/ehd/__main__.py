"""``python -m gnetlab.ehd``: the EHD benchmark, now ``python -m gnetlab.bench ehd``."""

from ..bench import ehd_main

raise SystemExit(ehd_main())
