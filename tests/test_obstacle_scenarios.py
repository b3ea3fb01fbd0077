"""Issue 4's acceptance on the shipped scenarios: the unchanged firmware on the
virtual board, scored by the simulator against ground truth (the same scoring
`make bench` reports through tools/bench_obstacle.py)."""

import os

import pytest

from tools import bench_obstacle

SCENARIOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sim",
                         "scenarios")


def row(name):
    path = os.path.join(SCENARIOS, name + ".json")
    if not os.path.exists(path):
        pytest.skip("scenario %s is not shipped" % name)
    return bench_obstacle.run_one(path)


@pytest.mark.parametrize("name", ["wall_2_5ms_shade", "wall_4ms_sun", "pole", "fence_angled",
                                  "runner_from_behind", "person_crossing"])
def test_first_alert_comes_with_nine_tenths_of_the_available_lead(name):
    r = row(name)
    courses = [o for o in r["obstacles"] if o["available_lead_ms"]]
    assert courses, "no collision-course obstacle was ever visible in %s" % name
    for o in courses:
        assert o["ratio"] >= 0.9, o
        assert not (o["avoidable"] and o["collided"]), o
    assert r["false_alerts"] == 0


@pytest.mark.parametrize("name", ["clear_track", "pitch_down_ground"])
def test_no_false_alert_on_a_clear_track_or_the_ground(name):
    r = row(name)
    assert r["false_alerts"] == 0
    assert r["alerts"] == {}
    assert r["ended_by"] == "returned" and r["resets"] == []


@pytest.mark.parametrize("name", ["sensor_unplug", "sensor_covered"])
def test_blind_within_half_a_second_and_back_within_one(name):
    r = row(name)
    assert r["blind"], "the scenario has no unplug/covered fault"
    for b in r["blind"]:
        assert b["latency_ms"] is not None and b["latency_ms"] <= 500
        assert b["recovery_ms"] is not None and b["recovery_ms"] <= 1000
    assert r["ended_by"] == "returned" and r["resets"] == []  # the loop never stopped


def test_too_fast_within_a_second_in_strong_sun_at_running_pace():
    r = row("wall_2_5ms_sun")
    assert r["too_fast_due"]
    assert r["too_fast_ms"] is not None and r["too_fast_ms"] <= 1000

