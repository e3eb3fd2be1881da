"""`python -m ignition`: the same entry point as the `ignition` console script."""

import sys

from ignition.cli import main

sys.exit(main())
