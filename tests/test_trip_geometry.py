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
