"""The sensing building blocks on their own: least-squares closing speed and
TTC, the plausibility classes, the ground geometry and the visibility model."""

import math
import random

import pytest

from sim import loader


@pytest.fixture(scope="module")
def fw():
    with loader.firmware_modules() as load:
        return {"ranging": load("rearguard.sensing.ranging"),
                "ground": load("rearguard.sensing.ground"),
                "visibility": load("rearguard.sensing.visibility"),
                "profile": load("rearguard.profile")}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_closing_speed_from_noisy_uneven_samples(fw, seed):
    rng = random.Random(seed)
    track = fw["ranging"].RangeTrack()
    start = (1 << 30) - 600  # the tick counter wraps during the approach
    t = start
    r0 = 5000
    for _ in range(20):
        t = (t + rng.choice((30, 40, 40, 50, 90))) & ((1 << 30) - 1)  # dropouts, jitter
        elapsed = (t - start) & ((1 << 30) - 1)
        track.add(t, int(r0 - 2500 * elapsed / 1000 + rng.gauss(0, 20)))
    assert track.closing_mm_s == pytest.approx(2500, abs=350)
    true_range = r0 - 2500 * ((t - start) & ((1 << 30) - 1)) / 1000
    assert track.range_mm == pytest.approx(true_range, abs=60)
    ttc = fw["ranging"].ttc_ms(track.range_mm, track.closing_mm_s)
    assert ttc == pytest.approx(true_range / 2.5, rel=0.2)


def test_receding_or_still_target_has_no_ttc(fw):
    for speed in (-1500, 0):
        track = fw["ranging"].RangeTrack()
        for i in range(8):
            track.add(i * 40, 1500 - speed * i * 40 // 1000)
        assert fw["ranging"].ttc_ms(track.range_mm, track.closing_mm_s) == -1


def test_old_samples_leave_the_fit(fw):
    track = fw["ranging"].RangeTrack()
    for i in range(8):
        track.add(i * 40, 2000)  # standing still ...
    for i in range(8, 16):
        track.add(i * 40, 2000 - 3000 * (i - 7) * 40 // 1000)  # ... then fast closing
    assert track.closing_mm_s > 2500


def test_classify_status_and_quirks(fw):
    r = fw["ranging"]
    c = r.classify
    assert c(0, 1500, 3000, 2) == r.TARGET
    assert c(2, 20, 0, 2) == r.CLEAR  # no target: a clear view
    assert c(0, 12, 9000, 2) == r.NEAR_ZERO  # flagged valid, 0-30 mm: not a range
    assert c(7, 600, 500, 1) == r.ALIAS
    assert c(0, 600, 1500, 1) == r.ALIAS  # short mode, too weak for a valid return
    assert c(0, 600, 8000, 1) == r.TARGET
    assert c(0, 600, 1500, 2) == r.TARGET  # long mode does not wrap there
    assert c(1, 2400, 900, 2) == r.WEAK
    assert c(4, 900, 0, 1) == r.FAINT  # short mode out of bounds: the range means nothing
    assert c(255, 0, 0, 2) == r.UNUSABLE


def test_ground_band_follows_pitch_and_height(fw):
    g = fw["ground"]
    model = g.GroundModel(1000, 2700)
    model.update(0, 1000)  # level: the lower edge meets the ground at 1 m / sin 13.5 deg
    assert model.near_mm == pytest.approx(1000 / math.sin(math.radians(13.5)), rel=0.01)
    assert model.far_mm == 0 and model.contains(0, 5000) and not model.contains(0, 3000)
    model.update(3500, 1000)  # leaning back 35 deg: ground from ~1.4 m to ~2.9 m
    assert model.near_mm == pytest.approx(1000 / math.sin(math.radians(48.5)), rel=0.01)
    assert model.far_mm == pytest.approx(1000 / math.sin(math.radians(21.5)), rel=0.01)
    # (nearer too, down to a clip 25% lower, until the height is learned)
    assert model.contains(0, 1700) and model.contains(0, 1100) and not model.contains(0, 900)
    assert not model.contains(0, 4000)
    model.update(-1500, 1000)  # leaning forward: the beam looks up, no ground in view
    assert model.near_mm == 0 and not model.contains(0, 2000)


def test_the_ground_height_is_learned_from_its_returns(fw):
    # A clip worn at 800 mm though the profile says 1000, pitched 30 deg down:
    # its ground returns teach the height; a wall's returns (range not
    # following the pitch) do not.
    g = fw["ground"]
    model = g.GroundModel(1000, 2700)
    t = 0
    for i in range(200):
        pitch = 3000 + (300 if i % 4 < 2 else -300)  # the trunk sways
        model.update(pitch, 1000)
        model.learn(t, 800 * 10000 // g.sin_1e4(pitch + 2700 // 8))
        model.learn(t, 1500)  # a wall 1.5 m away, now and then in the same cone
        t += 50
    assert abs(model.height_mm - 800) <= 20
    assert model.seen(t)
    model.update(3000, 1000)
    assert model.contains(t, 800 * 10000 // g.sin_1e4(3000 + 2700 // 8))
    assert not model.contains(t, 1100)  # nearer than where the ground has been returning
    assert model.contains(t, 1800)  # farther: it shows nothing nearer than the ground
    model.update(3000, 1200)  # the athlete sets another height: learned afresh from it
    assert model.height_mm == 1200 and not model.seen(t)


def test_sine_table_matches_the_real_thing(fw):
    g = fw["ground"]
    for cdeg in range(0, 9001, 37):
        assert g.sin_1e4(cdeg) == pytest.approx(10000 * math.sin(math.radians(cdeg / 100)), abs=2)


def test_visibility_picks_long_in_shade_short_in_sun(fw):
    v = fw["visibility"]
    vis = v.Visibility(fw["profile"].Profile())
    t = 0
    for _ in range(20):
        vis.sample(t, 10 * 200, 200, vis.mode, vis.budget_ms)
        t += 60
    assert vis.mode == v.LONG and vis.effective_range_mm > 2500
    for _ in range(20):
        vis.sample(t, 220 * 200, 200, vis.mode, vis.budget_ms)
        t += 60
    assert vis.mode == v.SHORT
    assert 1000 < vis.effective_range_mm < 1400  # docs/design.md: ~1.35 m in strong sun
    # hysteresis: hovering around the crossover does not flap
    switches = 0
    mode = vis.mode
    for i in range(100):
        vis.sample(t, (110 + (i % 2) * 20) * 200, 200, vis.mode, vis.budget_ms)
        t += 60
        switches += vis.mode != mode
        mode = vis.mode
    assert switches <= 1


def test_stopping_distance_matches_design(fw):
    vis = fw["visibility"].Visibility(fw["profile"].Profile())
    # docs/design.md: 0.6 s latency+reaction, 3 m/s^2: 2 m/s needs 1.8 m, 3 m/s 3.1 m
    assert vis.stopping_mm(2000) == pytest.approx(1867, abs=5)
    assert vis.stopping_mm(3000) == pytest.approx(3300, abs=5)
    assert vis.stopping_mm(0) == 0
