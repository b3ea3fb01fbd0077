# Loss of balance (stumble, before any impact) and falls, from the trunk's
# angular rate and angle at the waist, judged against the runner's own gait.
#
#     bal = Balance()
#     bal.update(now_ms, dt_ms, imu.gx, imu.gy, imu.gz, attitude, in_gait, armed, stride_ms)
#     bal.stumble    # True in the sample balance loss is detected
#     bal.fall       # True in the sample a fall is confirmed
#     bal.fallen     # until the runner is up again (or acknowledge())
#
# Stumble (pre-impact). The trunk's tipping rates (turns about the vertical
# removed, see attitude.py) are integrated into pitch and roll angles, and
# each sample asks: how far has the trunk turned since one stride ago? The
# gait's own rocking (a few degrees each step) repeats every stride and
# cancels; a loss of balance turns the trunk one way at 60-200 deg/s for
# 200-500 ms (Liu & Lockhart 2014: backward falls reach ~140 deg/s extension
# at a still small trunk angle) and does not. The stride comes from the gait;
# strides 12 % shorter and longer (30 % while the rhythm is new or changing)
# are tried too and the turn closest to zero kept, so an imperfect rhythm
# does not look like a turn. Each direction
# (back, forward, right, left) keeps an envelope of the runner's own
# residual swings: it rises slowly and decays over ~10 s, so it follows the
# runner and the mount, but a sudden excursion outruns it. Balance is lost
# when the turn leaves the envelope by a margin while the trunk has recently
# turned fast that way. Backward has the smallest margin: a backward fall
# tips at ~10 deg beyond normal trunk angle, a forward one at ~24 deg.
#
# Fall = loss of balance (a stumble, or a very fast/large trunk rotation),
# then within 2 s an impact (|a| >= 1.4 g), then within 5 s a posture at
# least 40 deg from the runner's upright (gravity as it was in gait, so the
# mount does not matter) held still for 1 s. Impact alone is never a fall: jogging peaks
# at 4-5 g on every step. `fallen` stays set until the trunk is upright again
# for 1 s (or the body monitor sees steps again, or the runner acknowledges).
from time import ticks_add, ticks_diff

from micropython import const

from rearguard.sensing.attitude import ema, isqrt

BACK = const(0)
FORWARD = const(1)
RIGHT = const(2)
LEFT = const(3)

_RATE_TAU_MS = const(30)  # smoothing of the rate (sensor noise, clip wobble)
_LEAK_TAU_MS = const(3000)  # the integrated angle forgets older rotation (gyro drift)
_DEV_MAX = const(10_000_000)  # 100 deg in 1/100 mdeg
_SLOT_MS = const(10)
_HISTORY_SLOTS = const(160)  # 1.6 s: a stride at 75 steps/min
_STRIDE_MIN_MS = const(500)
_STRIDE_MAX_MS = const(1400)  # + the spread stays inside the history
_SPREAD_STEADY_PCT = const(12)
_SPREAD_UNSURE_PCT = const(30)  # first strides of a bout, or a change of pace
# Envelope of the runner's own swings, per direction
_ENV_PRIOR_MDEG = const(5000)  # before any gait is seen: a jogging pelvis swings ~3-5 deg
_ENV_FLOOR_MDEG = const(2000)
_ENV_RISE_MDEG_S = const(2500)  # how fast the envelope may grow
_ENV_DECAY_TAU_MS = const(10000)
_RATE_ENV_PRIOR_MDPS = const(60000)
_RATE_ENV_FLOOR_MDPS = const(25000)
_RATE_ENV_RISE_MDPS_S = const(80000)
# Margins beyond the envelope that mean balance is lost, per direction
_MARGIN_MDEG = (4500, 11000, 8000, 8000)  # back, forward, right, left
_RATE_MIN_MDPS = (40000, 60000, 55000, 55000)
_RATE_ENV_SHARE_PCT = const(60)  # and faster than this share of the usual swing rate
_RATE_HOLD_DECAY_MDPS_MS = const(100)  # the held peak rate drops 50 deg/s in 0.5 s
_HOLD_MS = const(20)  # the condition must hold this long (two samples at 100 Hz)
_UPRIGHT_COS_MILLI = const(643)  # within 50 deg of the runner's upright: judged (not bent or lying)
_UPRIGHT_MS = const(2000)  # ... nor while getting up: the trunk must have been upright this long
_REFRACTORY_MS = const(1500)  # one loss of balance, one stumble
# Fall confirmation
_CUE_RATE_MDPS = const(200000)  # a trunk turning this fast is losing balance anyway
_CUE_DEV_MDEG = const(30000)
_IMPACT_WINDOW_MS = const(2000)
_RECOVERED_MS = const(3000)  # stepping this long after the loss of balance: no fall
_IMPACT_MG = const(1400)  # falls onto grass or mats peak lower than onto concrete
_POSTURE_WINDOW_MS = const(5000)
_POSTURE_COS_MILLI = const(766)  # >= 40 deg away from the upright reference
_STILL_MS = const(1000)
_STILL_ACC_MG = const(150)
_STILL_GYRO_MDPS = const(40000)  # |gx|+|gy|+|gz|, smoothed
_STILL_TAU_MS = const(200)
_UP_COS_MILLI = const(866)  # within 30 deg of the reference: up again
_UP_MS = const(1000)
_REF_TAU_MS = const(2000)

