"""The firmware's boot path on the virtual board: what a developer and a runner
would notice when the clip powers up, loses a sensor, hangs, or is stopped."""

from sim import machine
from sim.board import VirtualBoard
from sim.vclock import TICKS_PERIOD

BLIND_PERIOD_MS = 3000  # haptics.BLIND cycle


def _motor_on_times(vb):
    return [t for t, duty in vb.motor_timeline() if duty > 0]


def _chirp_groups(on_times, gap_ms=500):
    """Start times of buzz groups (the blind pattern is three chirps in one group)."""
    groups = []
    for t in on_times:
        if not groups or t - groups[-1][-1] > gap_ms:
            groups.append([t])
        else:
            groups[-1].append(t)
    return groups


def test_missing_sensor_is_reported_and_plays_blind_without_crash_loop():
    vb = VirtualBoard("esp32_devkitc")  # nothing on the I2C bus
    result = vb.run(until_ms=10_000)
    assert "no VL53L1X at 0x29" in result.console
    assert "boards/esp32_devkitc.py" in result.console  # says where to look
    assert result.resets == []  # no crash loop
    groups = _chirp_groups(_motor_on_times(vb))
    assert len(groups) >= 3
    assert all(len(g) == 3 for g in groups)  # three short chirps ...
    starts = [g[0] for g in groups]
    assert all(b - a == BLIND_PERIOD_MS for a, b in zip(starts, starts[1:]))  # ... every 3 s


def test_ctrl_c_leaves_the_motor_off_and_returns_to_the_repl():
    probe = VirtualBoard("esp32_devkitc")
    probe.run(until_ms=2000)
    first_chirp = _motor_on_times(probe)[0]
    # Same board again (runs are deterministic): Ctrl-C in the middle of the
    # second chirp group, while the motor is running.
    vb = VirtualBoard("esp32_devkitc")
    result = vb.run(until_ms=first_chirp + BLIND_PERIOD_MS + 30)
    assert result.ended_by == "returned"  # main.py returned: the REPL prompt
    assert "stopped (Ctrl-C)" in result.console
    t_last, duty_last = vb.motor_timeline()[-1]
    assert duty_last == 0
    assert t_last >= BLIND_PERIOD_MS  # it was switched off after the interrupt


def test_the_repl_after_ctrl_c_is_not_reset_by_the_watchdog():
    vb = VirtualBoard("esp32_devkitc")
    # Ctrl-C at 1 s, then sit in the REPL for 10 s: the timer keeps feeding.
    result = vb.run(until_ms=1000, grace_ms=10_000)
    assert result.ended_by == "returned"
    assert result.resets == []


def test_loop_keeps_ticking_across_the_tick_counter_wrap():
    start = TICKS_PERIOD - 4000  # ticks_ms wraps 4 s after power-on
    vb = VirtualBoard("esp32_devkitc", start_ms=start)
    ticks = []
    result = vb.run(until_ms=start + 12_000, on_boot=lambda app: ticks.append(app))
    app = ticks[0]
    assert result.resets == []
    assert app.ticks >= 1100  # ~100 Hz for 12 s, before and after the wrap
    starts = [g[0] - start for g in _chirp_groups(_motor_on_times(vb))]
    assert len(starts) == 4
    assert all(b - a == BLIND_PERIOD_MS for a, b in zip(starts, starts[1:]))


def test_a_stopped_loop_trips_the_watchdog_and_the_firmware_reboots():
    vb = VirtualBoard("esp32_devkitc")
    boots = []

    def hang_first_boot(app):
        boots.append(app)
        if len(boots) == 1:
            sleep_ms = __import__("sim.vtime", fromlist=["sleep_ms"]).sleep_ms

            def stuck_tick(now_ms):
                while True:  # a driver waiting forever for a bus that never answers
                    sleep_ms(100)

            app.tick = stuck_tick

    result = vb.run(until_ms=8000, on_boot=hang_first_boot)
    assert [cause for _t, cause in result.resets] == [machine.WDT_RESET]
    reset_at = result.resets[0][0]
    assert 2000 <= reset_at <= 2200  # WDT_TIMEOUT_MS after the last feed
    assert len(boots) == 2  # main.py ran again after the reset
    assert result.console.count("rearguard 0.1.0 on esp32_devkitc") == 2
