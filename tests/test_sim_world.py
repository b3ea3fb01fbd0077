"""The simulated world's runner: the IMU's gyro and accelerometer tell the same
story (a complementary filter must not lag a commanded lean), and the shipped
scenarios describe athletes whose stride fits their speed and cadence."""

import glob
import json
import math
import os

import pytest

from sim import loader
from sim.chips.rng import Rng
from sim.geometry import rotation as _rotation
from sim.scenario import check
from sim.world import World, profile_value

SCENARIOS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "sim", "scenarios",
                                          "*.json")))


def gyro_vs_gravity_pitch(spec_extra, t0_ms, t1_ms, every_ms=2):
    """[(t_ms, pitch from the integrated gyro, pitch from gravity, world pitch)] in degrees."""
    spec = {"name": "t", "duration_ms": 60000, "runner": {"speed": 0}}
    spec.update(spec_extra)
    world = World(check(spec), Rng(4))
    gyro_pitch = None
    last_gy = 0.0
    out = []
    for t in range(t0_ms, t1_ms, every_ms):
        ts, (ax, _ay, az, _gx, gy, _gz) = world.imu_sample(t * 1000, every_ms * 1000)
        gravity_pitch = math.degrees(math.atan2(-ax, az))
        if gyro_pitch is None:
            gyro_pitch = gravity_pitch
        else:
            gyro_pitch += (gy + last_gy) / 2 / 1000.0 * every_ms / 1000.0  # trapezoids
        last_gy = gy
        out.append((t, gyro_pitch, gravity_pitch, world.attitude(ts)[0]))
    return out


def test_a_pitch_profile_ramp_turns_the_gyro_as_well_as_gravity():
    # pitch_down_ground leans the runner 35 deg in 2 s: the gyro has to see that turn.
    series = gyro_vs_gravity_pitch(
        {"runner": {"speed": 0, "pitch_profile": [[0, 0], [1000, 0], [3000, 35], [4000, 35]]}},
        500, 4500)
    worst = max(abs(g - a) for _t, g, a, _p in series)
    assert worst < 0.5
    assert 34 < series[-1][1] < 36


@pytest.mark.parametrize("event", [
    {"kind": "stumble", "t_ms": 1000, "excursion_deg": 22, "direction": "forward"},
    {"kind": "fall", "t_ms": 1000},
    {"kind": "fall", "t_ms": 1000, "get_up_ms": 4000},
])
def test_balance_events_turn_the_gyro_by_the_angle_they_tip(event):
    series = gyro_vs_gravity_pitch({"balance": [event]}, 500, 7000)
    # The jolts and the impact upset gravity for a moment; the turn itself must agree.
    for _t, gyro, _grav, world_pitch in series:
        assert abs(gyro - world_pitch) < 0.5
    assert abs(series[-1][1] - series[-1][2]) < 0.5


