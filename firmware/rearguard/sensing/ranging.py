# Range plausibility and the closing-speed track of one target.
#
#     kind = classify(tof.status, tof.range_mm, tof.signal_kcps, tof.mode)
#     track = RangeTrack()
#     if kind == TARGET and track.fits(now_ms, tof.range_mm): track.add(now_ms, tof.range_mm)
#     track.closing_mm_s, track.range_mm       # least squares over recent samples
#     ttc_ms(track.range_mm, track.closing_mm_s)   # -1 when not closing
#
# Integer arithmetic only, preallocated rings, nothing allocated per sample.
from time import ticks_diff

from micropython import const

from rearguard.drivers.tof import SHORT

# What a sample says (classify)
TARGET = const(0)  # a plausible range to something
CLEAR = const(1)  # the chip ranged and found nothing in range: a clear view
NEAR_ZERO = const(2)  # 0-30 mm flagged valid: spurious, or the sensor is covered
ALIAS = const(3)  # wraparound: a far bright target folded into a short range
WEAK = const(4)  # a real return too faint or spread to trust alone (sigma fail, ...)
FAINT = const(5)  # something out there, no usable range (short-mode phase out of bounds)
UNUSABLE = const(6)  # hardware and undefined codes: the chip did not measure

# ULD status codes (drivers/tof.py)
_VALID = const(0)
_SIGMA_FAIL = const(1)
_SIGNAL_FAIL = const(2)
_OUT_OF_BOUNDS = const(4)
_WRAPAROUND = const(7)

_NEAR_ZERO_MM = const(30)  # datasheet quirk: spurious 0-30 mm readings flagged valid

# Short mode wraps: a bright target past ~2.2 m can come back as d - 2.2 m,
# usually flagged (status 7), sometimes valid. Its signal is that of the far
# target, weaker than a near one's. Valid short-mode ranges below this signal
# are treated as aliases (docs/obstacle.md: the basis, and the limit it sets
# on dark targets in short mode).
_ALIAS_MAX_SIGNAL_KCPS = const(3000)


def classify(status, range_mm, signal_kcps, mode):
    if status == _SIGNAL_FAIL:
        return CLEAR
    if status == _WRAPAROUND:
        return ALIAS
    if status == _OUT_OF_BOUNDS and mode == SHORT:
        return FAINT  # past short mode's phase window: the range means nothing
    if status != _VALID and status != _SIGMA_FAIL and status != _OUT_OF_BOUNDS:
        return UNUSABLE
    if range_mm <= _NEAR_ZERO_MM:
        return NEAR_ZERO if status == _VALID else FAINT
    if status != _VALID:
        return WEAK  # sigma fail, or long mode's phase check at the edge of range
    if mode == SHORT and signal_kcps < _ALIAS_MAX_SIGNAL_KCPS:
        return ALIAS
    return TARGET


_SIZE = const(8)  # samples in the fit: ~300 ms at 40 ms periods
_MAX_AGE_MS = const(450)  # older samples leave the fit (uneven periods, dropouts)
_GATE_MM = const(200)  # a sample this far from the prediction is another target ...
_GATE_SPEED_MM_S = const(1500)  # ... plus this much per second since the last sample
_YOUNG_GATE_SPEED_MM_S = const(3000)  # (before the track has a slope of its own)
_LOST_MS = const(300)  # no fitting sample this long: the target is gone ...
_HELD_MS = const(1000)  # ... unless held (the runner stands at it): no range this long
_YOUNG_SAMPLES = const(3)  # a track this young has no slope of its own yet
_MIN_CLOSING_MM_S = const(150)  # slower than this is not closing (noise, sway)
_BIG = const(0x40000)  # x * 4096 stays a small int below this
_MISS_CAP_MM = const(10000)
_VALID_FIT = const(3)  # valid samples in the window from which the fit leaves out sigma fails


