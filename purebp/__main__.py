"""``python3 -m purebp``: runs purebp.cli.main."""

import sys

from purebp.cli import main

if __name__ == "__main__":
    sys.exit(main())
