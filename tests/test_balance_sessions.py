"""When runs start, pause and end: the button (debounced, short vs long press)
and the runner's gait, as an athlete would notice them through the blips."""

import pytest

from sim import loader

START, STOP = "start", "stop"


class Pin:
    """A button pin: level from a list of (from_ms, level) changes, pulled up."""

    def __init__(self, changes):
        self.changes = changes
        self.now = 0

    def value(self):
        level = 1
        for t, v in self.changes:
            if self.now >= t:
                level = v
        return level


class Session:
    def __init__(self):
        self.active = False
        self.log = []

    def start(self, now_ms):
        if not self.active:
            self.active = True
            self.log.append((now_ms, START))

    def stop(self, now_ms):
        if self.active:
            self.active = False
            self.log.append((now_ms, STOP))

    def pause(self, now_ms):
        self.log.append((now_ms, "pause"))

    def resume(self, now_ms):
        self.log.append((now_ms, "resume"))


class Body:
    def __init__(self):
        self.moving = self.running = self.fallen = False
        self.session_active = False
        self.acknowledged = 0

    def acknowledge(self):
        self.fallen = False
        self.acknowledged += 1


class Arbiter:
    def __init__(self, haptics):
        self.haptics = haptics
        self.blips = []

    def request_blip(self, pattern):
        self.blips.append("one" if pattern == self.haptics.BLIP_START else "two")


class App:
    pass


@pytest.fixture
def rig():
    with loader.firmware_modules() as load:
        session_mod = load("rearguard.session")
        button_mod = load("rearguard.drivers.button")
        haptics = load("rearguard.haptics")
        profile = load("rearguard.profile").Profile()

        def make(changes=()):
            pin = Pin(list(changes))
            app = App()
            app.session = Session()
            app.body = Body()
            app.arbiter = Arbiter(haptics)
            app.button = button_mod.Button(pin, active_low=True)
            control = session_mod.SessionControl(profile, app.session, app.arbiter)
            return app, control, pin

        yield make


def _run(app, control, pin, until_ms, start_ms=0, body=None):
    # As App.tick does: the button's report, then the session control.
    for now in range(start_ms, until_ms, 10):
        pin.now = now
        if body is not None:
            body(now, app.body)
        control.update(now, app.button.update(now), app.body)


def test_short_press_starts_a_run_with_one_blip_and_bounces_count_once(rig):
    # Contact bounce: 3 ms pulses before a clean 200 ms press.
    app, control, pin = rig([(1000, 0), (1003, 1), (1006, 0), (1009, 1), (1012, 0), (1212, 1),
                             (1215, 0), (1218, 1)])
    _run(app, control, pin, 3000)
    assert len(app.session.log) == 1
    t, kind = app.session.log[0]
    assert kind == START and 1218 <= t <= 1300  # on release, once the level has settled
    assert app.arbiter.blips == ["one"]
    assert app.body.session_active


def test_long_press_ends_the_run_while_still_held(rig):
    app, control, pin = rig([(1000, 0), (1200, 1), (5000, 0), (8000, 1)])
    _run(app, control, pin, 9000)
    kinds = [k for _t, k in app.session.log]
    assert kinds == [START, STOP]
    stop_ms = app.session.log[1][0]
    assert 6500 <= stop_ms < 8000  # 1.5 s into the hold, before the finger lifts
    assert app.arbiter.blips == ["one", "two"]


def test_a_glitch_shorter_than_the_debounce_is_not_a_press(rig):
    app, control, pin = rig([(1000, 0), (1015, 1)])
    _run(app, control, pin, 2000)
    assert app.session.log == [] and app.arbiter.blips == []


def test_button_held_at_power_on_is_not_a_press(rig):
    app, control, pin = rig([(0, 0), (3000, 1)])
    _run(app, control, pin, 4000)
    assert app.session.log == []


def test_short_press_during_the_fall_alarm_silences_it_and_keeps_the_run(rig):
    app, control, pin = rig([(1000, 0), (1200, 1), (5000, 0), (5200, 1)])

    def fallen_after_3s(now, body):
        if now == 3000:
            body.fallen = True

    _run(app, control, pin, 6000, body=fallen_after_3s)
    assert app.body.acknowledged == 1 and not app.body.fallen
    assert [k for _t, k in app.session.log] == [START]


def _gait(run_until, walk_until=None):
    def body(now, b):
        b.running = now < run_until
        b.moving = b.running or (walk_until is not None and now < walk_until)
    return body


def test_running_four_seconds_starts_a_run_and_stillness_pauses_then_ends_it(rig):
    app, control, pin = rig()
    _run(app, control, pin, 200_000, body=_gait(run_until=60_000))
    log = app.session.log
    assert log[0] == (4000, START)  # profile.session_start_ms of running
    assert log[1] == (70_000, "pause")  # session_pause_ms of standing still
    assert log[2] == (180_000, STOP)  # session_end_ms of standing still
    assert app.arbiter.blips == ["one", "two"]


def test_moving_again_resumes_a_paused_run(rig):
    app, control, pin = rig()

    def body(now, b):
        b.running = b.moving = now < 30_000 or 50_000 <= now < 60_000

    _run(app, control, pin, 70_000, body=body)
    assert [k for _t, k in app.session.log] == [START, "pause", "resume"]


def test_a_few_running_steps_do_not_start_a_run(rig):
    app, control, pin = rig()
    _run(app, control, pin, 20_000, body=_gait(run_until=3000))
    assert app.session.log == []


def test_stopping_by_hand_while_jogging_is_not_undone_by_the_gait(rig):
    app, control, pin = rig([(10_000, 0), (12_000, 1)])
    _run(app, control, pin, 40_000, body=_gait(run_until=40_000))
    assert [k for _t, k in app.session.log] == [START, STOP]


def test_replay_active_keeps_the_run_from_the_first_sample(rig):
    app, control, pin = rig()
    control.keep_active(0)
    assert app.session.active
    _run(app, control, pin, 300_000)
    assert app.body.session_active  # five minutes lying still: no pause, no end
    assert app.session.log == [(0, START)]
