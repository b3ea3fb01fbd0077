# The runner's speed for the obstacle alerts: cadence times a step length that
# follows the cadence (a backward runner who slows down shortens the step as
# well as its rate), scaled to this runner from the profile's stride, which
# the clip learns whenever it approaches a static target (the target's closing
# speed is then the runner's speed). docs/obstacle.md, "Speed".
#
#     pace = Pace(profile)
#     pace.update(body.cadence_spm, body.moving)   # every tick
#     pace.learn(closing_mm_s)                     # a static target's closing speed
#     pace.speed_mm_s     # best estimate, 0 standing
#     pace.fast_mm_s      # for "too fast": higher while the stride is not known
from micropython import const

from rearguard.profile import field

# Step length (mm) against cadence (steps/min) of backward running: 13/2 mm per
# step/min less 400 mm (900 mm at 200/min, 705 at 170), never below a walk's 550.
_STEP_PER_2SPM = const(13)
_STEP_OFFSET_MM = const(400)
_MIN_STEP_MM = const(550)
REF_SPM = const(180)  # profile.stride_mm is the stride (two steps) at this cadence
_UNSURE_PCT = const(120)  # "too fast" errs this much high while the stride is a guess
_LEARN_MIN_PCT = const(70)  # a closing speed this far from the estimate is not
_LEARN_MAX_PCT = const(140)  # ... the runner's own (the target moves)


def step_mm(cadence_spm):
    """The population's backward step at this cadence."""
    s = cadence_spm * _STEP_PER_2SPM // 2 - _STEP_OFFSET_MM
    return s if s > _MIN_STEP_MM else _MIN_STEP_MM


def default_stride_mm():
    return 2 * step_mm(REF_SPM)


class Pace:
    def __init__(self, profile):
        self.profile = profile
        self.speed_mm_s = 0
        self.fast_mm_s = 0
        self.learned = profile.stride_mm != default_stride_mm()  # set by a coach, or saved
        self._stride_lo, self._stride_hi = field("stride_mm")[2:4]  # the profile's bounds
        self._cadence = 0

    def update(self, cadence_spm, moving):
        if not moving or cadence_spm <= 0:
            self.speed_mm_s = self.fast_mm_s = self._cadence = 0
            return
        self._cadence = cadence_spm
        # this runner's step: the population's, scaled by their stride at REF_SPM
        step = step_mm(cadence_spm) * self.profile.stride_mm // default_stride_mm()
        speed = step * cadence_spm // 60
        self.speed_mm_s = speed
        self.fast_mm_s = speed if self.learned else speed * _UNSURE_PCT // 100

    def learn(self, closing_mm_s):
        """A static target closed at this speed while the runner ran: their speed.
        Returns True if it was taken (close enough to the estimate to be theirs)."""
        speed = self.speed_mm_s
        if speed <= 0 or not (speed * _LEARN_MIN_PCT <= closing_mm_s * 100 <= speed * _LEARN_MAX_PCT):
            return False
        p = self.profile
        stride = p.stride_mm * closing_mm_s // speed
        if self.learned:
            stride = p.stride_mm + (stride - p.stride_mm) // 4  # one approach is noisy
        p.stride_mm = max(self._stride_lo, min(self._stride_hi, stride))
        self.learned = True
        self.update(self._cadence, True)
        return True
