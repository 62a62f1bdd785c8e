"""``python -m tools.pipeline``: see :mod:`tools.pipeline.run`."""

import sys

from tools.pipeline.run import main

sys.exit(main())
