"""Steps, cadence, walking/running and speed from the waist IMU, on synthetic
traces built from published gait kinematics (tools/bench_balance.py) at the
sample rates a recording may have."""

import pytest

from sim import loader
from tools.bench_balance import Plan, Sample, run_body, synth


@pytest.mark.parametrize("cadence", [140, 160, 180, 200])
@pytest.mark.parametrize("rate_hz", [50, 100, 200])
def test_steps_within_3_percent_while_running(cadence, rate_hz):
    plan = Plan(seed=cadence + rate_hz).still(2).run(45, cadence)
    rows, truth = synth(plan, rate_hz=rate_hz, jitter_ms=2 if rate_hz == 50 else 0)
    _events, body = run_body(rows)
    assert abs(body.steps - truth["steps"]) <= 0.03 * truth["steps"]
    assert abs(body.cadence_spm - cadence) <= 0.05 * cadence
    assert body.running and body.moving


@pytest.mark.parametrize("cadence", [90, 110, 130])
def test_walking_is_moving_but_not_running(cadence):
    plan = Plan(seed=cadence).still(2).walk(40, cadence)
    rows, truth = synth(plan, rate_hz=100)
    _events, body = run_body(rows)
    assert body.moving and not body.running
    assert abs(body.steps - truth["all_steps"]) <= 0.03 * truth["all_steps"]


def test_threshold_follows_a_runner_who_slows_to_a_walk():
    plan = Plan(seed=4).still(2).run(30, 190).walk(30, 100)
    rows, truth = synth(plan, rate_hz=100)
    _events, body = run_body(rows)
    assert abs(body.steps - truth["all_steps"]) <= 0.03 * truth["all_steps"]
    assert not body.running


def test_standing_still_after_a_run_stops_cadence_and_speed():
    plan = Plan(seed=5).run(20, 180).still(5)
    rows, _truth = synth(plan, rate_hz=100)
    _events, body = run_body(rows)
    assert not body.moving and not body.running
    assert body.cadence_spm == 0 and body.speed_mm_s == 0


def test_speed_is_cadence_times_stride_from_the_profile():
    plan = Plan(seed=6).still(2).run(20, 180)
    rows, _truth = synth(plan, rate_hz=100)
    _events, body = run_body(rows)
    # the profile's default stride, 1540 mm (two steps, the stride at 180
    # steps/min: rearguard/sensing/pace.py): 90 strides/min = 2.31 m/s
    assert abs(body.speed_mm_s - body.cadence_spm * 1540 // 120) <= 1
    assert 2200 <= body.speed_mm_s <= 2450


def test_a_few_bumps_of_the_clip_are_not_steps():
    rows = []
    for t in range(0, 5000, 10):
        az = 1000
        if t in (1000, 1500):  # two knocks of 2 g, half a second apart
            az = 3000
        rows.append((t, 0, 0, az, 0, 0, 0))
    _events, body = run_body(rows)
    assert body.steps == 0 and not body.moving


def test_a_mounting_tilt_does_not_change_the_count():
    flat = Plan(seed=9, mount_tilt_deg=0).still(2).run(30, 170)
    tilted = Plan(seed=9, mount_tilt_deg=25).still(2).run(30, 170)
    counts = []
    for plan in (flat, tilted):
        rows, truth = synth(plan, rate_hz=100)
        counts.append((run_body(rows)[1].steps, truth["steps"]))
    for got, want in counts:
        assert abs(got - want) <= 0.03 * want


def test_pitch_and_gravity_of_a_still_tilted_clip():
    with loader.firmware_modules() as load:
        att = load("rearguard.sensing.attitude").Attitude()
        # 20 deg backward, 10 deg to the right: up = (-sin20, -sin10 cos20, cos10 cos20)
        sample = Sample()
        sample.ax, sample.ay, sample.az, sample.gx, sample.gy, sample.gz = -342, -163, 925, 0, 0, 0
        for _ in range(300):
            att.update(10, sample)
    assert abs(att.pitch_cdeg - 2000) <= 60
    assert all(abs(g - a) <= 10 for g, a in zip(att.gravity, (-342, -163, 925)))  # and 10 deg of roll


def test_pitch_stays_true_through_running_bounce():
    # 6 deg backward lean of the clip, mount straight: the average pitch while
    # running must not be dragged by 3-4 g footfalls and fore-aft pushes.
    plan = Plan(seed=11, mount_tilt_deg=0, bias_dps=0).still(3).run(30, 180, lean_deg=6.0)
    rows, _truth = synth(plan, rate_hz=100)
    with loader.firmware_modules() as load:
        att = load("rearguard.sensing.attitude").Attitude()
        pitches = []
        last = rows[0][0]
        sample = Sample()
        for t, *values in rows:
            sample.ax, sample.ay, sample.az, sample.gx, sample.gy, sample.gz = values
            att.update(max(1, t - last), sample)
            last = t
            if t > 10000:
                pitches.append(att.pitch_cdeg)
    mean = sum(pitches) / len(pitches)
    assert abs(mean - 600) <= 100  # a plain average of the acceleration is ~190 off
