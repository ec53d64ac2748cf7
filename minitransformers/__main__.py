"""``python -m minitransformers``: the same as the ``minitransformers`` command."""

import sys

from .cli import main

sys.exit(main())
