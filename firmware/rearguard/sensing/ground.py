# Where the ToF cone meets the ground, from trunk pitch, mount height and the
# ROI's field of view, so that returns from the track surface are not taken
# for obstacles.
#
#     ground = GroundModel(profile.mount_height_mm, tof.fov_cdeg)
#     ground.update(body.pitch_cdeg)           # per sample
#     ground.near_mm, ground.far_mm            # where the cone's edges meet the ground
#     ground.contains(range_mm)                # ... widened for pitch error and noise
#     ground.return_mm                         # where a ground return is expected
#
# Geometry: the beam axis is tilted down by `down` (centi-degrees); the cone's
# lower edge meets flat ground at h / sin(down + fov/2), its upper edge at
# h / sin(down - fov/2) (never, when that edge points level or up). Integer
# sine table, no floats.
from micropython import const

# sin(0..90 deg) x 10000
_SIN = (0, 175, 349, 523, 698, 872, 1045, 1219, 1392, 1564, 1736, 1908, 2079, 2250, 2419,
        2588, 2756, 2924, 3090, 3256, 3420, 3584, 3746, 3907, 4067, 4226, 4384, 4540, 4695,
        4848, 5000, 5150, 5299, 5446, 5592, 5736, 5878, 6018, 6157, 6293, 6428, 6561, 6691,
        6820, 6947, 7071, 7193, 7314, 7431, 7547, 7660, 7771, 7880, 7986, 8090, 8192, 8290,
        8387, 8480, 8572, 8660, 8746, 8829, 8910, 8988, 9063, 9135, 9205, 9272, 9336, 9397,
        9455, 9511, 9563, 9613, 9659, 9703, 9744, 9781, 9816, 9848, 9877, 9903, 9925, 9945,
        9962, 9976, 9986, 9994, 9998, 10000)

# body.pitch_cdeg is a right-hand rotation about the device +y axis (to the
# runner's right): positive turns +x (the beam) toward the ground.
BEAM_DOWN_SIGN = const(1)

MIN_DEPRESSION_CDEG = const(100)  # an edge within 1 deg of level never meets the ground in range
# The band allows for this much pitch error (attitude filter while running,
# uneven ground) beyond each edge, plus ranging noise.
PITCH_ERROR_CDEG = const(150)
NOISE_MM = const(60)


def sin_1e4(cdeg):
    """sin of an angle in centi-degrees (0..9000), x 10000, interpolated."""
    if cdeg <= 0:
        return 0
    if cdeg >= 9000:
        return 10000
    d = cdeg // 100
    frac = cdeg - d * 100
    return _SIN[d] + (_SIN[d + 1] - _SIN[d]) * frac // 100


def slant_mm(height_mm, depression_cdeg):
    """Range along a ray tilted down by `depression` to flat ground; 0 = never."""
    if depression_cdeg < MIN_DEPRESSION_CDEG:
        return 0
    return height_mm * 10000 // sin_1e4(depression_cdeg)


class GroundModel:
    def __init__(self, mount_height_mm, fov_cdeg):
        self.height_mm = mount_height_mm
        self.half_fov_cdeg = fov_cdeg // 2
        self.down_cdeg = 0
        self.near_mm = 0  # closest range the ground can return (0: not in view)
        self.far_mm = 0  # farthest (0: unbounded)
        self.return_mm = 0  # the range a ground return is reported at (0: none)
        self._low_mm = 0  # the band contains() accepts, with pitch error and noise
        self._high_mm = 0
        self.update(0)

    def update(self, pitch_cdeg):
        down = pitch_cdeg * BEAM_DOWN_SIGN
        self.down_cdeg = down
        half = self.half_fov_cdeg
        self.near_mm = slant_mm(self.height_mm, down + half)
        self.far_mm = slant_mm(self.height_mm, down - half)
        # Where a ground return is reported: nearer ground gives more signal
        # (1/d^2), so the signal-weighted range sits a little below the axis.
        self.return_mm = slant_mm(self.height_mm, down + half // 4)
        # Widened band: the nearest ground the lower edge could reach with the
        # pitch a little more down, the farthest the upper edge with it up.
        near = slant_mm(self.height_mm, down + half + PITCH_ERROR_CDEG)
        self._low_mm = near - NOISE_MM if near > 0 else 0
        far = slant_mm(self.height_mm, down - half - PITCH_ERROR_CDEG)
        self._high_mm = far + NOISE_MM if far > 0 else 0

    def contains(self, range_mm):
        """Could the ground have returned this range at the current pitch?"""
        low = self._low_mm
        if low == 0 or range_mm < low:
            return False
        high = self._high_mm
        return high == 0 or range_mm <= high
