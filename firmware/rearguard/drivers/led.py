# The board's status LED (an output pin and its active level).


class Led:
    def __init__(self, pin, active_high=True):
        self.pin = pin
        self.active_high = active_high
        self.set(False)

    def set(self, on):
        self.pin.value(1 if on == self.active_high else 0)
