"""Power management as the runner and the developer notice it on the virtual
board (docs/power.md): light sleep only on battery, deep sleep when the clip is
left alone (the session saved first), waking on the button and on motion, the
wall clock kept, the watchdog never tripping, and the battery gauge following
the cell down its discharge curve."""

import contextlib
import os
import select

import pytest

from rearguard import protocol
from sim import loader, machine, power, scenario
from sim.board import VirtualBoard
from sim.chips.battery import OCV_CURVE
from sim.flash import VirtualFlash
from sim.pty import PtyConsole
from sim.vboard.energy import CPU_DEEP_SLEEP, CPU_LIGHT_SLEEP

with loader.firmware_modules() as load:
    gauge = load("rearguard.gauge")
    sessionfile = load("rearguard.sessionfile")
    events = load("rearguard.events")

RTC_2026 = (2026, 5, 4, 0, 6, 30, 0, 0)  # (y, mo, d, weekday, h, mi, s, subs): a Monday morning
RTC_2026_UNIX = 1777876200  # 2026-05-04 06:30:00 UTC


@contextlib.contextmanager
def watched_apps():
    """Every App the scenario boots (one per wake from deep sleep)."""
    apps = []
    original = scenario.Recorder.on_boot

    def on_boot(self, app):
        original(self, app)
        apps.append(app)

    scenario.Recorder.on_boot = on_boot
    try:
        yield apps
    finally:
        scenario.Recorder.on_boot = original


def run(spec, usb_at_ms=None, flash=None, marks=()):
    """Run a scenario; the board (its ledger, resets), the apps, the result, and
    ledger snapshots at `marks` (ms). `usb_at_ms`: a USB cable plugged in then."""
    boards, taken = [], {}

    def on_board(vb):
        boards.append(vb)
        vb.rtc_datetime(RTC_2026)
        pending = sorted(marks)

        def watch(now_us):
            if usb_at_ms is not None and now_us >= usb_at_ms * 1000:
                vb.usb_powered = True
            while pending and now_us >= pending[0] * 1000:
                taken[pending.pop(0)] = power.snapshot(vb.ledger)

        vb.clock.add_listener(watch)

    with watched_apps() as apps:
        out = scenario.run(scenario.check(spec), flash=flash, on_board=on_board)
    return boards[0], apps, out, taken


def standing(duration_ms, **extra):
    spec = {"name": "standing", "duration_ms": duration_ms, "runner": {"speed": 0}}
    spec.update(extra)
    return spec


# --- light sleep ------------------------------------------------------------------------------
def test_light_sleep_only_on_battery_and_stops_when_usb_is_plugged_in():
    marks = (2000, 10_000, 10_100, 19_900)
    vb, apps, _out, taken = run(standing(20_000), usb_at_ms=10_050, marks=marks)
    on_battery = power.window(taken[2000], taken[10_000])[0]["cpu"]
    on_usb = power.window(taken[10_100], taken[19_900])[0]["cpu"]
    assert on_battery.get(CPU_LIGHT_SLEEP, 0) > 0.7 * 8000  # most of each tick asleep
    assert CPU_LIGHT_SLEEP not in on_usb  # from the next tick on: never with USB
    assert apps[0].power.on_battery is False


