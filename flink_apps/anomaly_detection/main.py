"""Entry point of the deployed zip (run option ``python = main.py``); copied to the zip's root.

The application's code is in the zip's ``python/`` folder (run option ``pyFiles = python/``, which
puts it on the path of the Python workers that run the operators); the line below puts it on this
driver process's path as well, so that the entry point does not depend on how it is started.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

from anomaly_detection.job import main  # noqa: E402

if __name__ == "__main__":
    main()
