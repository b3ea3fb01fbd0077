"""Scenario runs end to end: every shipped scenario boots the real firmware over
the chip models, faults appear when a scenario asks for them, the output is
byte-for-byte reproducible, replay of a run's own trace gives the same events,
and malformed input stops with a message that says where."""

import json
import os

import pytest

from sim import scenario, trace
from sim.__main__ import main as sim_main

QUICK = [p for p in scenario.shipped() if not scenario.load(p)["long"]]


def spec(**kw):
    base = {"name": "t", "duration_ms": 12000, "seed": 5,
            "runner": {"speed": [[0, 0], [1000, 0], [2000, 2000]], "cadence_spm": 170}}
    base.update(kw)
    return scenario.check(base)


def rows_between(rows, t0, t1):
    return [r for r in rows if t0 <= r[0] < t1]


@pytest.mark.parametrize("path", QUICK, ids=os.path.basename)
def test_every_shipped_scenario_runs_and_the_drivers_speak_the_chips_language(path):
    s = scenario.load(path)
    out = scenario.run(s)
    m = out["metrics"]
    assert [o["id"] for o in m["obstacles"]] == [o["id"] for o in s["obstacles"]]
    assert m["sim"]["chip_problems"] == []  # every register write understood
    assert m["sim"]["tof_samples"] > 0
    for o in m["obstacles"]:
        if o["collision_course"]:
            assert o["contact_ms"] <= s["duration_ms"]
            assert o["lead_ms"] is None or o["lead_ms"] <= o["available_lead_ms"]
    truth = s.get("balance", [])
    assert m["balance"]["stumbles"] == sum(1 for b in truth if b["kind"] == "stumble")
    assert m["balance"]["falls"] == sum(1 for b in truth if b["kind"] == "fall")
    json.dumps(out)


def test_at_least_twelve_scenarios_cover_the_issue_list():
    names = {os.path.basename(p)[:-5] for p in scenario.shipped()}
    for needed in ("clear_track", "wall_1_5ms_shade", "wall_2_5ms_sun", "wall_4ms_sun", "pole",
                   "fence_angled", "person_crossing", "runner_from_behind", "pitch_down_ground",
                   "shade_to_sun", "sensor_unplug", "stumble", "fall", "long_session",
                   "walk_stumble", "walk_fall", "stumble_forward"):
        assert needed in names
    assert sum(1 for n in names if n.startswith("gait_")) >= 3


def test_same_seed_same_bytes_other_seed_other_run():
    s = scenario.load(os.path.join(scenario.SCENARIO_DIR, "wall_2_5ms_shade.json"))
    a = json.dumps(scenario.run(s))
    b = json.dumps(scenario.run(s))
    c = json.dumps(scenario.run(s, seed=s["seed"] + 1))
    assert a == b
    assert a != c


def test_replay_of_a_runs_own_trace_reproduces_its_events(tmp_path):
    s = scenario.load(os.path.join(scenario.SCENARIO_DIR, "wall_1_5ms_shade.json"))
    csv_path = str(tmp_path / "run.csv")
    ran = scenario.run(s, trace_path=csv_path)
    with open(csv_path) as f:
        assert f.readline().strip() == ",".join(trace.HEADER)
    replayed = trace.replay(csv_path, profile=s["profile"])
    assert replayed["events"] == ran["events"]
    assert replayed["summary"] == ran["summary"]
    assert any(e["kind"] == "obstacle" for e in ran["events"])  # a run worth replaying


def test_replay_of_a_device_trace_late_in_the_tick_counter(tmp_path):
    # A board's trace: 3 s standing still, recorded ~12 days after boot, across the
    # 2**30 ms tick wrap; IMU at 100 Hz, a range sample every 50 ms.
    path = tmp_path / "device.csv"
    lines = [",".join(trace.HEADER)]
    start = (1 << 30) - 1500
    for i in range(300):
        t = (start + 10 * i) & ((1 << 30) - 1)
        rng = "1500,0,80" if i % 5 == 0 else ",,"
        lines.append("%d,0,0,1000,0,0,0,%s" % (t, rng))
    path.write_text("\n".join(lines) + "\n")
    rows = trace.read(str(path))
    assert rows[-1][0] - rows[0][0] == 2990  # unwrapped
    idle = trace.replay(str(path))
    active = trace.replay(str(path), active=True)
    assert not any(e["kind"] == "session_start" for e in idle["events"])
    assert active["events"][0]["kind"] == "session_start"
    imu_only = tmp_path / "imu.csv"
    imu_only.write_text("\n".join(line.replace(",1500,0,80", ",,,") for line in lines) + "\n")
    assert all(r[7] is None for r in trace.read(str(imu_only)))
    assert trace.replay(str(imu_only), active=True)["events"][0]["kind"] == "session_start"


def test_gait_truth_counts_steps_at_the_scenario_cadence():
    out = scenario.run(spec(duration_ms=32000, runner={"speed": [[0, 2000]], "cadence_spm": 150}))
    assert abs(out["metrics"]["gait"]["true_steps"] - 80) <= 1  # 150 steps/min for 32 s


