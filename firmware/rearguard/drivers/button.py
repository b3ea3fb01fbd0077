# PLACEHOLDER (lead): replaced by the balance/session work (issue 5). Interface:
#   Button(pin, active_low); .update(now_ms) -> NONE, SHORT or LONG press event
NONE = 0
SHORT = 1
LONG = 2


class Button:
    def __init__(self, pin, active_low):
        self.pin = pin
        self.active_low = active_low

    def update(self, now_ms):
        return NONE
