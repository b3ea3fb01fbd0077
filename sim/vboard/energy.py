# The virtual board's energy ledger: how long each part spent in each of its
# power states, so that the power model (sim/power.py, docs/power.md) can turn
# any run into charge drawn from the cell. One ledger per board, fed by the
# shared machine core (CPU frequency, light and deep sleep, PWM duty, output
# pins) and by the chip register models (their modes, from their registers).
#
#     ledger = Ledger(board.now_ms)
#     ledger.set("cpu", 240)                  # a part and its state (an int)
#     ledger.totals()                         # {part: {state: ms}}, open spans included
#
# Parts are short strings, states small ints (docs/power.md lists them), so
# that a state change in steady state allocates nothing under MicroPython
# once the pair has been seen: the firmware's allocation probe runs over it.
# Times are whole milliseconds from the glue's clock (a small int for 12 days).

try:
    from time import ticks_diff  # MicroPython
except ImportError:  # CPython: the simulator's milliseconds do not wrap

    def ticks_diff(end, start):
        return end - start


# CPU states besides a frequency in MHz (machine.freq() // 1_000_000)
CPU_LIGHT_SLEEP = -1
CPU_DEEP_SLEEP = -2


class Ledger:
    def __init__(self, now_ms):
        self.now_ms = now_ms
        self.state = {}  # part -> current state
        self.since = {}  # part -> when it entered it (ms)
        self.spent = {}  # part -> {state: ms}
        self.events = {}  # name -> count (light-sleep wakes, boots)

    def set(self, part, state):
        old = self.state.get(part)
        if old == state and part in self.state:
            return
        now = self.now_ms()
        if part in self.state:
            self._add(part, old, ticks_diff(now, self.since[part]))
        else:
            self.spent[part] = {}
        self.state[part] = state
        self.since[part] = now

    def _add(self, part, state, ms):
        spent = self.spent[part]
        spent[state] = spent.get(state, 0) + ms

    def count(self, name):
        self.events[name] = self.events.get(name, 0) + 1

    def totals(self):
        """{part: {state: ms}} up to now, the current spans included (a copy)."""
        now = self.now_ms()
        out = {}
        for part in self.spent:
            spent = dict(self.spent[part])
            state = self.state[part]
            spent[state] = spent.get(state, 0) + ticks_diff(now, self.since[part])
            out[part] = spent
        return out
