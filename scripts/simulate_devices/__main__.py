"""``python -m scripts.simulate_devices``: the command line (:func:`.cli.main`; see ``scripts/README.md``).

Kept to the call alone so that importing the package never parses ``sys.argv``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
