# Developer tools run from the Makefile: build, deploy, bench and the
# real-MicroPython runner. Host side only (CPython 3.11); nothing here is
# copied to a board.
