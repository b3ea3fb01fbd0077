"""`python -m sim.mpboard` (and `python -m sim mpboard`): start the virtual serial board."""

import sys

from sim.mpboard.launcher import main

sys.exit(main())