@pytest.mark.parametrize("runner", [
    {"speed": 2500, "cadence_spm": 170, "pitch_deg": 35},
    {"speed": [[0, 0], [1000, 0], [3000, 3000]], "cadence_spm": 180,
     "pitch_profile": [[0, 0], [1000, 0], [3000, 30]]},
    {"speed": 1200, "cadence_spm": 110, "gait": "walk", "pitch_deg": 10},
])
def test_the_gyro_measures_the_body_rate_of_the_trunks_attitude(runner):
    # The gyro must show the rotation between two attitudes a moment apart:
    # R(t)^T R(t + dt) = I + [w]x dt, in the device frame (body rates, not Euler rates).
    world = World(check({"name": "t", "duration_ms": 60000, "runner": runner}), Rng(4))
    worst = 0.0
    for t_ms in range(500, 6000, 35):
        world.advance(t_ms * 1000)
        t0 = world.t_us
        before = rotation(world.attitude(t0 + 1000))
        after = rotation(world.attitude(t0 + 3000))
        _ts, m = world.imu_sample(t0 + 2000, 1000)
        gyro = (m[3] / 1000.0, m[4] / 1000.0, m[5] / 1000.0)
        d = [[sum(before[k][i] * after[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
        seen = ((d[2][1] - d[1][2]) / 2, (d[0][2] - d[2][0]) / 2, (d[1][0] - d[0][1]) / 2)
        for axis in range(3):
            worst = max(worst, abs(math.degrees(seen[axis]) / 0.002 - gyro[axis]))
    assert worst < 1.0  # deg/s


def rotation(att):
    return _rotation(att[0], att[1], att[2])


def imu_series(runner, balance=(), t0_ms=3000, t1_ms=9000, every_ms=2):
    spec = {"name": "t", "duration_ms": 60000, "runner": runner, "balance": list(balance)}
    world = World(check(spec), Rng(4))
    out = []
    for t in range(t0_ms, t1_ms, every_ms):
        ts, m = world.imu_sample(t * 1000, every_ms * 1000)
        out.append((t, m, world.attitude(ts)[0]))
    return world, out


def test_walking_rocks_about_one_g_without_flight():
    # A walk has double support and no flight: |a| at the waist peaks at 1.4-2.3 g
    # (real walking, SisFall D01/D02) and never drops near free fall, where a jog
    # at the same cadence lands harder and leaves the ground.
    walk = {"speed": 1200, "cadence_spm": 110, "gait": "walk"}
    world, series = imu_series(walk)
    mags = [math.sqrt(m[0] ** 2 + m[1] ** 2 + m[2] ** 2) for _t, m, _p in series]
    assert 1400 < max(mags) < 2400 and min(mags) > 500
    assert abs(world.true_steps - 110 * 9 / 60) <= 1  # stepping since t = 0 at 110/min
    _w, jog = imu_series(dict(walk, gait="run"))
    jog_mags = [math.sqrt(m[0] ** 2 + m[1] ** 2 + m[2] ** 2) for _t, m, _p in jog]
    assert max(jog_mags) > max(mags) and min(jog_mags) < min(mags) - 100  # lands harder, flies


def test_a_forward_stumble_pitches_the_beam_up_by_its_excursion():
    event = {"kind": "stumble", "t_ms": 5000, "direction": "forward", "excursion_deg": 22,
             "rise_ms": 200}
    _w, series = imu_series({"speed": 2500, "cadence_spm": 187}, [event], 4800, 6500)
    assert -25 < min(p for _t, _m, p in series) < -20  # forward: beam up, 22 deg + the rocking
    assert min(m[4] for _t, m, _p in series) < -150000  # ~170 deg/s on the way


# --- shipped scenarios -------------------------------------------------------------------
def cadence_at(cadence, t_ms):
    return profile_value(cadence, t_ms) if isinstance(cadence, list) else cadence


def pace_mm_s(cadence_spm, stride_mm):
    """The firmware's speed estimate (rearguard/sensing/pace.py) at this cadence."""
    step = max(550, cadence_spm * 13 // 2 - 400)
    return step * stride_mm // 1540 * cadence_spm // 60


def with_a_set_stride(paths):
    """The obstacle scenarios whose athlete set a stride in the profile."""
    out = []
    for path in paths:
        with open(path) as f:
            spec = json.load(f)
        if "stride_mm" in spec.get("profile", {}) and "obstacle" in spec.get("tags", []):
            out.append(path)
    return out


@pytest.mark.parametrize("path", with_a_set_stride(SCENARIOS), ids=os.path.basename)
def test_a_profile_stride_fits_the_runners_speed_and_cadence(path):
    # An athlete who set a stride in the profile set it to fit how they run:
    # the firmware's pace (cadence x the step the cadence implies, scaled by
    # the stride at 180 steps/min) is their speed within 5% on a steady
    # stretch of an obstacle scenario. Without one, the clip learns it.
    with open(path) as f:
        spec = json.load(f)
    stride = spec["profile"]["stride_mm"]
    runner = spec["runner"]
    speed = runner["speed"] if isinstance(runner["speed"], list) else [[0, runner["speed"]]]
    cadence = runner.get("cadence_spm", 170)
    cruising = [(t, v) for t, v in speed if v >= 800]
    assert cruising, "no steady running in " + path
    for t, v in cruising:
        pace = pace_mm_s(int(cadence_at(cadence, t)), stride)
        assert abs(pace - v) <= 0.05 * v, "t=%d ms: %d mm/s at %s spm, the pace says %d" % (
            t, v, cadence_at(cadence, t), pace)


def test_the_pace_the_test_assumes_is_the_firmwares():
    with loader.firmware_modules() as load:
        pace = load("rearguard.sensing.pace")
        profile = load("rearguard.profile")
    assert pace.default_stride_mm() == profile.Profile().stride_mm == 1540
    for c in (110, 150, 186, 220):
        assert pace_mm_s(c, 1540) == pace.step_mm(c) * c // 60


# --- contact and what counts as knowable (sim/obstacles.py, sim/scoring.py) --------------------
def test_a_runner_turning_round_near_a_wall_touches_it_only_inside_the_body():
    # The clip is on the runner's back; the body reaches 300 mm in front of it.
    # Turned round 450 mm from a wall, the wall is in front of the body, not in it.
    from sim.obstacles import BODY_DEPTH_MM, Obstacle

    wall = Obstacle({"id": "wall", "kind": "wall", "x_mm": 10000, "height_mm": 2000,
                     "reflectance": 0.6})
    assert not wall.touches(0, 10000 - 450, 0, heading=180.0)
    assert wall.touches(0, 10000 - (BODY_DEPTH_MM - 50), 0, heading=180.0)
    assert wall.touches(0, 10000 + 10, 0, heading=0.0)  # backing into it
    assert not wall.touches(0, 10000 - 10, 0, heading=0.0)


def test_an_alert_just_before_an_oblique_fence_is_justified():
    # A fence 25 deg off the path's line: its part beside the runner's flank
    # is already behind the clip when its part on the path is 0.3 m away.
    # An alert then is no false alert (it counted as one: the nearest part of
    # the fence in the widened band was more than 400 mm behind the clip).
    from sim import scoring

    spec = check({"name": "t", "duration_ms": 10000,
                  "runner": {"speed": [[0, 2000]], "cadence_spm": 180},
                  "obstacles": [{"id": "fence", "kind": "fence", "x_mm": 8000, "angle_deg": 65,
                                 "length_mm": 8000, "fill": 0.6, "reflectance": 0.45}]})
    world = World(spec, Rng(4))
    t_ms = 3680  # the clip 7.36 m on, the fence's part on the path ~0.28 m behind it
    world.advance(t_ms * 1000)
    fence = world.obstacles[0]
    assert 200 < fence.gap_mm(t_ms, world.x, world.y, 0.0) < 400
    assert fence.gap_mm(t_ms, world.x, world.y, 300) < -400
    assert scoring.alert_cause(world, t_ms, world.reaction_ms, world.braking) == "justified"


class _Scene:
    def __init__(self, dominant, distance_mm):
        self.dominant = dominant
        self.distance_mm = distance_mm


class _Tof:
    last_scene = None


def test_a_partner_keeping_their_distance_becomes_knowable_once_they_close():
    # Lead is counted from when a detector that never alerts for what does not
    # close in could know: a partner at the runner's pace is no threat until
    # they brake (docs/scenarios.md, Metrics).
    from sim.scoring import Detections
    from sim.vboard.chips import RAW_VALID

    spec = check({"name": "t", "duration_ms": 20000,
                  "runner": {"speed": [[0, 2500]], "cadence_spm": 186},
                  "obstacles": [{"id": "partner", "kind": "runner", "x_mm": 1400,
                                 "path": [[0, 1400, 0], [10000, 26400, 0], [11000, 26400, 0]]}]})
    world = World(spec, Rng(4))
    tof = _Tof()
    found = Detections(world, tof)
    for t_ms in range(50, 12000, 50):
        world.advance(t_ms * 1000)
        gap = world.obstacles[0].gap_mm(t_ms, world.x, world.y)
        tof.last_scene = _Scene("partner", gap)
        found.on_sample(t_ms * 1000, RAW_VALID, int(gap), 0, 5000, 100)
    assert found.sighted["partner"] == 50
    assert 10000 <= found.first["partner"][0] <= 10100  # stopped at 10 s: knowable from then
