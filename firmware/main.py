# Boot: the selected board config, the real machine, time and filesystem
# modules, the app. Ctrl-C stops the loop cleanly (motor off, session closed)
# and leaves the REPL, where `app` is the stopped App, to look at.
import os
import time

import board
import machine

from rearguard.app import main

app = main(board, machine, time, os)
