"""What a coach reads in the session summary after a fall and after stumbles."""

import os

from sim import scenario


def _run(name):
    return scenario.run(scenario.load(os.path.join(scenario.SCENARIO_DIR, name)))


def test_a_fall_counts_once_as_a_fall_not_also_as_a_stumble():
    out = _run("fall.json")
    kinds = [e["kind"] for e in out["events"]]
    assert "stumble" in kinds and "fall" in kinds  # the pre-impact buzz, then the fall
    assert (out["summary"]["stumbles"], out["summary"]["falls"]) == (0, 1)


def test_recovered_stumbles_are_counted_as_near_falls():
    out = _run("stumble.json")
    truth = out["metrics"]["balance"]
    assert truth["stumbles"] >= 1 and truth["falls"] == 0
    assert out["summary"]["stumbles"] == truth["detected_stumbles"] == truth["stumbles"]
    assert out["summary"]["falls"] == 0
