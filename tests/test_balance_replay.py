"""The acceptance path of issue 5: an IMU-only trace CSV (docs/design.md format) at
50-200 Hz through `sim replay --active` - the board's IMU chip model, the
firmware's driver, BodyMonitor and the session control - gives the stumble
and fall events, and nothing for plain running."""

import csv

import pytest

from sim import trace
from tools.bench_balance import Plan, synth

HEADER = "t_ms,ax_mg,ay_mg,az_mg,gx_mdps,gy_mdps,gz_mdps,range_mm,range_status,ambient_kcps"


def _write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER.split(","))
        for r in rows:
            w.writerow(list(r) + ["", "", ""])


def _kinds(out, kind):
    return [e["t_ms"] for e in out["events"] if e["kind"] == kind]


@pytest.mark.parametrize("rate_hz,board", [(50, "esp32_devkitc"), (200, "xiao_esp32s3")])
def test_replayed_recording_gives_stumble_and_fall_events(tmp_path, rate_hz, board):
    # A short recording that starts mid-run: judged from its first sample.
    plan = Plan(seed=21).run(12, 180).still(8).stumble(4, "back", size_deg=20)
    plan.fall(9, "back", lie_s=6)
    path = tmp_path / "run.csv"
    _write(path, synth(plan, rate_hz=rate_hz)[0])
    out = trace.replay(str(path), active=True, board=board)
    stumbles = _kinds(out, "stumble")
    assert len(stumbles) == 2 and 4000 <= stumbles[0] <= 4300 and 9000 <= stumbles[1] <= 9500
    falls = _kinds(out, "fall")
    assert len(falls) == 1 and 9500 <= falls[0] <= 13000


def test_replayed_running_gives_no_balance_events(tmp_path):
    plan = Plan(seed=22).run(40, 170)
    for i in range(4):
        plan.look_back(5 + 8 * i, 1 - 2 * (i % 2))
    path = tmp_path / "jog.csv"
    _write(path, synth(plan, rate_hz=100)[0])
    out = trace.replay(str(path), active=True)
    assert _kinds(out, "stumble") == [] and _kinds(out, "fall") == []
