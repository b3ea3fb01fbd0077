"""What the session summary says about a run: the recorder fed tick by tick
with what the obstacle and body monitors report, as the athlete would read it
after `rearguard pull`."""

import pytest

from sim import loader, vtime
from sim.flash import VirtualFlash
from sim.vclock import TICKS_PERIOD, Clock


class Part:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Battery:
    def __init__(self, mv):
        self.mv = mv

    def read_mv(self):
        return self.mv


def make_app(battery):
    return Part(body=Part(steps=100, cadence_spm=0, speed_mm_s=0, moving=False,
                          balance=Part(near_falls=0, near_fall_pending=False, falls=0)),
                obstacle=Part(level=0, ttc_ms=-1, distance_mm=-1, blind=False, too_fast=False,
                              range_valid=False),
                battery=battery)


@pytest.fixture
def fw():
    vtime.bind(Clock())
    with loader.firmware_modules() as load:
        mods = {n: load("rearguard." + n) for n in ("store", "session", "events", "profile", "sessionfile")}
        store = mods["store"].Store(mods["store"].Flash(VirtualFlash()))
        store.mount()
        log = mods["events"].Events()
        mods["battery"] = Battery(4100)
        mods["keeper"] = mods["session"].SessionKeeper(store, mods["profile"].Profile(), "xiao_esp32s3",
                                                       mods["battery"], log)
        mods["store_obj"], mods["log"] = store, log
        yield mods
    vtime.bind(None)


def run(fw, start, script, end, control=None):
    """Tick every 10 ms from `start` to `end` (wrapping tick values): script(ms, app, t)
    sets what the monitors report, the recorder counts, then control(ms, t) may
    pause or resume the run, in App.tick's order."""
    app = make_app(fw["battery"])
    keeper = fw["keeper"]
    t = start
    keeper.update(t, app.body, app.obstacle)
    keeper.start(t)
    for i in range(1, (end - start) // 10 + 1):
        t = (start + i * 10) % TICKS_PERIOD
        script(i * 10, app, t)
        keeper.update(t, app.body, app.obstacle)
        if control is not None:
            control(i * 10, t)
    keeper.stop(t)
    blob = fw["store_obj"].read(keeper.session_id)
    return fw["sessionfile"].decode(blob)


def test_a_run_is_summed_up_as_the_runner_lived_it(fw):
    ev = fw["events"]

    def script(ms, app, t):
        body, ob = app.body, app.obstacle
        body.moving = 1000 <= ms < 61_000
        body.speed_mm_s = 2500 if body.moving else 0
        body.steps = 100 + (ms - 1000) * 3 // 1000 if body.moving else body.steps
        ob.level = ev.CAUTION if 10_000 <= ms < 11_000 else ev.STOP if 11_000 <= ms < 11_500 else 0
        ob.level = ev.WARNING if 30_000 <= ms < 31_000 else ob.level
        ob.distance_mm = 4000 - (ms - 10_000) if 10_000 <= ms < 11_500 else -1
        ob.ttc_ms = 1800 - (ms - 10_000) if 10_000 <= ms < 11_500 else -1
        ob.blind = 40_000 <= ms < 42_000
        ob.too_fast = 50_000 <= ms < 53_000
        ob.range_valid = ms < 20_000
        app.battery.mv = 4100 - ms // 1000
        if ms == 20_000:  # a stumble, as the balance judge reports it
            fw["log"].emit(t, ev.STUMBLE)
            body.balance.near_fall_pending = True

    summary, firmware, board, events = run(fw, TICKS_PERIOD - 5000, script, 65_000 + TICKS_PERIOD - 5000)
    assert summary["duration_ms"] == 65_000  # across the tick counter's wrap
    assert summary["moving_ms"] == 60_000
    assert summary["distance_mm"] == 150_000  # 2.5 m/s for 60 s
    assert summary["steps"] == 179 and summary["cadence_spm"] == 179  # 3 steps/s for 59.99 s
    assert (summary["alerts_caution"], summary["alerts_warning"], summary["alerts_stop"]) == (1, 1, 1)
    assert summary["closest_mm"] == 2510 and summary["min_ttc_ms"] == 310
    assert summary["blind_ms"] == 2000 and summary["too_fast_ms"] == 3000
    assert summary["valid_range_pm"] == 307  # the first 20 s of 65 s
    assert summary["stumbles"] == 1 and summary["falls"] == 0
    assert summary["battery_start_mv"] == 4100 and summary["battery_end_mv"] == 4100 - 65
    assert summary["start_unix_s"] == 0 and not summary["flags"] & fw["sessionfile"].FLAG_CLOCK_KNOWN
    assert (firmware, board) == ("0.1.0", "xiao_esp32s3")
    kinds = [ev.KIND_NAMES[k] for _t, k, _lv in events]
    assert kinds == ["session_start", "stumble", "session_end"]
    assert events[1][0] == 20_000


def test_the_event_log_is_bounded_and_counts_what_it_dropped(fw):
    ev = fw["events"]

    def script(ms, app, t):
        fw["log"].emit(t, ev.OBSTACLE, ev.CAUTION)

    summary, _fw, _board, events = run(fw, 0, script, 3000)
    assert len(events) == fw["sessionfile"].MAX_EVENTS
    assert summary["events_dropped"] == 300 + 2 - fw["sessionfile"].MAX_EVENTS


def test_session_ids_stay_unique_across_reboots(fw):
    store = fw["store_obj"]
    keeper = fw["keeper"]
    keeper.start(0)
    first = keeper.session_id
    keeper.stop(1000)
    keeper.start(2000)  # power lost during this one: never stopped
    second = keeper.session_id
    again = fw["store"].Store(store.flash)
    again.mount()
    assert again.new_session_id() > max(first, second)


def test_a_pause_while_standing_still_is_not_part_of_the_run(fw):
    keeper = fw["keeper"]

    def script(ms, app, t):
        app.body.moving = not 20_000 <= ms < 50_000
        app.body.speed_mm_s = 2000 if app.body.moving else 0
        app.obstacle.blind = True  # counted only while the run is on

    def control(ms, t):
        if ms == 30_000:
            keeper.pause(t)
        if ms == 50_000:
            keeper.resume(t)

    summary = run(fw, 0, script, 60_000, control)[0]
    assert summary["duration_ms"] == 40_000
    assert summary["blind_ms"] == 40_000
    assert abs(summary["distance_mm"] - 60_000) <= 20  # 2 m/s for the 30 s spent moving (± a tick)


def test_a_stride_learned_on_the_run_is_kept_for_the_next(fw):
    # The obstacle monitor's pace learns the runner's stride from a static
    # target (sensing/pace.py) into the profile: the end of the run saves it.
    keeper, store, profile_mod = fw["keeper"], fw["store_obj"], fw["profile"]
    keeper.start(0)
    keeper.profile.stride_mm = 1725
    keeper.stop(1000)
    again = profile_mod.Profile()
    store.load_profile(again)
    assert again.stride_mm == 1725
