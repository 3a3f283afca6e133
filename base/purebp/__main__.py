"""``python3 -m purebp``: runs purebp.cli.app."""

import sys

from purebp.cli import main

if __name__ == "__main__":
    sys.exit(main())
