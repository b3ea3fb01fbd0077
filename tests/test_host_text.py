"""How the desktop tool writes distances and durations for a coach to read."""

from host_tools.export import distance_text, duration_text


def test_short_runs_read_in_metres_long_ones_in_kilometres():
    assert distance_text(32_254) == "32 m"
    assert distance_text(850_400) == "850 m"
    assert distance_text(5_250_000) == "5.25 km"


def test_durations_gain_hours_only_when_needed():
    assert duration_text(25_080) == "0:25"
    assert duration_text(3_725_000) == "1:02:05"
