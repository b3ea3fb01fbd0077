# The haptic vocabulary and a non-blocking pattern player for the PWM motor.
# docs/haptics.md is the athlete's copy of this table; keep them together.
#
#     player = PatternPlayer(motor)
#     player.play(CAUTION, now_ms)
#     player.update(now_ms)          # every tick; sets the motor, never sleeps
from time import ticks_diff

from micropython import const

OFF = const(0)
STOP = const(1)
FALL = const(2)
BALANCE = const(3)
WARNING = const(4)
CAUTION = const(5)
BLIND = const(6)
TOO_FAST = const(7)
BLIP_START = const(8)
BLIP_STOP = const(9)
BLIP_LOW_BATTERY = const(10)

NAMES = ("off", "stop", "fall", "balance", "warning", "caution", "blind", "too_fast",
         "session_start", "session_stop", "low_battery")

# Pattern ids double as priorities: a lower id wins. Each row:
# (segments on/off/on... in ms, cycle_ms (0 = plays once), strength %, hold_ms)
# hold_ms: how long it plays before a lower-priority pattern may replace it, so
# patterns stay distinguishable. Segments are at least 60 ms on and 80 ms off:
# shorter ones blur into one buzz on the skin.
PATTERNS = (
    ((), 0, 0, 0),
    ((1000,), 1000, 100, 300),  # STOP: continuous
    ((1200, 800), 2000, 100, 2000),  # FALL: long strong buzz, repeating until moved
    ((800,), 0, 100, 800),  # BALANCE: one long strong buzz
    ((70, 90), 160, 90, 160),  # WARNING: fast pulses, cycle shortened as TTC falls
    ((150, 850), 1000, 70, 1000),  # CAUTION: slow pulses
    ((60, 90, 60, 90, 60), 3000, 80, 360),  # BLIND: three chirps every 3 s
    ((120, 150, 120, 500, 120, 150, 120), 0, 80, 1280),  # TOO_FAST: a notice, two pulses twice
    ((120,), 0, 60, 120),  # session start: one blip
    ((120, 150, 120), 0, 60, 390),  # session stop: two blips
    ((100, 120, 100, 120, 100, 120, 100), 0, 60, 660),  # low battery: four blips
)


class PatternPlayer:
    def __init__(self, motor, strength_pct=100):
        self.motor = motor
        self.strength_pct = strength_pct
        self.pattern = OFF
        self.start_ms = 0
        self.cycle_ms = 0
        self.on = False

    def play(self, pattern, now_ms, cycle_ms=0):
        """Start `pattern` now (or keep it running); `cycle_ms` overrides its period."""
        if pattern != self.pattern:
            self.pattern = pattern
            self.start_ms = now_ms
        self.cycle_ms = cycle_ms or PATTERNS[pattern][1]
        self.update(now_ms)

    def elapsed_ms(self, now_ms):
        return ticks_diff(now_ms, self.start_ms)

    def finished(self, now_ms):
        """A one-shot pattern has played out (repeating ones never finish)."""
        segments, cycle, _s, _h = PATTERNS[self.pattern]
        if cycle or self.pattern == OFF:
            return self.pattern == OFF
        total = 0
        for d in segments:
            total += d
        return self.elapsed_ms(now_ms) >= total

    def held(self, now_ms):
        """True once the pattern has played long enough to be replaced by a lesser one."""
        return self.elapsed_ms(now_ms) >= PATTERNS[self.pattern][3]

    def update(self, now_ms):
        segments, cycle, strength, _h = PATTERNS[self.pattern]
        t = self.elapsed_ms(now_ms)
        if self.cycle_ms:
            t %= self.cycle_ms
        on = False
        for i in range(len(segments)):
            d = segments[i]
            if self.pattern == STOP:
                on = True
                break
            if t < d:
                on = not (i & 1)
                break
            t -= d
        if on != self.on:
            self.on = on
            if on:
                self.motor.set(strength * self.strength_pct // 100)
            else:
                self.motor.off()

    def stop(self):
        self.pattern = OFF
        self.on = False
        self.motor.off()
