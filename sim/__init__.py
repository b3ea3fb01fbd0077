"""RearGuard's virtual board: the real firmware files run on stand-ins for
MicroPython's `machine` and `time` modules, against register-level chip models
driven by a simulated world.

    python -m sim board            # boot the firmware on the default virtual board
    python -m sim demo             # the default run, told as a story
"""
