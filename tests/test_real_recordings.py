"""Real people wearing a waist IMU (SisFall, Sucerquia et al. 2017, next to the
project in ../shared/data/sisfall-dev), replayed as the clip would live them
(`sim replay --active`): a jog with turns stays quiet, a backward slip buzzes
before the ground and is confirmed as a fall, a recovered stumble is a
near-fall and never a fall. Skipped, with the reason, without the recordings;
the leave-one-subject-out figures are `make bench` (tools/bench_real.py)."""

import pytest

from sim import trace
from tools import bench_real, sisfall

ABSENT = sisfall.absent_reason()
real = pytest.mark.skipif(ABSENT is not None, reason=ABSENT or "")


def _replay(code, subject, trial="R01"):
    (rec,) = [r for r in sisfall.recordings((code,)) if r.subject == subject and r.trial == trial]
    out = trace.replay(rec.path, active=True)
    return rec, [(e["t_ms"], e["kind"]) for e in out["events"] if e["kind"] in ("stumble", "fall")]


@real
@pytest.mark.parametrize("subject", ["SA03", "SA04"])
def test_a_quick_jog_with_turns_at_the_corridor_ends_gives_no_balance_alert(subject):
    # 100 s of jogging quickly: where the earlier detector buzzed 5-6 times.
    _rec, events = _replay("D04", subject)
    assert events == []


@real
def test_a_backward_slip_buzzes_before_the_impact_and_is_confirmed_as_a_fall():
    rec, events = _replay("F02", "SA02")
    impact = sisfall.impact_ms(rec.path)
    kinds = [k for _t, k in events]
    assert kinds == ["stumble", "fall"]
    assert impact - 1000 < events[0][0] < impact  # the warning comes before the ground
    assert impact < events[1][0] < impact + 4000  # then lying still


@real
@pytest.mark.parametrize("subject", ["SA01", "SA04"])
def test_a_recovered_stumble_is_a_near_fall_never_a_fall(subject):
    _rec, events = _replay("D18", subject, "R03")
    assert [k for _t, k in events] == ["stumble"]


def test_the_fit_sits_above_what_the_other_subjects_did_quietly():
    # Thresholds come from the training subjects' walking, jogging, stairs and
    # jumps only: the held-out subject, stumbles and falls never move them.
    rec = sisfall.Recording
    recs = [rec("D04", "SA01", "R01", "a"), rec("D05", "SA02", "R01", "b"),
            rec("D18", "SA01", "R01", "c"), rec("D04", "SA03", "R01", "d")]
    probes = [{"turn": 5000, "jolt": 150}, {"turn": 6000, "jolt": 180},
              {"turn": 20000, "jolt": 600}, {"turn": 9000, "jolt": 400}]
    assert bench_real.fit(recs, probes, ["SA01", "SA02"]) == (6900, 207)
    assert bench_real.fit(recs, probes, ["SA01"]) == (bench_real.TURN_MIN_MDEG, 173)


def test_without_the_recordings_the_bench_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv(sisfall.DATA_ENV, str(tmp_path))
    out = bench_real.figures()
    assert list(out) == ["real_data"]
    assert str(tmp_path) in out["real_data"] and "SA01.tar.xz" in out["real_data"]
