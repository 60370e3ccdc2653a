"""Allow `python -m tickets`."""

import sys

from tickets.cli import main

if __name__ == "__main__":
    sys.exit(main())
