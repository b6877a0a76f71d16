"""``python -m tainik``."""

import sys

from tainik.cli.main import main

sys.exit(main())
