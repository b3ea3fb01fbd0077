"""The figures behind docs/obstacle.md's decision on trip hazards (issue 14):
what one VL53L1X can see of the ground behind a backward runner, from the
simulator's sensor physics. If the model changes so that these fail, the
decision there has to be looked at again."""

from tools import trip_geometry as tg


def test_a_lower_roi_zone_gets_no_range_from_the_ground_in_daylight():
    for name, pitch, cols, rows, top, down in tg.ARRANGEMENTS[:3]:
        q, _r = tg.look(tg.world(pitch), cols, rows, top, down, "shade")
        assert q < 0.6, name  # below the chip's detection: nothing is reported


def test_a_kerb_moves_the_blended_range_by_little_until_it_is_close():
    # A second sensor 45 deg down ranges the ground in shade, but a 150 mm kerb
    # 1.3 m back moves the reported range by less than the ranging noise.
    _name, pitch, cols, rows, top, down = tg.ARRANGEMENTS[4]
    q, flat = tg.look(tg.world(pitch), cols, rows, top, down)
    assert q >= 1.0
    kerb = [[0, 0], [1300, 0], [1300, 150], [4300, 150]]
    _q, with_kerb = tg.look(tg.world(pitch, kerb), cols, rows, top, down)
    assert abs(with_kerb - flat) < 40


def test_no_second_sensor_looking_down_could_warn_early_enough():
    # Issue 14's acceptance: a trip alert with >= 0.8 of the time from the
    # hazard entering the view to contact. A blended range is moved beyond its
    # noise only once the hazard fills much of the view: even an alert at that
    # first moment, with no sample to confirm it, gets less than 0.8 - for
    # every pitch and ROI tried, every hazard, at any speed.
    for down, rows in tg.SECOND_SENSORS:
        for name, hazard in tg.HAZARDS:
            enters, seen = tg.sighting(down, rows, hazard)
            assert enters is not None and seen is not None, (down, rows, name)
            assert seen / enters < 0.8, (down, rows, name, enters, seen)
    for height in (800, 1200):  # a clip worn lower or higher
        for name, hazard in tg.HAZARDS:
            assert tg.best_ratio(45, 16, hazard, height) < 0.8, (height, name)


def test_at_running_pace_the_best_lead_is_shorter_than_a_reaction():
    # 45 deg down: the ground is ranged in shade, and a 150 mm kerb shifts it
    # beyond the noise about 0.9 m back: 0.17 s before the clip is over it at
    # 2.5 m/s once 3 samples confirm it, a third of the runner's 0.5 s reaction.
    enters, seen = tg.sighting(45, 16, tg.HAZARDS[0][1])
    _best, _walk, _walk_ratio, run_lead, _run_ratio = tg.leads(enters, seen)
    assert 0 < run_lead < 0.25


def test_a_bench_is_a_solid_segment_the_sensor_ranges():
    # docs/scenarios.md: a bench is a 1.6 m solid segment 450 mm high; looking
    # 45 deg down, one 800 mm back is nearer than the ground behind it.
    _q, flat = tg.look(tg.world(0), 16, 16, 0, 45)
    bench = {"id": "bench", "kind": "bench", "x_mm": 800}
    _q, with_bench = tg.look(tg.world(0, obstacles=[bench]), 16, 16, 0, 45)
    assert with_bench < flat - 50