class RangeTrack:
    """Recent (time, range) samples of one target and their least-squares line."""

    def __init__(self):
        self.t_ms = [0] * _SIZE
        self.r_mm = [0] * _SIZE
        self.g_mm = [0] * _SIZE  # predicted ground range at each sample (0: none)
        self.ok = bytearray(_SIZE)  # 1: a valid sample (0: a sigma fail)
        self.head = 0  # next slot
        self.count = 0
        self.last_ms = 0
        self.range_mm = 0  # fitted range at the last sample
        self.closing_mm_s = 0  # positive when approaching
        # Closing of range minus predicted ground range: near zero for ground
        # returns whatever the trunk's pitch does, the runner's speed for an obstacle.
        self.ground_closing_mm_s = 0
        self.samples = 0  # samples since the track started (confirmation)
        self.support = 0  # earlier samples that agree without a range (a rising signal)
        self.valid = 0  # samples with a valid status (the others are sigma fails)
        self.ground_like = False  # the newest sample lay where the ground can be
        self._mean_t = self._mean_r = self._mean_g = 0  # the fit's means (_means)
        self._used = 0  # samples in the last fit
        self._weak = True  # the fit uses sigma fails too (fewer than _VALID_FIT valid samples)
        self.first_mm = 0  # where the target was first seen
        self.valid_closing_mm_s = 0  # between its last two valid samples
        self._valid_ms = self._valid_mm = 0
        self.solid = False  # judged an obstacle once: the ground does not turn into one and back
        self.line_misfit = self.ground_misfit = 0  # mm^2, see _misfit
        # Held: the runner stands at this target (the monitor's judgement). Lost
        # measurements (hold) keep it active, and a range on its line continues
        # it, up to _HELD_MS after its last range (docs/obstacle.md, Tracking).
        self.held = False
        self.seen_ms = 0  # the last sample that showed it, or did not show it gone

    def reset(self):
        self.count = 0
        self.held = False
        self.samples = 0
        self.support = 0
        self.valid = 0
        self.valid_closing_mm_s = 0
        self.solid = False
        self.closing_mm_s = 0
        self.ground_closing_mm_s = 0
        self.range_mm = 0

    def active(self, now_ms):
        return self.count > 0 and ticks_diff(now_ms, self.seen_ms) <= _LOST_MS and \
            ticks_diff(now_ms, self.last_ms) <= _HELD_MS

    def hold(self, now_ms):
        """A sample that did not show the target gone (a lost measurement): a
        held target stays active (once lapsed, only a range brings it back)."""
        if self.held and self.active(now_ms):
            self.seen_ms = now_ms

    def predicted_mm(self, now_ms):
        return self.range_mm - self.closing_mm_s * ticks_diff(now_ms, self.last_ms) // 1000

    def fits(self, now_ms, range_mm, prior_closing_mm_s=0, ground_mm=0):
        """Could this sample come from the tracked target?

        Until the track has a slope (three samples, one of them valid: sigma
        fails alone are too spread to trust), the prior (the runner's speed: a
        static obstacle closes at least that fast) predicts it, with a wider
        gate. A track on the ground moves with the predicted ground range (pitch)."""
        dt = ticks_diff(now_ms, self.last_ms)
        if self.count == 0 or dt > (_HELD_MS if self.held else _LOST_MS):
            return False
        closing = self.closing_mm_s
        gap = dt if dt < _LOST_MS else _LOST_MS  # a held target's gate does not widen with the gap
        gate = _GATE_MM + _GATE_SPEED_MM_S * gap // 1000
        if self.samples < _YOUNG_SAMPLES or self.valid == 0:
            if closing < prior_closing_mm_s:
                closing = prior_closing_mm_s
            gate = _GATE_MM + _YOUNG_GATE_SPEED_MM_S * gap // 1000
        if _near(range_mm, self.range_mm - closing * dt // 1000, gate):
            return True
        last_g = self.g_mm[(self.head - 1) % _SIZE]
        # a track where the ground can be may also move with the ground's range (pitch)
        return self.ground_like and ground_mm > 0 and last_g > 0 and _near(
            range_mm, self.range_mm + ground_mm - last_g - self.ground_closing_mm_s * dt // 1000, gate)

    def start(self, now_ms, range_mm, ground_mm=0, valid=True, ground_like=False):
        self.reset()
        self.first_mm = range_mm
        self.add(now_ms, range_mm, ground_mm, valid, ground_like)

    def add(self, now_ms, range_mm, ground_mm=0, valid=True, ground_like=False):
        i = self.head
        self.t_ms[i] = now_ms
        self.r_mm[i] = range_mm
        self.g_mm[i] = ground_mm
        self.ok[i] = 1 if valid else 0
        self.head = (i + 1) % _SIZE
        if self.count < _SIZE:
            self.count += 1
        self.samples += 1
        if valid:
            if self.valid:
                dt = ticks_diff(now_ms, self._valid_ms)
                if dt > 0:
                    self.valid_closing_mm_s = (self._valid_mm - range_mm) * 1000 // dt
            self._valid_ms = now_ms
            self._valid_mm = range_mm
            self.valid += 1
        self.ground_like = ground_like
        self.last_ms = self.seen_ms = now_ms
        self._fit(now_ms)

    def _fit(self, now_ms):
        # Least squares on times relative to now and ranges relative to the
        # newest sample: every sum stays far below 2**30 (no big ints). Sigma
        # fails spread more (and a target entering the cone from the side is
        # first seen by its flank): while the track is young, once three valid
        # samples are in the window, the line is theirs alone.
        n = self._means(now_ms)
        used = self._used
        self.count = n
        if used < 2:
            self._flat()
            return
        last = (self.head - 1) % _SIZE
        newest = self.r_mm[last]
        newest_g = self.g_mm[last]
        weak = self._weak
        stt = 0
        str_ = 0
        stg = 0
        for k in range(n):
            i = (self.head - 1 - k) % _SIZE
            if weak or self.ok[i]:
                dt = ticks_diff(now_ms, self.t_ms[i]) - self._mean_t
                stt += dt * dt
                str_ += dt * (self.r_mm[i] - newest - self._mean_r)
                stg += dt * (self.g_mm[i] - newest_g - self._mean_g)
        if stt < 64:  # samples too close in time for a slope
            self._flat()
            return
        # Ranges grow with age when closing: the slope against age is the
        # closing speed in mm/ms; x1000 for mm/s, done as x125 / (stt/8).
        closing = _ratio(str_, 125, stt >> 3)
        self.closing_mm_s = closing
        self.ground_closing_mm_s = _ratio(str_ - stg, 125, stt >> 3)
        # The line at age 0: mean_r - slope * mean_t.
        self.range_mm = newest + self._mean_r - closing * self._mean_t // 1000
        self._misfit(now_ms, n, _ratio(str_, 64, stt), _ratio(str_ - stg, 64, stt))

    def _misfit(self, now_ms, n, slope, ground_slope):
        # Mean squared distance of the samples from the straight line, and of
        # their range less the predicted ground's from its line: the ground's
        # range follows the pitch, an obstacle's the line (slopes in mm/ms x 64;
        # a miss is capped at 10 m so that the sums stay small ints).
        last = (self.head - 1) % _SIZE
        newest = self.r_mm[last]
        newest_g = self.g_mm[last]
        line = ground = used = 0
        for k in range(n):
            i = (self.head - 1 - k) % _SIZE
            if self._weak or self.ok[i]:
                dt = ticks_diff(now_ms, self.t_ms[i]) - self._mean_t
                dr = self.r_mm[i] - newest - self._mean_r
                line += _square(dr - (slope * dt >> 6))
                ground += _square(dr - (self.g_mm[i] - newest_g - self._mean_g) - (ground_slope * dt >> 6))
                used += 1
        self.line_misfit = line // used
        self.ground_misfit = ground // used

    def _means(self, now_ms):
        # Mean age and ranges (relative to the newest) of the samples young
        # enough for the fit (valid ones only, if three are); returns how many
        # are young enough (_used: how many the fit uses; no tuple: a tuple is heap).
        last = (self.head - 1) % _SIZE
        newest = self.r_mm[last]
        newest_g = self.g_mm[last]
        n = valid = 0
        # a held target did not move: its samples from before a gap still make its line
        max_age = _HELD_MS if self.held else _MAX_AGE_MS
        for k in range(self.count):
            if ticks_diff(now_ms, self.t_ms[(self.head - 1 - k) % _SIZE]) > max_age:
                break
            n += 1
            valid += self.ok[(self.head - 1 - k) % _SIZE]
        self._weak = valid < _VALID_FIT or self.samples > _SIZE
        used = st = sr = sg = 0
        for k in range(n):
            i = (self.head - 1 - k) % _SIZE
            if self._weak or self.ok[i]:
                used += 1
                st += ticks_diff(now_ms, self.t_ms[i])
                sr += self.r_mm[i] - newest
                sg += self.g_mm[i] - newest_g
        if used:
            self._mean_t = st // used
            self._mean_r = sr // used
            self._mean_g = sg // used
        self._used = used
        return n

    def _flat(self):
        # Too few samples, or too close in time, for a slope: the newest range.
        self.range_mm = self.r_mm[(self.head - 1) % _SIZE]
        self.closing_mm_s = 0
        self.ground_closing_mm_s = 0
        self.line_misfit = self.ground_misfit = 0

    def evidence(self):
        """How many samples agree on this target."""
        return self.samples + self.support


def _ratio(x, k, d):
    """x * k // d without a product beyond a small int (|x| large: both scaled down)."""
    if -_BIG < x < _BIG:
        return x * k // d
    return (x >> 6) * k // ((d >> 6) or 1)


def _square(e):
    if e > _MISS_CAP_MM or e < -_MISS_CAP_MM:
        e = _MISS_CAP_MM
    return e * e


def _near(range_mm, predicted_mm, gate_mm):
    miss = range_mm - predicted_mm
    return -gate_mm <= miss <= gate_mm


def ttc_ms(distance_mm, closing_mm_s):
    """Time to collision in ms; -1 when the target is not closing (or is here)."""
    if closing_mm_s < _MIN_CLOSING_MM_S or distance_mm <= 0:
        return -1
    return distance_mm * 1000 // closing_mm_s
