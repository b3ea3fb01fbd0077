# Where the ToF cone meets the ground, from trunk pitch, the clip's height and
# the ROI's field of view, so that returns from the track surface are not taken
# for obstacles. The height is learned from the returns themselves: the
# ground's range follows the pitch (range x sin(depression) stays the clip's
# height) where a wall's does not; a clip worn lower or higher than the
# profile says is found within a few seconds of running.
#
#     ground = GroundModel(profile.mount_height_mm, tof.fov_cdeg)
#     ground.update(body.pitch_cdeg, profile.mount_height_mm)   # per sample
#     ground.learn(now_ms, range_mm)           # every valid range
#     ground.near_mm, ground.far_mm            # where the cone's edges meet the ground
#     ground.contains(now_ms, range_mm)        # could it be the ground? (see there)
#     ground.seen(now_ms)                      # the ground has been returning lately
#     ground.return_mm                         # where a ground return is expected
#
# Geometry: the beam axis is tilted down by `down` (centi-degrees); the cone's
# lower edge meets flat ground at h / sin(down + fov/2), its upper edge at
# h / sin(down - fov/2) (never, when that edge points level or up). Integer
# sine table, no floats.
from time import ticks_diff

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
# Learning the height: a return whose implied height is within this share of
# the current one (the profile's at first) moves it by 1/_LEARN_RATE; once
# _SURE_SAMPLES have, the gate narrows to 3 spreads (at least _MIN_GATE_PCT).
_FIRST_GATE_PCT = const(25)
_MIN_GATE_PCT = const(8)
_LEARN_RATE = const(16)
_SURE_SAMPLES = const(32)
_GATE_SPREADS = const(4)
_SEEN_MS = const(1500)  # a ground return this recent (after a few): the ground is in view
_SEEN_SAMPLES = const(8)
_RANGED_MM = const(2500)  # ground farther than this, at its grazing angle, is too faint to range


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
        self.profile_mm = mount_height_mm  # what the athlete's profile says
        self.height_mm = mount_height_mm  # what the returns say (learned)
        self.spread_mm = 0  # mean deviation of the returns' implied height
        self.learned = 0  # returns that taught the height
        self.seen_ms = 0  # when the last one did
        self._gate = 0  # set by _deviation
        self.half_fov_cdeg = fov_cdeg // 2
        self.down_cdeg = 0
        self.near_mm = 0  # closest range the ground can return (0: not in view)
        self.far_mm = 0  # farthest (0: unbounded)
        self.return_mm = 0  # the range a ground return is reported at (0: none)
        self._sin_return = 0  # sin of that ray's depression x 10000 (0: none)
        self._low_mm = 0  # the band contains() accepts, with pitch error and noise
        self._high_mm = 0
        self.update(0, mount_height_mm)

    def update(self, pitch_cdeg, profile_mm):
        if profile_mm != self.profile_mm:  # the athlete changed it: start again from it
            self.profile_mm = self.height_mm = profile_mm
            self.learned = self.spread_mm = 0
        h = self.height_mm
        down = pitch_cdeg * BEAM_DOWN_SIGN
        self.down_cdeg = down
        half = self.half_fov_cdeg
        self.near_mm = slant_mm(h, down + half)
        self.far_mm = slant_mm(h, down - half)
        # Where a ground return is reported: nearer ground gives more signal
        # (1/d^2), so the signal-weighted range sits a little below the axis.
        ret = down + half // 4
        self.return_mm = slant_mm(h, ret)
        self._sin_return = sin_1e4(ret) if ret >= MIN_DEPRESSION_CDEG else 0
        # Widened band: the nearest ground the lower edge could reach with the
        # pitch a little more down (and, where ground can be ranged at all, the
        # clip lower until its height is learned), the farthest the upper edge
        # with it up.
        near = slant_mm(h, down + half + PITCH_ERROR_CDEG)
        if self.learned < _SURE_SAMPLES:
            # nearer still, while the height is not learned, the ground of a clip
            # worn lower than the profile says (where ground can be ranged at all)
            lower = slant_mm(h * (100 - _FIRST_GATE_PCT) // 100, down + half + PITCH_ERROR_CDEG)
            if 0 < lower <= _RANGED_MM:
                near = lower
        self._low_mm = near - NOISE_MM if near > 0 else 0
        far = slant_mm(h, down - half - PITCH_ERROR_CDEG)
        self._high_mm = far + NOISE_MM if far > 0 else 0

    def _deviation(self, range_mm):
        """How far (mm) this range's implied height is from the learned one (-1
        when no ground is in view); _gate: how far it may be for the ground."""
        if self._sin_return == 0:
            return -1
        h = self.height_mm
        implied = range_mm * self._sin_return // 10000
        if self.learned < _SURE_SAMPLES:
            self._gate = h * _FIRST_GATE_PCT // 100
        else:
            self._gate = max(_GATE_SPREADS * self.spread_mm, h * _MIN_GATE_PCT // 100)
        return implied - h if implied > h else h - implied

    def learn(self, now_ms, range_mm):
        """A valid range: if it could be the ground (its implied height is near
        the current one), the height follows it."""
        dev = self._deviation(range_mm)
        if dev < 0 or dev > self._gate:
            return
        h = self.height_mm
        implied = range_mm * self._sin_return // 10000
        step = (implied - h) // _LEARN_RATE if implied >= h else -((h - implied) // _LEARN_RATE)
        self.height_mm = h + step
        self.spread_mm += (dev - self.spread_mm) // _LEARN_RATE
        self.seen_ms = now_ms
        if self.learned < _SURE_SAMPLES:
            self.learned += 1

    def seen(self, now_ms):
        return self.learned >= _SEEN_SAMPLES and ticks_diff(now_ms, self.seen_ms) <= _SEEN_MS

    def contains(self, now_ms, range_mm):
        """Could the ground have returned this range at the current pitch? In the
        cone's band, and, while the ground is in view, where it has been returning
        or beyond: a return farther than the ground's shows nothing nearer than
        the ground (the ground where the model is off - the pitch at the peaks
        of the sway, a height learned at the usual pitch - or a dip in the
        path), so only a nearer one can be an obstacle (docs/obstacle.md)."""
        low = self._low_mm
        if low == 0 or range_mm < low:
            return False
        high = self._high_mm
        if high and range_mm > high:
            return False
        return not self.seen(now_ms) or self._deviation(range_mm) <= self._gate or \
            range_mm * self._sin_return // 10000 > self.height_mm
