"""The alert arbiter and the pattern player as the runner feels them: the
urgent buzz wins at once, a lesser one waits its turn, the motor starts in the
tick of the decision, WARNING pulses faster as TTC falls, nothing blocks."""

import pytest

from sim import loader, vtime
from sim.vclock import Clock


@pytest.fixture(scope="module")
def fw():
    with loader.firmware_modules() as load:
        return {"haptics": load("rearguard.haptics"), "alerts": load("rearguard.alerts"),
                "events": load("rearguard.events")}


@pytest.fixture(autouse=True)
def _unbind_clock():
    yield
    vtime.bind(None)


class Motor:
    def __init__(self):
        self.duty = 0
        self.changes = []  # (t_ms, strength %)

    def set(self, pct):
        self.duty = pct
        self.changes.append((self.t, pct))

    def off(self):
        self.duty = 0
        self.changes.append((self.t, 0))


class Obstacle:
    def __init__(self):
        self.level = 0
        self.ttc_ms = -1
        self.blind = False
        self.too_fast = False
        self.too_fast_notices = 0


class Body:
    def __init__(self):
        self.fallen = False
        self.stumble = False


class Rig:
    def __init__(self, fw):
        self.fw = fw
        self.clock = Clock(0)
        vtime.bind(self.clock)
        self.motor = Motor()
        self.motor.t = 0
        self.player = fw["haptics"].PatternPlayer(self.motor)
        self.arbiter = fw["alerts"].Arbiter(self.player)
        self.obstacle = Obstacle()
        self.body = Body()
        self.t = 0
        self.patterns = []  # (t, pattern) per tick

    def run(self, ms):
        end = self.t + ms
        while self.t < end:
            self.motor.t = self.t
            before = self.clock.us
            pattern = self.arbiter.decide(self.t, self.obstacle, self.body)
            assert self.clock.us == before  # never sleeps, never waits on anything
            self.patterns.append((self.t, pattern))
            self.t += 10
        return self

    def pulses(self, since):
        """Motor on-edges at or after `since`."""
        return [t for t, pct in self.motor.changes if t >= since and pct > 0]


def test_stop_buzzes_in_the_same_tick_and_continuously(fw):
    rig = Rig(fw).run(100)
    rig.obstacle.level = fw["events"].STOP
    rig.run(10)
    assert rig.motor.duty > 0 and rig.motor.changes[-1][0] == 100
    rig.run(2000)
    assert rig.motor.duty > 0 and len(rig.pulses(100)) == 1  # one unbroken buzz


def test_stop_interrupts_caution_at_once_but_caution_waits_for_blind(fw):
    h = fw["haptics"]
    rig = Rig(fw)
    rig.obstacle.blind = True
    rig.run(100)
    assert rig.player.pattern == h.BLIND
    rig.obstacle.level = fw["events"].CAUTION  # more urgent than blind: at once
    rig.run(10)
    assert rig.player.pattern == h.CAUTION
    rig.obstacle.level = fw["events"].STOP
    rig.run(10)
    assert rig.player.pattern == h.STOP
    rig.obstacle.level = 0  # back to blind, once STOP has been felt long enough
    rig.run(10)
    assert rig.player.pattern == h.STOP
    rig.run(1000)
    assert rig.player.pattern == h.BLIND


def test_warning_pulses_faster_as_ttc_falls(fw):
    rig = Rig(fw)
    rig.obstacle.level = fw["events"].WARNING
    rig.obstacle.ttc_ms = 2200
    rig.run(2000)
    slow = len(rig.pulses(0))
    rig.obstacle.ttc_ms = 1250
    start = rig.t
    rig.run(2000)
    fast = len(rig.pulses(start))
    assert fast > slow * 1.4
    assert slow >= 6  # still unmistakably "fast pulses" at the slow end


def test_patterns_are_distinguishable_by_count_and_rhythm(fw):
    h = fw["haptics"]
    for pattern, on_count in ((h.BLIND, 3), (h.CAUTION, 1)):
        segments, cycle, _strength, _hold = h.PATTERNS[pattern]
        assert len(segments[::2]) == on_count
        assert all(d >= 60 for d in segments)  # shorter blurs on the skin
        assert cycle >= 1000
    segments, cycle, _strength, _hold = h.PATTERNS[h.TOO_FAST]
    assert cycle == 0 and len(segments[::2]) == 4  # a notice: two pairs, once
    assert all(d >= 60 for d in segments)


def test_too_fast_is_told_once_per_notice_not_repeated(fw):
    rig = Rig(fw)
    rig.obstacle.too_fast = True
    rig.obstacle.too_fast_notices = 1
    rig.run(10_000)
    assert len(rig.pulses(0)) == 4  # two pairs, then quiet while still too fast
    rig.obstacle.too_fast_notices = 2  # the shortfall grew: told again
    rig.run(3_000)
    assert len(rig.pulses(10_000)) == 4


def test_a_blind_chirp_plays_whole_when_blindness_ends_at_once(fw):
    # "Off" is the least urgent: a pattern whose cause went still plays until
    # it has been held long enough to be recognised (three chirps).
    rig = Rig(fw)
    rig.obstacle.blind = True
    rig.run(10)
    rig.obstacle.blind = False
    rig.run(1000)
    assert len(rig.pulses(0)) == 3


def test_session_blip_plays_out_and_alerts_override_it(fw):
    h = fw["haptics"]
    rig = Rig(fw)
    rig.arbiter.request_blip(h.BLIP_STOP)
    rig.run(500)
    assert len(rig.pulses(0)) == 2
    assert rig.player.pattern in (h.OFF, h.BLIP_STOP) and rig.motor.duty == 0
    rig.arbiter.request_blip(h.BLIP_LOW_BATTERY)
    rig.run(50)
    rig.obstacle.level = fw["events"].STOP
    rig.run(10)
    assert rig.player.pattern == h.STOP


def test_fall_outranks_warning_but_not_stop(fw):
    h = fw["haptics"]
    rig = Rig(fw)
    rig.obstacle.level = fw["events"].WARNING
    rig.body.fallen = True
    rig.run(50)
    assert rig.player.pattern == h.FALL
    rig.obstacle.level = fw["events"].STOP
    rig.run(10)
    assert rig.player.pattern == h.STOP
