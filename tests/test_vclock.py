"""The virtual clock wraps exactly like MicroPython's tick counters."""

from hypothesis import given
from hypothesis import strategies as st

from sim.vclock import TICKS_PERIOD, Clock, ticks_add, ticks_diff


def test_ticks_ms_wraps_at_two_to_the_thirty():
    clock = Clock(start_ms=TICKS_PERIOD - 5)
    before = clock.ticks_ms()
    clock.sleep_ms(10)
    after = clock.ticks_ms()
    assert after < before  # the counter wrapped ...
    assert ticks_diff(after, before) == 10  # ... and the difference did not notice


@given(st.integers(0, TICKS_PERIOD - 1), st.integers(-(TICKS_PERIOD // 2), TICKS_PERIOD // 2 - 1))
def test_ticks_add_and_diff_are_inverse(start, delta):
    assert ticks_diff(ticks_add(start, delta), start) == delta


def test_listeners_see_every_advance():
    clock = Clock()
    seen = []
    clock.add_listener(seen.append)
    clock.sleep_ms(3)
    clock.sleep_us(5)
    assert seen == [3000, 3005]