def test_ticks_keep_their_pace_and_the_button_works_while_light_sleeping():
    press = {"t_ms": 5000, "duration_ms": 200}
    vb, apps, out, _taken = run(standing(12_000, button=[press]))
    assert vb.ledger.events["light_sleep_wakes"] > 900
    assert abs(apps[0].ticks - 12_000 // 10) <= 12_000 // 10 // 100  # 100 Hz within 1 %
    starts = [e["t_ms"] for e in out["events"] if e["kind"] == "session_start"]
    assert len(starts) == 1 and 5200 <= starts[0] <= 5300  # on release, after the debounce


def test_a_host_plugging_into_a_light_sleeping_clip_is_answered():
    console = PtyConsole()
    try:
        vb = VirtualBoard("esp32_devkitc")
        vb.overrides.update(console.modules())
        sent = []

        def host(now_us):
            if now_us >= 8_000_000:
                vb.usb_powered = True  # the cable: VBUS first ...
            if now_us >= 8_200_000 and not sent:
                sent.append(now_us)  # ... then the host's first frame
                os.write(console.slave, protocol.encode_frame(1, "HELLO"))

        vb.clock.add_listener(host)
        vb.run(until_ms=10_000)
        reply = b""
        while select.select([console.slave], [], [], 0)[0]:
            reply += os.read(console.slave, 4096)
    finally:
        console.close()
    light = vb.ledger.totals()["cpu"].get(CPU_LIGHT_SLEEP, 0)
    assert light > 5000  # it light-slept before the cable came
    assert b"OK proto=1" in reply and b"usb=1" in reply, reply


# --- deep sleep, waking, the clock --------------------------------------------------------------
# A run, standing until the session ends on its own, left alone (deep sleep),
# woken by the button, left alone again, woken by the runner setting off.
RUN_END_MS = 36_000
PRESS_MS = 400_000
MOTION_MS = 640_000
DAY = {
    "name": "left_alone",
    "duration_ms": 660_000,
    "seed": 5,
    "runner": {"speed": [[0, 0], [2000, 0], [4000, 2200], [34_000, 2200], [RUN_END_MS, 0],
                         [MOTION_MS, 0], [MOTION_MS + 1500, 2200]], "cadence_spm": 165},
    "button": [{"t_ms": PRESS_MS, "duration_ms": 300}],
    "profile": {"stride_mm": 1600},
}


@pytest.fixture(scope="module")
def day():
    flash = VirtualFlash()
    vb, apps, out, _taken = run(DAY, flash=flash)
    return vb, apps, out, flash


def _deep_sleeps(vb):
    return vb.ledger.totals()["cpu"].get(CPU_DEEP_SLEEP, 0)


def test_deep_sleep_comes_after_the_idle_time_with_the_session_saved(day):
    vb, apps, out, flash = day
    ends = [e["t_ms"] for e in out["events"] if e["kind"] == "session_end"]
    first_end = ends[0]
    # asleep from 3 minutes after the session ended (nobody moved since) until the button
    asleep = vb.resets[0][0] - (first_end + 180_000)
    assert _deep_sleeps(vb) > 0
    assert 0 < PRESS_MS - (first_end + 180_000) and abs(asleep - (PRESS_MS - first_end - 180_000)) < 400
    with loader.firmware_modules() as load:
        store = load("rearguard.store").open_store(flash)
        summary = sessionfile.decode(store.read(1))[0]
    # the whole run, finished and closed (not a checkpoint, not recovered at boot)
    assert not summary["flags"] & (sessionfile.FLAG_CHECKPOINT | sessionfile.FLAG_RECOVERED)
    assert summary["steps"] >= 60  # ~30 s at 165 steps/min
    assert 30_000 <= summary["duration_ms"] <= 46_000  # the run and 10 s before the pause


def test_the_button_and_motion_wake_it_and_only_they(day):
    vb, apps, out, _flash = day
    resets = vb.resets
    assert [cause for _t, cause in resets] == [machine.DEEPSLEEP_RESET, machine.DEEPSLEEP_RESET]
    assert PRESS_MS <= resets[0][0] <= PRESS_MS + 100  # the button: at once
    assert MOTION_MS <= resets[1][0] <= MOTION_MS + 1500  # the first steps
    assert len(apps) == 3  # booted, woken twice


def test_the_wall_clock_survives_deep_sleep(day):
    _vb, _apps, out, _flash = day
    # the run after the motion wake started about 4 s after the runner set off
    last = out["summary"]
    start = last["start_unix_s"]
    assert last["flags"] & sessionfile.FLAG_CLOCK_KNOWN
    expected = RTC_2026_UNIX + (MOTION_MS + 1500 + 4000) // 1000
    assert abs(start - expected) <= 3, (start, expected)


def test_the_watchdog_never_trips_because_of_sleep(day):
    vb, _apps, _out, _flash = day
    assert machine.WDT_RESET not in [cause for _t, cause in vb.resets]
    assert vb.ledger.totals()["cpu"].get(CPU_LIGHT_SLEEP, 0) > 100_000  # it light-slept a lot


# --- the gauge ---------------------------------------------------------------------------------
def test_gauge_reads_the_discharge_curve_at_rest():
    for soc, ocv in OCV_CURVE:
        assert abs(gauge.percent(ocv, 0) - soc) <= 8, (soc, ocv, gauge.percent(ocv, 0))
    # under load the cell sags; the gauge adds the drop back
    assert gauge.percent(3870 - 44 * 150 // 1000) == gauge.percent(3870, 0)


def test_gauge_follows_the_cell_down_and_warns_near_empty(monkeypatch):
    # A tiny cell, so the whole curve passes in minutes: a paused session
    # (session_end 30 min) keeps the clip awake, drawing ~43 mA.
    spec = standing(720_000, button=[{"t_ms": 1000, "duration_ms": 200}],
                    battery={"capacity_mah": 5, "soc_pct": 100}, profile={"session_end_ms": 1_800_000})
    readings = []  # (t_ms, the cell's state of charge, the gauge's percent)
    build_board = scenario.build_board

    def watched_build(*args, **kwargs):
        built = build_board(*args, **kwargs)
        vb, _tof, _imu, cell = built

        def watch(now_us):
            if apps and now_us % 10_000_000 < 10_000:
                cell.advance(now_us // 1000)  # the cell counts its charge only when asked
                readings.append((now_us // 1000, cell.soc_pct, apps[-1].power.battery_pct))

        vb.clock.add_listener(watch)
        return built

    monkeypatch.setattr(scenario, "build_board", watched_build)
    with watched_apps() as apps:
        out = scenario.run(scenario.check(spec))
    pairs = [(soc, pct) for _t, soc, pct in readings if 5 <= soc <= 95 and pct >= 0]
    assert len(pairs) > 20
    assert max(abs(soc - pct) for soc, pct in pairs) <= 10, pairs
    low = [e["t_ms"] for e in out["events"] if e["kind"] == "low_battery"]
    assert len(low) == 1
    soc_at_warning = min(readings, key=lambda r: abs(r[0] - low[0]))[1]
    assert 3 <= soc_at_warning <= 15, soc_at_warning


@pytest.mark.parametrize("board, wakes", [("xiao_esp32s3", True), ("m5stack_atoms3", False)])
def test_other_boards_sleep_and_wake_on_motion_where_their_wiring_allows(board, wakes):
    # Left alone from the start; the runner sets off at 200 s. The XIAO's
    # LSM6DSOX wakes it; the AtomS3 has no pin that can (button on GPIO41, IMU
    # interrupt not wired) and no USB sense: it stays up, and says nothing.
    spec = {"name": "left_alone_" + board, "board": board, "duration_ms": 210_000,
            "runner": {"speed": [[0, 0], [200_000, 0], [201_500, 2200]], "cadence_spm": 165}}
    vb, apps, _out, _taken = run(spec)
    if wakes:
        assert _deep_sleeps(vb) > 15_000
        assert [cause for _t, cause in vb.resets] == [machine.DEEPSLEEP_RESET]
        assert 200_000 <= vb.resets[0][0] <= 201_500
    else:
        assert _deep_sleeps(vb) == 0 and vb.resets == []
        assert apps[0].power.on_battery is False  # it cannot tell, so it does not light-sleep either


def test_no_deep_sleep_while_runs_wait_in_ram_for_a_host():
    # A full flash keeps finished runs in RAM until they are pulled: deep
    # sleep would lose them, so the clip stays up (its LED lit).
    vb = VirtualBoard("esp32_devkitc")

    def full_flash(app):
        app.session.low_storage = True

    vb.run(until_ms=200_000, on_boot=full_flash)
    assert _deep_sleeps(vb) == 0 and vb.resets == []
