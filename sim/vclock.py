"""The virtual clock behind the simulator's `time` module.

Integer microseconds since the board powered on, exposed through the same
wrapping tick counters as MicroPython (ticks_ms and ticks_us wrap at 2**30 on
the ESP32 port). Time only moves when the firmware sleeps or talks on a bus,
so a run is deterministic and much faster than real time.

    clock = Clock(start_ms=TICKS_PERIOD - 3000)   # 3 s before the wrap
    clock.sleep_ms(10)
"""

TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD // 2


def ticks_diff(end, start):
    """MicroPython's signed difference of two wrapped tick values."""
    return ((end - start + TICKS_HALF) & TICKS_MAX) - TICKS_HALF


def ticks_add(ticks, delta):
    if not -TICKS_HALF <= delta < TICKS_HALF:
        raise OverflowError("ticks interval overflow")
    return (ticks + delta) & TICKS_MAX


class Clock:
    """Monotonic virtual time. Listeners run each time it advances, in order:
    the world steps, the watchdog checks, a scripted Ctrl-C arrives."""

    def __init__(self, start_ms=0):
        self.us = start_ms * 1000
        self._listeners = []

    @property
    def ms(self):
        """Unwrapped milliseconds (ground truth for the simulator, never firmware)."""
        return self.us // 1000

    def add_listener(self, fn):
        self._listeners.append(fn)

    def ticks_ms(self):
        return (self.us // 1000) & TICKS_MAX

    def ticks_us(self):
        return self.us & TICKS_MAX

    def ticks_cpu(self):
        return self.us & TICKS_MAX

    def advance_us(self, us):
        if us < 0:
            raise ValueError("time cannot go backwards")
        self.us += int(us)
        for fn in self._listeners:
            fn(self.us)

    def sleep_ms(self, ms):
        if ms < 0:
            raise ValueError("negative sleep")
        self.advance_us(int(ms) * 1000)

    def sleep_us(self, us):
        if us < 0:
            raise ValueError("negative sleep")
        self.advance_us(int(us))

    def sleep(self, seconds):
        self.advance_us(int(seconds * 1_000_000))
