# Event kinds and levels: small ints on the device, names at the edges
# (sim JSON, session log, host database). One home for both.
from micropython import const

OBSTACLE = const(1)
TOO_FAST = const(2)
BLIND = const(3)
STUMBLE = const(4)
FALL = const(5)
SESSION_START = const(6)
SESSION_END = const(7)
LOW_BATTERY = const(8)
SENSOR_FAULT = const(9)

KIND_NAMES = ("", "obstacle", "too_fast", "blind", "stumble", "fall", "session_start",
              "session_end", "low_battery", "sensor_fault")

NONE = const(0)
CAUTION = const(1)
WARNING = const(2)
STOP = const(3)

LEVEL_NAMES = ("", "caution", "warning", "stop")


class EventLog:
    """A preallocated ring of (t_ms, kind, level) events; emit() allocates nothing.

    `sink`, when set (simulator, session recorder), is called for each event.
    """

    def __init__(self, capacity=64):
        self.capacity = capacity
        self.t_ms = [0] * capacity
        self.kind = bytearray(capacity)
        self.level = bytearray(capacity)
        self.count = 0  # total ever emitted; index = count % capacity
        self.sinks = []

    def emit(self, t_ms, kind, level=0):
        i = self.count % self.capacity
        self.t_ms[i] = t_ms
        self.kind[i] = kind
        self.level[i] = level
        self.count += 1
        for sink in self.sinks:
            sink(t_ms, kind, level)
