# Boot: the selected board config, the real machine and time modules, the app.
# Ctrl-C stops the loop cleanly (motor off, session closed) and leaves the REPL.
import time

import board
import machine

from rearguard.app import main

main(board, machine, time)
