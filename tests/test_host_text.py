"""How the desktop tool writes distances and durations for a coach to read."""

from host_tools.export import distance_text, duration_text


def test_short_runs_read_in_metres_long_ones_in_kilometres():
    assert distance_text(32_254) == "32 m"
    assert distance_text(850_400) == "850 m"
    assert distance_text(5_250_000) == "5.25 km"


def test_durations_gain_hours_only_when_needed():
    assert duration_text(25_080) == "0:25"
    assert duration_text(3_725_000) == "1:02:05"


def test_the_battery_reads_as_percent_and_running_hours_at_every_pull():
    from host_tools.pull import FULL_CHARGE_RUNNING_H, battery_text

    on_battery = battery_text({"bat_pct": "50", "usb": "0", "bat_mv": "3840"})
    assert on_battery == "battery 50%%, about %.1f h of running left" % (FULL_CHARGE_RUNNING_H / 2)
    charging = battery_text({"bat_pct": "50", "usb": "1", "bat_mv": "4150"})
    assert charging.startswith("battery 50%") and "charging now" in charging
    # never read on battery since it started: no figure made up from the charger's voltage
    assert "known once it has run on battery" in battery_text({"bat_pct": "-1", "usb": "1", "bat_mv": "4150"})
    # an older clip's handshake has only the voltage: the gauge reads it
    assert battery_text({"bat_mv": "3840"}).startswith("battery 52%, about")


def test_a_session_shows_the_charge_it_used():
    from host_tools.pull import battery_used_text

    assert battery_used_text(4075, 3870) == "4075 -> 3870 mV (86% -> 60%, 26% used)"
    assert battery_used_text(0, 0) == "0 -> 0 mV (on USB power)"