# fall state
_IDLE = const(0)
_CUED = const(1)
_IMPACTED = const(2)
_FALLEN = const(3)


def _follow(env, value, dt_ms, rise_per_s, floor):
    # A peak follower whose rise is slew-limited and whose fall is slow.
    if value > env:
        step = rise_per_s * dt_ms // 1000
        return env + (value - env if value - env < step else step)
    if env <= floor:
        return floor
    # rounded up: at 200 Hz a rounded-down decay would stall short of the floor
    k = _ENV_DECAY_TAU_MS + dt_ms
    return env - ((env - floor) * dt_ms + k - 1) // k


class Balance:
    def __init__(self):
        self.stumble = False
        self.fall = False
        self.fallen = False
        self.stumble_direction = BACK
        self.stumbles = 0
        self.falls = 0
        self.rate_pitch = 0  # mdps, smoothed; + = tipping backward
        self.rate_roll = 0  # mdps, smoothed; + = tipping right
        self.dev_pitch = 0  # integrated tipping, 1/100 mdeg, slowly forgotten; + = backward
        self.dev_roll = 0
        # Trunk angle one stride ago (a ring of 10 ms slots), so that the turn
        # over the last stride can be judged: the gait's own rocking repeats
        # every stride and cancels out, a loss of balance does not.
        self._hist_pitch = [0] * _HISTORY_SLOTS
        self._hist_roll = [0] * _HISTORY_SLOTS
        self._slot = 0
        self._slot_ms = 0  # time of the last sample
        self._slot_rest = 0  # ms since the last slot was written
        # mdeg turned over the last stride, each way (>= 0 when clearly turning that way)
        self.turn_back = self.turn_forward = self.turn_right = self.turn_left = 0
        self.env_dev = [_ENV_PRIOR_MDEG] * 4  # mdeg, per direction
        self.env_rate = [_RATE_ENV_PRIOR_MDPS] * 4
        # Gravity while in gait, mg: the runner's own "up", whatever the mount.
        # It starts as the device frame's up and is learned within seconds of walking.
        self.reference = [0, 0, 1000]
        self.state = _IDLE
        self._state_ms = 0
        self._cue_ms = 0
        self._over_since = [0] * 4
        self._over = bytearray(4)
        self._rate_held = [0] * 4
        self._last_stumble_ms = 0
        self._stumbled_once = False
        self._acc_motion = 0
        self._gyro_motion = 0
        self._still_since = 0
        self._up_since = 0
        self._upright_since = 0
        self._started = False

    # --- per sample ----------------------------------------------------------
    def update(self, now_ms, dt_ms, gx, gy, gz, attitude, in_gait, armed, stride_ms=1000,
               steady=False):
        self.stumble = False
        self.fall = False
        if not self._started:
            self._started = True
            self._still_since = now_ms
            self._upright_since = ticks_add(now_ms, -_UPRIGHT_MS)  # judged from the first sample
            self._slot_ms = now_ms
        self._track_rotation(dt_ms, attitude.pitch_rate, attitude.roll_rate)
        self._remember(now_ms, stride_ms, _SPREAD_STEADY_PCT if steady else _SPREAD_UNSURE_PCT)
        self._track_motion(now_ms, dt_ms, gx, gy, gz, attitude.accel_mg)
        cos_up = self._cos_to_reference_milli(attitude)
        if cos_up < _UPRIGHT_COS_MILLI or self.state == _FALLEN:
            self._upright_since = now_ms
        upright = ticks_diff(now_ms, self._upright_since) >= _UPRIGHT_MS
        if self.state == _FALLEN:
            self._judge_balance(now_ms, dt_ms, False)
            self._fall_step(now_ms, attitude, in_gait)
            return
        # A stumble is a loss of balance in gait: sitting down on a bench after a
        # run turns the trunk back as fast as a slow stumble does.
        lost = self._judge_balance(now_ms, dt_ms, upright and armed and in_gait)
        if lost or (armed and self.state == _IDLE and self._fast_rotation()):
            self._cue(now_ms)
        elif self.state == _IDLE and in_gait:
            self._follow_reference(dt_ms, attitude.gravity)
        if self.state != _IDLE:
            self._fall_step(now_ms, attitude, in_gait)

    def acknowledge(self):
        """The runner says they are fine (button): stop the fall alarm."""
        if self.state != _IDLE:
            self.state = _IDLE
        self.fallen = False

    # --- rotation and its envelope -----------------------------------------
    def _track_rotation(self, dt_ms, pitch_rate, roll_rate):
        self.rate_pitch = ema(self.rate_pitch, pitch_rate, dt_ms, _RATE_TAU_MS)
        self.rate_roll = ema(self.rate_roll, roll_rate, dt_ms, _RATE_TAU_MS)
        # mdps * ms / 10 = hundredths of a milli-degree, a unit small enough for
        # slow drift and large enough that +-100 deg x 100 ms stays a small int
        # in the leak (an average toward 0)
        p = ema(self.dev_pitch + (pitch_rate * dt_ms + 5) // 10, 0, dt_ms, _LEAK_TAU_MS)
        r = ema(self.dev_roll + (roll_rate * dt_ms + 5) // 10, 0, dt_ms, _LEAK_TAU_MS)
        self.dev_pitch = _DEV_MAX if p > _DEV_MAX else -_DEV_MAX if p < -_DEV_MAX else p
        self.dev_roll = _DEV_MAX if r > _DEV_MAX else -_DEV_MAX if r < -_DEV_MAX else r

    def _remember(self, now_ms, stride_ms, spread_pct):
        p = self.dev_pitch // 100
        r = self.dev_roll // 100
        hp = self._hist_pitch
        hr = self._hist_roll
        i = self._slot
        # time not yet written into slots: the remainder plus this interval
        behind = self._slot_rest + ticks_diff(now_ms, self._slot_ms)
        self._slot_ms = now_ms
        if behind > _SLOT_MS * _HISTORY_SLOTS:  # a long gap: the history starts afresh
            behind = _SLOT_MS * _HISTORY_SLOTS
        while behind >= _SLOT_MS:
            behind -= _SLOT_MS
            i += 1
            if i == _HISTORY_SLOTS:
                i = 0
            hp[i] = p
            hr[i] = r
        self._slot = i
        self._slot_rest = behind
        if stride_ms < _STRIDE_MIN_MS:
            stride_ms = _STRIDE_MIN_MS
        elif stride_ms > _STRIDE_MAX_MS:
            stride_ms = _STRIDE_MAX_MS
        # Over strides a little shorter and longer than the estimate, keep the
        # turn closest to zero each way: the rhythm is never exact, and a loss
        # of balance shows whichever of them is taken.
        lo = stride_ms * (100 - spread_pct) // 100 // _SLOT_MS
        hi = stride_ms * (100 + spread_pct) // 100 // _SLOT_MS
        if hi >= _HISTORY_SLOTS:
            hi = _HISTORY_SLOTS - 1
        least_p = most_p = p - hp[i - lo if i >= lo else i - lo + _HISTORY_SLOTS]
        least_r = most_r = r - hr[i - lo if i >= lo else i - lo + _HISTORY_SLOTS]
        for k in range(lo + 1, hi + 1):
            j = i - k
            if j < 0:
                j += _HISTORY_SLOTS
            d = p - hp[j]
            if d < least_p:
                least_p = d
            elif d > most_p:
                most_p = d
            d = r - hr[j]
            if d < least_r:
                least_r = d
            elif d > most_r:
                most_r = d
        self.turn_back = least_p
        self.turn_forward = -most_p
        self.turn_right = least_r
        self.turn_left = -most_r

    def _judge_balance(self, now_ms, dt_ms, able):
        lost = False
        for d in range(4):
            if d == BACK:
                dev = self.turn_back
                rate = self.rate_pitch
            elif d == FORWARD:
                dev = self.turn_forward
                rate = -self.rate_pitch
            elif d == RIGHT:
                dev = self.turn_right
                rate = self.rate_roll
            else:
                dev = self.turn_left
                rate = -self.rate_roll
            env = self.env_dev[d]
            renv = self.env_rate[d]
            rate_min = renv * _RATE_ENV_SHARE_PCT // 100
            if rate_min < _RATE_MIN_MDPS[d]:
                rate_min = _RATE_MIN_MDPS[d]
            # The angle peaks after the rate does: judge the angle against the
            # fastest recent rate (held, decaying over ~0.3 s).
            held = self._rate_held[d] - _RATE_HOLD_DECAY_MDPS_MS * dt_ms
            if rate > held:
                held = rate
            self._rate_held[d] = held
            over = able and dev > env + _MARGIN_MDEG[d] and held > rate_min
            if over:
                if not self._over[d]:
                    self._over[d] = 1
                    self._over_since[d] = now_ms
                elif ticks_diff(now_ms, self._over_since[d]) >= _HOLD_MS and self._may_stumble(now_ms):
                    self._stumble(now_ms, d)
                    lost = True
            else:
                self._over[d] = 0
            if not self._in_alarm(now_ms) and dev < env + _MARGIN_MDEG[d] // 2:
                # learn the runner's own swings only while nothing is going wrong:
                # an excursion halfway to the margin is not a swing to learn from
                self.env_dev[d] = _follow(env, dev, dt_ms, _ENV_RISE_MDEG_S, _ENV_FLOOR_MDEG)
                self.env_rate[d] = _follow(renv, rate, dt_ms, _RATE_ENV_RISE_MDPS_S,
                                           _RATE_ENV_FLOOR_MDPS)
        return lost

    def _in_alarm(self, now_ms):
        if self.state == _FALLEN:
            return True
        return self._stumbled_once and ticks_diff(now_ms, self._last_stumble_ms) < _REFRACTORY_MS

    def _may_stumble(self, now_ms):
        return not self._in_alarm(now_ms)

    def _stumble(self, now_ms, direction):
        self.stumble = True
        self.stumble_direction = direction
        self.stumbles += 1
        self._last_stumble_ms = now_ms
        self._stumbled_once = True
        for d in range(4):
            self._over[d] = 0

    def _fast_rotation(self):
        r = self.rate_pitch
        if r < 0:
            r = -r
        q = self.rate_roll
        if q < 0:
            q = -q
        if r + q > _CUE_RATE_MDPS:
            return True
        p = self.dev_pitch // 100
        q = self.dev_roll // 100
        return p > _CUE_DEV_MDEG or p < -_CUE_DEV_MDEG or q > _CUE_DEV_MDEG or q < -_CUE_DEV_MDEG

    # --- posture and stillness ----------------------------------------------
    def _track_motion(self, now_ms, dt_ms, gx, gy, gz, accel_mg):
        a = accel_mg - 1000
        if a < 0:
            a = -a
        self._acc_motion = ema(self._acc_motion, a, dt_ms, _STILL_TAU_MS)
        g = (gx if gx > 0 else -gx) + (gy if gy > 0 else -gy) + (gz if gz > 0 else -gz)
        self._gyro_motion = ema(self._gyro_motion, g, dt_ms, _STILL_TAU_MS)
        if self._acc_motion > _STILL_ACC_MG or self._gyro_motion > _STILL_GYRO_MDPS:
            self._still_since = now_ms

    def still_ms(self, now_ms):
        return ticks_diff(now_ms, self._still_since)

    def _follow_reference(self, dt_ms, gravity):
        ref = self.reference
        ref[0] = ema(ref[0], gravity[0], dt_ms, _REF_TAU_MS)
        ref[1] = ema(ref[1], gravity[1], dt_ms, _REF_TAU_MS)
        ref[2] = ema(ref[2], gravity[2], dt_ms, _REF_TAU_MS)

    def _cos_to_reference_milli(self, attitude):
        g = attitude.gravity
        ref = self.reference
        dot = g[0] * ref[0] + g[1] * ref[1] + g[2] * ref[2]
        nr = isqrt(ref[0] * ref[0] + ref[1] * ref[1] + ref[2] * ref[2])
        norms = attitude.gravity_mg * nr // 1000
        if norms <= 0:
            return 1000
        return dot // norms

    # --- fall state machine --------------------------------------------------
    def _cue(self, now_ms):
        self.state = _CUED
        self._state_ms = now_ms
        self._cue_ms = now_ms

    def _fall_step(self, now_ms, attitude, in_gait):
        state = self.state
        elapsed = ticks_diff(now_ms, self._state_ms)
        if state != _FALLEN and in_gait and ticks_diff(now_ms, self._cue_ms) > _RECOVERED_MS:
            self.state = _IDLE  # still stepping well after the lurch: recovered
            return
        if state == _CUED:
            if attitude.accel_mg >= _IMPACT_MG:
                self.state = _IMPACTED
                self._state_ms = now_ms
            elif elapsed > _IMPACT_WINDOW_MS:
                self.state = _IDLE
        elif state == _IMPACTED:
            if attitude.accel_mg >= _IMPACT_MG:
                self._state_ms = now_ms  # the last impact counts: a stagger, then the fall
                return
            if elapsed > _POSTURE_WINDOW_MS:
                self.state = _IDLE
                return
            if self.still_ms(now_ms) < _STILL_MS:
                return
            cos = self._cos_to_reference_milli(attitude)
            if cos < _POSTURE_COS_MILLI:
                self.state = _FALLEN
                self._state_ms = now_ms
                self._up_since = now_ms
                self.fallen = True
                self.fall = True
                self.falls += 1
        elif state == _FALLEN:
            if not self.fallen:  # acknowledged
                self.state = _IDLE
                return
            cos = self._cos_to_reference_milli(attitude)
            if cos < _UP_COS_MILLI:
                self._up_since = now_ms
            if ticks_diff(now_ms, self._up_since) >= _UP_MS:
                self.fallen = False
                self.state = _IDLE