def test_reaction_model_brakes_after_the_buzz_and_avoids_a_slow_wall(tmp_path):
    out = scenario.run(scenario.load(os.path.join(scenario.SCENARIO_DIR, "wall_1_5ms_shade.json")))
    wall = out["metrics"]["obstacles"][0]
    if wall["lead_ms"] is not None and wall["lead_ms"] > 1500:
        assert not wall["collided"]  # 1.5 m/s needs ~1.1 m: 1.5 s of warning is plenty
    s = spec(obstacles=[{"id": "wall", "kind": "wall", "x_mm": 15000}],
             runner={"speed": [[0, 0], [1000, 0], [2000, 2000]], "cadence_spm": 170,
                     "reaction": {"enabled": False}})
    out = scenario.run(s)
    assert out["metrics"]["obstacles"][0]["collided"]  # nobody reacts: contact


# --- faults appear when asked --------------------------------------------------------------------
def run_with_trace(tmp_path, s):
    path = str(tmp_path / "t.csv")
    out = scenario.run(s, trace_path=path)
    return out, trace.read(path)


def test_unplugged_sensor_stops_ranging_and_comes_back_reset(tmp_path):
    s = spec(faults=[{"kind": "unplug", "device": "tof", "t_ms": 5000, "duration_ms": 2000}])
    out, rows = run_with_trace(tmp_path, s)
    ranged = [r for r in rows if r[7] is not None]
    assert not rows_between(ranged, 5005, 7000)
    assert [t for t, _text in out["metrics"]["sim"]["faults"]] == [5000, 7000]


def test_covered_sensor_reads_millimetres_with_no_ambient(tmp_path):
    s = spec(faults=[{"kind": "covered", "t_ms": 5000, "duration_ms": 2000}])
    _out, rows = run_with_trace(tmp_path, s)
    covered = [r for r in rows_between(rows, 5200, 7000) if r[7] is not None]
    assert covered and all(r[7] <= 20 and r[9] == 0 for r in covered)


def test_hung_bus_blocks_every_chip(tmp_path):
    s = spec(faults=[{"kind": "bus_hung", "t_ms": 5000, "duration_ms": 500}])
    _out, rows = run_with_trace(tmp_path, s)
    assert not rows_between(rows, 5010, 5500)
    assert rows_between(rows, 6000, 7000)


def test_imu_saturation_clips_at_the_configured_full_scale(tmp_path):
    s = spec(faults=[{"kind": "imu_saturation", "t_ms": 5000, "duration_ms": 200}])
    _out, rows = run_with_trace(tmp_path, s)
    knock = [abs(r[1]) for r in rows_between(rows, 5000, 5200) if r[1] is not None]
    full_scale = max(knock)
    assert full_scale >= 15990  # the firmware's +-16 g
    assert knock.count(full_scale) >= 2  # clipped, not just large


def test_i2c_errors_and_power_cut(tmp_path):
    s = spec(faults=[{"kind": "i2c_errors", "device": "imu", "t_ms": 4000, "duration_ms": 2000,
                      "rate": 0.5},
                     {"kind": "power_cut", "t_ms": 8000}])
    out, rows = run_with_trace(tmp_path, s)
    imu_rows = [r for r in rows_between(rows, 4000, 6000) if r[1] is not None]
    assert len(imu_rows) < 150  # about half the 100 Hz reads fail
    [(t_reset, cause)] = out["metrics"]["sim"]["resets"]
    assert 8000 <= t_reset <= 8020 and cause == 1  # power-on reset


# --- malformed input ----------------------------------------------------------------------------
def test_malformed_scenario_names_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "duration_ms": 5000,
                               "runner": {"speed": 1000, "cadense_spm": 170}}))
    assert sim_main(["run", str(bad), "--json"]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "runner.cadense_spm" in err and "unknown key" in err
    bad.write_text('{"name": "x",\n "duration_ms": 5000,\n "runner": }')
    assert sim_main(["run", str(bad)]) == 2
    assert "bad.json:3:" in capsys.readouterr().err
    with pytest.raises(scenario.ScenarioError, match=r"obstacles\[0\].kind"):
        spec(obstacles=[{"id": "a", "kind": "boulder", "x_mm": 1}])
    with pytest.raises(scenario.ScenarioError, match=r"speed\[1\].*back in time"):
        spec(runner={"speed": [[1000, 0], [500, 1]]})


def test_malformed_trace_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(trace.HEADER) + "\n10,0,0,1000,0,0,0,,,\n20,0,0,x,0,0,0,,,\n")
    assert sim_main(["replay", str(bad), "--json"]) == 2
    assert "bad.csv:3: az_mg must be an integer" in capsys.readouterr().err
    bad.write_text("t,ax\n")
    with pytest.raises(trace.TraceError, match="bad.csv:1: header"):
        trace.read(str(bad))


def test_cli_run_prints_one_json_object(tmp_path, capsys):
    path = os.path.join(scenario.SCENARIO_DIR, "runner_from_behind.json")
    png = tmp_path / "t.png"
    assert sim_main(["run", path, "--json", "--seed", "3", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"events", "summary", "metrics"}
    assert out["seed"] == 3
    assert png.stat().st_size > 10000
