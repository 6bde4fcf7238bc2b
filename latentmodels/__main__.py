"""``python -m latentmodels``: the same command line as ``latentmodels``."""

import sys

from latentmodels.cli import main

if __name__ == "__main__":
    sys.exit(main())
