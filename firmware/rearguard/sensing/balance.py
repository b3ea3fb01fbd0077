# Loss of balance (a stumble, before any impact) and falls, judged against the
# runner's own gait. Measured on real waist recordings (SisFall, Sucerquia et
# al. 2017); docs/balance.md has the figures and the reasons.
#
#     bal = Balance()
#     bal.armed = True                           # in a session, or just walked/ran
#     bal.update(now_ms, dt_ms, imu, attitude, gait)
#     bal.stumble    # True in the sample balance loss is detected
#     bal.fall       # True in the sample a fall is confirmed
#     bal.fallen     # until the runner is up again (or acknowledge())
#     bal.stumbles, bal.near_falls, bal.falls    # counts since boot (their only home);
#     bal.near_fall_pending                      # a stumble still inside its fall window
#
# Two witnesses of a stumble, each judged only in an established walk or run
# (a few steps into it: the first steps after standing, a jump or a stair
# start are not a rhythm to compare with):
#
# Turn: the trunk leaves the range of angles it swept between 1.4 and 0.5 s
# ago (a stride or two). The runner's own rocking stays inside that range whatever the cadence (no
# stride estimate is needed); a loss of balance carries the trunk out of it,
# one way, by more than a margin. A turn of the body about the vertical
# leaks into the tipping angles (the "up" estimate is never exact, and real
# gyros are a little askew), so a share of the yaw turned is allowed for.
#
# Jolt: a step unlike the last three. The horizontal acceleration (across
# "up") of a trip or a lurch is twice or more the peaks of the runner's last
# three steps; a faster or heavier stride grows it step by step, not at once.
#
# Fall = loss of balance (a stumble, or a very fast/large trunk rotation),
# then within 2 s an impact (|a| >= 1.4 g), then within 5 s a posture at
# least 40 deg from the runner's upright, held still for 1 s. Still means
# steady, not exactly 1 g: a real accelerometer lying on its side reads
# 0.8-1.2 g. Impact alone is never a fall: real jogging peaks at 3-6 g on
# every step. `fallen` stays set until the trunk is upright again for 1 s, or four
# steps are taken, or the runner acknowledges.
from time import ticks_add, ticks_diff

from micropython import const

from rearguard.sensing.attitude import ema, isqrt

_NEAR_FALL_WINDOW_MS = const(8000)  # a fall is confirmed within this after its stumble

# Turn: the trunk angle against the range of its last second
_LEAK_TAU_MS = const(3000)  # the integrated tipping forgets older rotation (gyro drift)
_YAW_LEAK_TAU_MS = const(30000)  # keeps the yaw angle bounded; a turn-round is 1-2 s
_DEV_MAX = const(10_000_000)  # 100 deg in 1/100 mdeg
_YAW_MAX = const(1_000_000)  # 1000 deg in mdeg (corridor laps settle near 460)
_BLOCK_MS = const(100)
_BLOCKS = const(15)  # 1.5 s of block minima and maxima
_WINDOW_NEAR = const(5)  # the range is taken over blocks that ended 0.5 ...
_WINDOW_FAR = const(13)  # ... to 1.3 s ago (1.4 s with the block's length)
_YAW_SHARE_DIV = const(5)  # allow 1/5 of the yaw turned as leaked tipping
_WIDTH_DIV = const(2)  # the margin grows by half the range: a runner who rocks more
_SIDE_PCT = const(130)  # a sideways lurch needs 1.3 times the margin: hips sway
_TURN_MARGIN_MDEG = const(6324)  # beyond the range: balance lost (fitted, docs/balance.md)
_TURN_MIN_BOUT = const(5)  # contacts into a walk or run before the turn is judged
# Jolt: the horizontal acceleration against the last three steps
_JOLT_STEPS = const(3)
_JOLT_TAU_MS = const(15)
_JOLT_FLOOR_MG = const(400)  # a slow walk's steps push less than this across "up"
_JOLT_PCT = const(214)  # twice the recent steps: balance lost (fitted, docs/balance.md)
# Both
_GAIT_TAIL_MS = const(1500)  # a stumble can stop the steps; it is still "in gait"
_UPRIGHT_COS_MILLI = const(643)  # within 50 deg of the runner's upright: judged
_UPRIGHT_MS = const(2000)  # ... and not while getting up: upright this long
_REFRACTORY_MS = const(1500)  # one loss of balance, one stumble
_RATE_TAU_MS = const(30)
_REF_TAU_MS = const(2000)
# Fall confirmation
_CUE_RATE_MDPS = const(200000)  # a trunk turning this fast is losing balance anyway
_CUE_DEV_MDEG = const(30000)
_IMPACT_WINDOW_MS = const(2000)
_RECOVERED_MS = const(3000)  # still walking this long after the loss of balance: no fall
_RECOVERED_STEPS = const(5)  # ... with this many steps since (a fall's jolts make two or three)
_IMPACT_MG = const(1400)  # falls onto grass or mats peak lower than onto concrete
_POSTURE_WINDOW_MS = const(5000)
_POSTURE_COS_MILLI = const(766)  # >= 40 deg away from the upright reference
_STILL_MS = const(1000)
_STILL_ACC_MG = const(100)  # |a| this close to its own slow mean: steady
_STILL_GYRO_MDPS = const(40000)  # |gx|+|gy|+|gz|, smoothed
_STILL_TAU_MS = const(200)
_ACC_SLOW_TAU_MS = const(1000)
_UP_COS_MILLI = const(866)  # within 30 deg of the reference: up again
_UP_MS = const(1000)
_STEPS_TO_CLEAR = const(4)  # steps after a fall that mean the runner is walking again

