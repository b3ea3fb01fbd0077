"""A virtual board running real MicroPython (WebAssembly) on a serial port.

    python -m sim.mpboard --trace run.csv      # prints the port, e.g. /dev/pts/5

See docs/mpboard.md; the launcher is sim/mpboard/launcher.py.
"""
