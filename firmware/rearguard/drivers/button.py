# The clip's one button, debounced in software from the tick, with short and
# long presses told apart (docs/balance.md says what each one does).
#
#     button = Button(machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP), active_low=True)
#     press = button.update(time.ticks_ms())    # NONE, SHORT or LONG, once per press
#
# A level must hold _DEBOUNCE_MS before it counts: mechanical contacts bounce
# for a few milliseconds, and a running body shakes the clip. A press shorter
# than _LONG_MS is SHORT when released; holding it reports LONG at once,
# while the finger is still down, so the runner feels the answer without
# guessing when to let go. The release after a LONG reports nothing.
# The pin only needs .value(), so a fake pin works in tests.
from time import ticks_diff

from micropython import const

NONE = const(0)
SHORT = const(1)
LONG = const(2)

_DEBOUNCE_MS = const(30)
_LONG_MS = const(1500)


class Button:
    def __init__(self, pin, active_low):
        self.pin = pin
        self.active_low = active_low
        self.pressed = False  # debounced level
        self._raw = False
        self._raw_since = 0
        self._pressed_at = 0
        self._long_sent = False
        self._started = False

    def _level(self):
        v = self.pin.value()
        return (not v) if self.active_low else bool(v)

    def update(self, now_ms):
        raw = self._level()
        if not self._started:
            # A button held at boot is not a press: wait for a release first.
            self._started = True
            self._raw = raw
            self.pressed = raw
            self._long_sent = raw
            self._raw_since = now_ms
            return NONE
        if raw != self._raw:
            self._raw = raw
            self._raw_since = now_ms
        if raw != self.pressed and ticks_diff(now_ms, self._raw_since) >= _DEBOUNCE_MS:
            self.pressed = raw
            if raw:
                self._pressed_at = self._raw_since
                self._long_sent = False
            elif not self._long_sent:
                return SHORT
            return NONE
        if self.pressed and not self._long_sent and ticks_diff(now_ms, self._pressed_at) >= _LONG_MS:
            self._long_sent = True
            return LONG
        return NONE
