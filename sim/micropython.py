"""Stand-in for MicroPython's `micropython` module under CPython."""


def const(value):
    return value


def native(fn):
    return fn


def viper(fn):
    return fn


def alloc_emergency_exception_buf(size):
    return None


def kbd_intr(char):
    return None


def schedule(fn, arg):
    fn(arg)


def mem_info(verbose=False):
    return None


def opt_level(level=None):
    return 0
