# Event kinds and levels: small ints on the device, names at the edges (sim
# JSON, session log, host database), and the fan-out that hands each event to
# whoever listens (the session recorder; the simulator). One home for both.
#
#     events = Events()
#     events.sinks.append(recorder.on_event)   # a bound method, made once
#     events.emit(now_ms, OBSTACLE, STOP)      # allocates nothing
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


class Events:
    def __init__(self):
        self.sinks = []  # fn(t_ms, kind, level), called in order

    def emit(self, t_ms, kind, level=0):
        for sink in self.sinks:
            sink(t_ms, kind, level)
