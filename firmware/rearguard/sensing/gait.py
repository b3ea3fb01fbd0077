# Steps, cadence, walking/running state and a speed estimate from the length
# of the acceleration vector at the waist.
#
#     gait = Gait(profile)
#     gait.update(now_ms, dt_ms, accel_mg)     # |a| in milli-g, every IMU sample
#     gait.steps, gait.cadence_spm, gait.moving, gait.running, gait.speed_mm_s
#
# Why |a|: it does not depend on how the clip sits on the waistband, and each
# foot contact pushes it well above 1 g (walking ~1.2-1.6 g, jogging 2.5-4 g)
# while it must dip below its mean between contacts (flight or single
# support). A step is an upward crossing of an adaptive threshold (a share of
# the runner's own recent step peaks), counted at most once per refractory
# time (a share of the recent step interval), and the detector re-arms only
# after |a| has fallen back below its mean: double peaks of one foot contact
# (heel transient, then push-off) count once. Times come from timestamps,
# so 50 Hz and 200 Hz samples give the same answer.
#
# A bout needs three steps before any count: one bump of the clip is not a
# walk. Speed = cadence x stride / 2 (stride = two steps, profile.stride_mm).
from time import ticks_diff

from micropython import const

from rearguard.sensing.attitude import ema

_SMOOTH_TAU_MS = const(15)  # takes the edge off impact spikes, keeps the step peak
_MEAN_TAU_MS = const(2000)  # slow mean of |a|: the level steps rise above
_HI_MIN_MG = const(90)  # smallest step peak above the mean that counts
_HI_SHARE_PCT = const(35)  # threshold = this share of the recent step peaks
_REARM_MG = const(0)  # re-arm once |a| is back at its mean
_REFRACTORY_MIN_MS = const(200)  # 300 steps/min is beyond any runner
_REFRACTORY_SHARE_PCT = const(45)
_BOUT_GAP_MS = const(2000)  # a longer pause ends a bout
_BOUT_MIN_STEPS = const(3)
_RUN_PEAK_MG = const(750)  # step peaks above this (|a| ~1.75 g): running
_WALK_PEAK_MG = const(550)  # ... and below this again: walking (hysteresis)
_RUN_CADENCE_SPM = const(165)
_G_MG = const(1000)


class Gait:
    def __init__(self, profile):
        self.profile = profile
        self.steps = self.cadence_spm = self.speed_mm_s = 0
        self.moving = self.running = False
        self.step = False  # True in the sample a step was counted
        self.contact = False  # True in the sample a foot contact was seen (counted or not yet)
        self.last_step_ms = 0
        self.interval_ms = 0  # smoothed step interval
        self.peak_mg = 400  # smoothed step peak above the mean
        self.bout_steps = 0
        self._odd_steps = 0
        self._smooth = self._mean = _G_MG
        self._armed = True
        self._excursion = 0  # highest point since the last re-arm
        self._started = False

    def update(self, now_ms, dt_ms, accel_mg):
        self.step = False
        self.contact = False
        if not self._started:
            self._started = True
            self._smooth = accel_mg
            # 1 g, not the first sample: a recording (or a boot) that starts with
            # a jolt would otherwise hide the first seconds of steps under a high mean
            self._mean = _G_MG
            self.last_step_ms = now_ms
        self._smooth = ema(self._smooth, accel_mg, dt_ms, _SMOOTH_TAU_MS)
        self._mean = ema(self._mean, accel_mg, dt_ms, _MEAN_TAU_MS)
        dyn = self._smooth - self._mean
        if dyn > self._excursion:
            self._excursion = dyn
        if self._armed:
            hi = self.peak_mg * _HI_SHARE_PCT // 100
            if hi < _HI_MIN_MG:
                hi = _HI_MIN_MG
            if dyn > hi:
                self._armed = False
                self._on_rise(now_ms)
        if dyn < _REARM_MG:
            self._armed = True
            if self._excursion > _HI_MIN_MG:
                # every contact's peak, counted or not, so the threshold follows
                # a runner who slows from 3 g steps to 1.3 g ones
                change = self._excursion - self.peak_mg
                self.peak_mg += change // 2 if change < 0 else change // 4  # quick to lower
            self._excursion = 0
        self._update_state(now_ms)

    def _on_rise(self, now_ms):
        since = ticks_diff(now_ms, self.last_step_ms)
        refractory = self.interval_ms * _REFRACTORY_SHARE_PCT // 100
        if refractory < _REFRACTORY_MIN_MS:
            refractory = _REFRACTORY_MIN_MS
        if self.bout_steps and since < refractory:
            return
        self.contact = True
        if self.bout_steps == 0 or since > _BOUT_GAP_MS:
            self.bout_steps = 1
            self.interval_ms = 0
            self._odd_steps = 0
        else:
            self.bout_steps += 1
            self._follow_rhythm(since)
        self.last_step_ms = now_ms
        if self.bout_steps == _BOUT_MIN_STEPS:
            self.steps += _BOUT_MIN_STEPS
            self.step = True
        elif self.bout_steps > _BOUT_MIN_STEPS:
            self.steps += 1
            self.step = True

    def _follow_rhythm(self, since):
        # A hop, a missed or a doubled step is not a new cadence: intervals more
        # than a third off the rhythm are ignored unless two come in a row.
        iv = self.interval_ms
        if iv == 0:
            self.interval_ms = since
        elif since * 3 > iv * 4 or since * 4 < iv * 3:
            self._odd_steps += 1
            if self._odd_steps >= 2:
                self.interval_ms = since
                self._odd_steps = 0
        else:
            self._odd_steps = 0
            self.interval_ms = iv + (since - iv) // 4

    def _update_state(self, now_ms):
        if self.bout_steps >= _BOUT_MIN_STEPS:
            since = ticks_diff(now_ms, self.last_step_ms)
            limit = self.interval_ms * 5 // 2
            if limit < 1500:
                limit = 1500
            if since > limit:
                self.bout_steps = 0
        moving = self.bout_steps >= _BOUT_MIN_STEPS
        self.moving = moving
        if not moving:
            self.running = False
            self.cadence_spm = 0
            self.speed_mm_s = 0
            return
        cadence = 60000 // self.interval_ms if self.interval_ms > 0 else 0
        self.cadence_spm = cadence
        if self.running:
            self.running = self.peak_mg >= _WALK_PEAK_MG or cadence >= _RUN_CADENCE_SPM
        else:
            self.running = self.peak_mg >= _RUN_PEAK_MG or cadence >= _RUN_CADENCE_SPM
        self.speed_mm_s = cadence * self.profile.stride_mm // 120
