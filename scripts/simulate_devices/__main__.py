"""``python -m scripts.simulate_devices``: the command line (see ``scripts/README.md``)."""

import sys

from .senders import main

if __name__ == "__main__":
    sys.exit(main())
