"""``python -m gnetlab.gnet OUT.pt --spec JSON [--threads N]``: train a G-Net from a spec (or reuse the
checkpoint if it already holds that spec) and save it; see :func:`gnetlab.gnet.train.main`."""

from .train import main

raise SystemExit(main())
