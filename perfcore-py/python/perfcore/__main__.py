"""``python -m perfcore``: the ``perfcore`` command."""

import sys

from ._cli import main

sys.exit(main())
