"""Stand-in for MicroPython's `gc` module: CPython cannot measure the
MicroPython heap, so the figures come from the real-MicroPython runs in
tests/mp; here they only need to exist."""

import gc as _gc

collect = _gc.collect
enable = _gc.enable
disable = _gc.disable
isenabled = _gc.isenabled

HEAP_BYTES = 110_000


def mem_alloc():
    return 0


def mem_free():
    return HEAP_BYTES


def threshold(amount=None):
    return -1 if amount is None else None