# fall state
_IDLE = const(0)
_CUED = const(1)
_IMPACTED = const(2)
_FALLEN = const(3)


def _leak(value, dt_ms, tau_ms, limit):
    v = ema(value, 0, dt_ms, tau_ms)
    return limit if v > limit else -limit if v < -limit else v


class _Turn:
    """Pitch, roll and yaw angles integrated from the gyro, and the range the
    trunk swept over the last second, in 100 ms blocks (set once a block ends)."""

    def __init__(self):
        self.pitch = self.roll = 0  # 1/100 mdeg, slowly forgotten
        self.yaw = 0  # mdeg, slowly forgotten
        self.lo = [0] * (3 * _BLOCKS)  # block minima: pitch, roll, yaw (mdeg)
        self.hi = [0] * (3 * _BLOCKS)
        self.range = [0] * 6  # window: pitch lo, hi, roll lo, hi, yaw lo, hi
        self._block = 0
        self._block_ms = 0
        self._fresh = True  # the block just began: its extremes start at this sample
        self._started = False

    def update(self, now_ms, dt_ms, pitch_rate, roll_rate, yaw_rate):
        # mdps x ms / 10: hundredths of a milli-degree (drift-sized steps stay whole)
        self.pitch = _leak(self.pitch + (pitch_rate * dt_ms + 5) // 10, dt_ms, _LEAK_TAU_MS,
                           _DEV_MAX)
        self.roll = _leak(self.roll + (roll_rate * dt_ms + 5) // 10, dt_ms, _LEAK_TAU_MS, _DEV_MAX)
        # yaw in whole mdeg: turn after turn it grows large, and every product
        # must stay a small int (MicroPython allocates a long int otherwise)
        self.yaw = _leak(self.yaw + (yaw_rate * dt_ms + 500) // 1000, dt_ms, _YAW_LEAK_TAU_MS,
                         _YAW_MAX)
        if not self._started:
            self._started = True
            self._block_ms = now_ms  # blocks count from the first sample, wherever the clock is
        elif ticks_diff(now_ms, self._block_ms) >= _BLOCK_MS:
            self._close_block(now_ms)
        base = self._block * 3
        self._extend(base, self.pitch // 100)
        self._extend(base + 1, self.roll // 100)
        self._extend(base + 2, self.yaw)
        self._fresh = False

    def _extend(self, i, value):
        if self._fresh or value < self.lo[i]:
            self.lo[i] = value
        if self._fresh or value > self.hi[i]:
            self.hi[i] = value

    def _close_block(self, now_ms):
        late = ticks_diff(now_ms, self._block_ms)
        # a gap longer than the history (a bus error) starts it afresh from here
        steps = _BLOCKS if late >= _BLOCK_MS * _BLOCKS else late // _BLOCK_MS
        # the new block began on the old one's rhythm (or now, after a long gap)
        self._block_ms = now_ms if steps == _BLOCKS else ticks_add(now_ms, steps * _BLOCK_MS - late)
        b = self._block
        lo = self.lo
        hi = self.hi
        for _ in range(steps):  # blocks with no sample repeat the last one
            n = b + 1 if b + 1 < _BLOCKS else 0
            for k in range(3):
                lo[n * 3 + k] = lo[b * 3 + k]
                hi[n * 3 + k] = hi[b * 3 + k]
            b = n
        self._block = b
        self._window()
        self._fresh = True

    def _window(self):
        r = self.range
        for k in range(3):
            j = (self._block - _WINDOW_NEAR) % _BLOCKS
            low = self.lo[j * 3 + k]
            high = self.hi[j * 3 + k]
            for back in range(_WINDOW_NEAR + 1, _WINDOW_FAR + 1):
                j = (self._block - back) % _BLOCKS
                if self.lo[j * 3 + k] < low:
                    low = self.lo[j * 3 + k]
                if self.hi[j * 3 + k] > high:
                    high = self.hi[j * 3 + k]
            r[2 * k] = low
            r[2 * k + 1] = high

    def score_mdeg(self):
        """How far the trunk is beyond its recent range, less half the range's
        width (the runner's own rocking) and a share of the yaw turned, in
        milli-degrees of a backward or forward lurch (sideways counts less)."""
        r = self.range
        p = self.pitch // 100
        q = self.roll // 100
        y = self.yaw
        turned = y - r[4] if y - r[4] > r[5] - y else r[5] - y
        best = p - r[1]  # backward
        if r[0] - p > best:
            best = r[0] - p  # forward
        best -= (r[1] - r[0]) // _WIDTH_DIV
        side = q - r[3] if q - r[3] > r[2] - q else r[2] - q
        side = (side - (r[3] - r[2]) // _WIDTH_DIV) * 100 // _SIDE_PCT
        if side > best:
            best = side
        return best - turned // _YAW_SHARE_DIV


class _Jolt:
    """The horizontal acceleration (across "up") against the peaks of the last
    three steps of this walk or run."""

    def __init__(self):
        self.h_mg = 0  # smoothed
        self._h = 0
        self._peaks = [0] * _JOLT_STEPS
        self._count = 0  # steps of this bout in the ring
        self._next = 0
        self._peak = 0  # the highest since the last contact

    def update(self, dt_ms, imu, att, gait):
        u = att.up
        along = (imu.ax * u[0] + imu.ay * u[1] + imu.az * u[2]) >> 14
        a = att.accel_mg
        across = a * a - along * along
        self._h = isqrt(across, self._h) if across > 0 else 0
        self.h_mg = ema(self.h_mg, self._h, dt_ms, _JOLT_TAU_MS)
        if gait.contact:
            if gait.bout_steps <= 1:
                self._count = 0  # a new walk: its steps, not the last walk's
            else:
                self._peaks[self._next] = self._peak
                self._next = self._next + 1 if self._next + 1 < _JOLT_STEPS else 0
                if self._count < _JOLT_STEPS:
                    self._count += 1
            self._peak = 0
        if self.h_mg > self._peak:
            self._peak = self.h_mg

    def score_pct(self):
        """The jolt as a percentage of the recent steps' peaks; 0 until three are known."""
        if self._count < _JOLT_STEPS:
            return 0
        env = _JOLT_FLOOR_MG
        for p in self._peaks:
            if p > env:
                env = p
        return self.h_mg * 100 // env


class Balance:
    def __init__(self):
        self.stumble = False
        self.fall = False
        self.fallen = False
        self.armed = False  # set by the body monitor every sample
        self.stumbles = 0
        self.near_falls = 0  # stumbles no fall followed within _NEAR_FALL_WINDOW_MS
        self.falls = 0
        # What makes a stumble; tools/bench_real.py refits these per held-out subject.
        self.turn_margin_mdeg = _TURN_MARGIN_MDEG
        self.jolt_pct = _JOLT_PCT
        self.turn = _Turn()
        self.jolt = _Jolt()
        self.turn_score = 0  # last judged values (for the bench), 0 when not judged
        self.jolt_score = 0
        self.rate_pitch = 0  # mdps, smoothed; + = tipping backward
        self.rate_roll = 0
        # Gravity while in gait, mg: the runner's own "up", whatever the mount.
        self.reference = [0, 0, 1000]
        self.state = _IDLE
        self._state_ms = 0
        self._cue_ms = 0
        self._steps_since_cue = 0
        self._last_stumble_ms = 0
        self._stumbled_once = False
        self.near_fall_pending = False  # the last stumble: no fall yet, window still open
        self._acc_slow = 1000
        self._acc_motion = self._gyro_motion = 0
        self._still_since = self._up_since = self._upright_since = 0
        self._steps_at_fall = 0
        self._started = False

    # --- per sample ----------------------------------------------------------
    def update(self, now_ms, dt_ms, imu, att, gait):
        self.stumble = False
        self.fall = False
        if not self._started:
            self._started = True
            self._still_since = now_ms
            self._upright_since = ticks_add(now_ms, -_UPRIGHT_MS)  # judged from the first sample
        self.rate_pitch = ema(self.rate_pitch, att.pitch_rate, dt_ms, _RATE_TAU_MS)
        self.rate_roll = ema(self.rate_roll, att.roll_rate, dt_ms, _RATE_TAU_MS)
        self.turn.update(now_ms, dt_ms, att.pitch_rate, att.roll_rate, att.yaw_rate)
        self.jolt.update(dt_ms, imu, att, gait)
        self._track_motion(now_ms, dt_ms, imu, att.accel_mg)
        if self._cos_to_reference_milli(att) < _UPRIGHT_COS_MILLI or self.state == _FALLEN:
            self._upright_since = now_ms
        if self.state != _FALLEN:
            lost = self._judge(now_ms, gait)
            if lost or (self.armed and self.state == _IDLE and self._fast_rotation()):
                self._cue(now_ms)
            elif self.state == _IDLE and gait.moving:
                self._follow_reference(dt_ms, att.gravity)
        if self.state != _IDLE:
            self._fall_step(now_ms, att, gait)
        self._count_near_fall(now_ms)

    def acknowledge(self):
        """The runner says they are fine (button): stop the fall alarm."""
        self.state = _IDLE
        self.fallen = False

    # --- stumble ------------------------------------------------------------
    def _judge(self, now_ms, gait):
        self.turn_score = self.jolt_score = 0
        in_gait = gait.moving or ticks_diff(now_ms, gait.last_step_ms) < _GAIT_TAIL_MS
        upright = ticks_diff(now_ms, self._upright_since) >= _UPRIGHT_MS
        if not (self.armed and in_gait and upright):
            return False
        if gait.bout_steps >= _TURN_MIN_BOUT:
            self.turn_score = self.turn.score_mdeg()
        self.jolt_score = self.jolt.score_pct()
        if self._stumbled_once and ticks_diff(now_ms, self._last_stumble_ms) < _REFRACTORY_MS:
            return False
        if self.turn_score > self.turn_margin_mdeg or self.jolt_score >= self.jolt_pct:
            self._stumble(now_ms)
            return True
        return False

    def _stumble(self, now_ms):
        self.stumble = True
        self.stumbles += 1
        if self.near_fall_pending:
            self.near_falls += 1  # the earlier one was survived
        self.near_fall_pending = True
        self._last_stumble_ms = now_ms
        self._stumbled_once = True

    def _count_near_fall(self, now_ms):
        if self.fall:
            self.near_fall_pending = False  # this stumble was the fall's own warning
        elif self.near_fall_pending and ticks_diff(now_ms, self._last_stumble_ms) > _NEAR_FALL_WINDOW_MS:
            self.near_fall_pending = False
            self.near_falls += 1

    def _fast_rotation(self):
        r = self.rate_pitch if self.rate_pitch > 0 else -self.rate_pitch
        q = self.rate_roll if self.rate_roll > 0 else -self.rate_roll
        if r + q > _CUE_RATE_MDPS:
            return True
        p = self.turn.pitch // 100
        q = self.turn.roll // 100
        return p > _CUE_DEV_MDEG or p < -_CUE_DEV_MDEG or q > _CUE_DEV_MDEG or q < -_CUE_DEV_MDEG

    # --- posture and stillness ----------------------------------------------
    def _track_motion(self, now_ms, dt_ms, imu, accel_mg):
        self._acc_slow = ema(self._acc_slow, accel_mg, dt_ms, _ACC_SLOW_TAU_MS)
        a = accel_mg - self._acc_slow
        self._acc_motion = ema(self._acc_motion, a if a > 0 else -a, dt_ms, _STILL_TAU_MS)
        gx = imu.gx
        gy = imu.gy
        gz = imu.gz
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

    def _cos_to_reference_milli(self, att):
        g = att.gravity
        ref = self.reference
        dot = g[0] * ref[0] + g[1] * ref[1] + g[2] * ref[2]
        # |g| is 1000 mg ("up" is a unit vector), and so about |ref|: the guess
        norms = isqrt(ref[0] * ref[0] + ref[1] * ref[1] + ref[2] * ref[2], 1000)
        if norms <= 0:
            return 1000
        return dot // norms

    # --- fall state machine --------------------------------------------------
    def _cue(self, now_ms):
        self.state = _CUED
        self._state_ms = now_ms
        self._cue_ms = now_ms
        self._steps_since_cue = 0

    def _fall_step(self, now_ms, att, gait):
        state = self.state
        if state == _FALLEN:
            self._while_fallen(now_ms, att, gait)
            return
        if gait.contact:
            self._steps_since_cue += 1
        if self._recovered(now_ms, att, gait):
            self.state = _IDLE
            return
        elapsed = ticks_diff(now_ms, self._state_ms)
        impact = att.accel_mg >= _IMPACT_MG
        if state == _CUED:
            if impact:
                self.state = _IMPACTED
                self._state_ms = now_ms
            elif elapsed > _IMPACT_WINDOW_MS:
                self.state = _IDLE
        elif impact:
            self._state_ms = now_ms  # the last impact counts: a stagger, then the fall
        elif elapsed > _POSTURE_WINDOW_MS:
            self.state = _IDLE
        elif self.still_ms(now_ms) >= _STILL_MS and \
                self._cos_to_reference_milli(att) < _POSTURE_COS_MILLI:
            self._fallen(now_ms, gait)

    def _recovered(self, now_ms, att, gait):
        # Still walking, upright, well after the lurch: the runner caught
        # themselves. (A fall's jolts make steps too, but not upright ones.)
        return (gait.moving and self._steps_since_cue >= _RECOVERED_STEPS
                and ticks_diff(now_ms, self._cue_ms) > _RECOVERED_MS
                and self._cos_to_reference_milli(att) >= _POSTURE_COS_MILLI)

    def _fallen(self, now_ms, gait):
        self.state = _FALLEN
        self._state_ms = now_ms
        self._up_since = now_ms
        self._steps_at_fall = gait.steps
        self.fallen = True
        self.fall = True
        self.falls += 1

    def _while_fallen(self, now_ms, att, gait):
        if not self.fallen or gait.steps - self._steps_at_fall >= _STEPS_TO_CLEAR:
            self.acknowledge()  # acknowledged, or walking again: up and about
            return
        if self._cos_to_reference_milli(att) < _UP_COS_MILLI:
            self._up_since = now_ms
        if ticks_diff(now_ms, self._up_since) >= _UP_MS:
            self.acknowledge()
