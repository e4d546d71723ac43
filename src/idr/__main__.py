"""`python -m idr`: the same as the `idr` command."""

import sys

from idr.cli import main

sys.exit(main())
