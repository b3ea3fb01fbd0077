# Trunk attitude from the waist IMU: which way is up, in the clip's own
# frame, tracked by the gyro and corrected by the accelerometer (a
# complementary filter on the "up" vector), in integer arithmetic. From it:
# the pitch (centi-degrees), gravity in the clip's frame, and the trunk's
# tipping rates about horizontal axes for the balance judge.
#
#     att = Attitude()
#     att.update(dt_ms, imu)              # imu.ax .. imu.gz: one sample, device frame
#     att.pitch_cdeg    # + = trunk tipping backward (top of the clip toward +x)
#     att.gravity       # "up" in mg, what the accelerometer reads at rest
#     att.pitch_rate    # mdps about the horizontal axis across the beam
#
# Why this filter: the gyro turns "up" exactly over a second but drifts; the
# accelerometer knows where up is only on average. Running bounces the waist
# between ~0 g (flight) and 3-4 g (stance) and pushes it fore and aft, and
# the pelvis rocks in step with those footfalls, so neither single samples
# nor a plain average of them give the angle (averaging in the rocking frame
# leaves a bias of a few degrees). Here every sample's acceleration
# *across* the current "up" estimate nudges it (Mahony-style): the vertical
# footfall pulses lie along "up" and push nothing, and the horizontal pushes
# average out over a stride. Still, the nudge is fast (0.3 s); moving, slow
# (2 s). Time constants use the real sample interval: 50 and 200 Hz agree.
#
# Tipping rates are taken about horizontal axes (across and along the beam)
# and leave out the turn about the vertical: a clip worn askew sees part of
# a runner's turn-round or glance over the shoulder (150-250 deg/s of yaw)
# on its x and y axes, which is not the trunk tipping.
from micropython import const

ONE = const(16384)  # 1.0 in the Q14 fixed point of the "up" vector
_TAU_MOVING_MS = const(2000)
_TAU_STILL_MS = const(300)
_STILL_ACC_MG = const(100)  # |a| within 1 g +- this ...
_STILL_GYRO_MDPS = const(20000)  # ... and rates below this: the clip is not moving
_MAX_TURN_Q14 = const(16384)  # one radian per sample: beyond this the step is meaningless
_MAX_NUDGE_Q14 = const(2048)
_ATAN_ONE = const(4096)  # fixed-point 1.0 for the atan approximation


def isqrt(n, guess=0):
    """Integer square root, allocation-free for small ints; a close guess
    (the last value) makes it take two or three steps instead of ~15."""
    if n <= 0:
        return 0
    x = guess if guess > 0 else n
    x = (x + n // x) >> 1  # one step lands at or above the root
    y = (x + n // x) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def ema(y, x, dt_ms, tau_ms):
    """One step of an exponential average toward x, time constant tau_ms, rounded."""
    k = tau_ms + dt_ms
    return y + ((x - y) * dt_ms + (k >> 1)) // k


def _atan_unit_cdeg(z):
    # atan(z) for 0 <= z <= 1 (z scaled by _ATAN_ONE): pi/4*z + 0.273*z*(1-z)
    # (Rajan et al. 2006), max error ~0.25 deg; in centi-degrees.
    t = z * (_ATAN_ONE - z) // _ATAN_ONE
    return (4500 * z + 1564 * t) // _ATAN_ONE


def atan2_cdeg(y, x):
    """atan2 in centi-degrees (-18000..18000) from integers."""
    if x == 0 and y == 0:
        return 0
    ay = -y if y < 0 else y
    ax = -x if x < 0 else x
    if ax >= ay:
        a = _atan_unit_cdeg(ay * _ATAN_ONE // ax)
    else:
        a = 9000 - _atan_unit_cdeg(ax * _ATAN_ONE // ay)
    if x < 0:
        a = 18000 - a
    return -a if y < 0 else a


def _turn_q14(rate_mdps, dt_ms):
    # mdps x ms = micro-degrees -> radians in Q14 (x 16384 x pi / 180e6 = x 2.86e-4)
    t = ((rate_mdps * dt_ms + 50) // 100 * 286 + 5000) // 10000
    return _MAX_TURN_Q14 if t > _MAX_TURN_Q14 else -_MAX_TURN_Q14 if t < -_MAX_TURN_Q14 else t


def _nudge(q14):
    return _MAX_NUDGE_Q14 if q14 > _MAX_NUDGE_Q14 else -_MAX_NUDGE_Q14 if q14 < -_MAX_NUDGE_Q14 else q14


class Attitude:
    def __init__(self):
        self.up = [0, 0, ONE]  # Q14 unit vector "up" in the device frame
        self.pitch_cdeg = 0
        self.accel_mg = 1000  # |a| of the latest sample
        self.gravity = [0, 0, 1000]  # "up" scaled to what the accelerometer reads at rest, mg
        self.pitch_rate = 0  # mdps, + = tipping backward, turning about the vertical removed
        self.roll_rate = 0  # mdps, + = tipping right
        self.yaw_rate = 0  # mdps about "up": turning round, glancing back
        self._across = ONE  # |up| in the y-z plane, Q14 (last value: the isqrt guess)
        self._norm = ONE
        self._gx = self._gy = self._gz = 0  # the previous sample's rates
        self.started = False

    def update(self, dt_ms, imu):
        """One sample: imu.ax, .ay, .az (mg) and .gx, .gy, .gz (mdps), device frame."""
        ax = imu.ax
        ay = imu.ay
        az = imu.az
        mag = isqrt(ax * ax + ay * ay + az * az, self.accel_mg)
        self.accel_mg = mag
        if not self.started:
            self.started = True
            if mag > 0:
                u = self.up
                u[0] = ax * ONE // mag
                u[1] = ay * ONE // mag
                u[2] = az * ONE // mag
        else:
            self._follow(dt_ms, imu, mag)
        self._gx = imu.gx
        self._gy = imu.gy
        self._gz = imu.gz
        self._derive()
        self._tipping(imu.gx, imu.gy, imu.gz)

    def _follow(self, dt_ms, imu, mag):
        u = self.up
        x = u[0]
        y = u[1]
        z = u[2]
        gx = imu.gx
        gy = imu.gy
        gz = imu.gz
        # The gyro turns the world's up the other way in the clip's frame:
        # d(up) = up x (rate dt). The rate over the interval is the mean of its
        # two ends (trapezoid): at 50 Hz a 200 deg/s turn is 4 deg a sample, and
        # end-point rates would tilt "up" by degrees over a turn-round.
        tx = _turn_q14((gx + self._gx) >> 1, dt_ms)
        ty = _turn_q14((gy + self._gy) >> 1, dt_ms)
        tz = _turn_q14((gz + self._gz) >> 1, dt_ms)
        # (every step rounds: a floor would drift the state by half a unit a sample)
        nx = x + ((y * tz - z * ty + 8192) >> 14)
        ny = y + ((z * tx - x * tz + 8192) >> 14)
        nz = z + ((x * ty - y * tx + 8192) >> 14)
        # The acceleration across "up" (mg) nudges it toward the measured gravity.
        ax = imu.ax
        ay = imu.ay
        az = imu.az
        along = (ax * x + ay * y + az * z) >> 14
        still = (-_STILL_ACC_MG < mag - 1000 < _STILL_ACC_MG
                 and -_STILL_GYRO_MDPS < gx < _STILL_GYRO_MDPS
                 and -_STILL_GYRO_MDPS < gy < _STILL_GYRO_MDPS
                 and -_STILL_GYRO_MDPS < gz < _STILL_GYRO_MDPS)
        k = (_TAU_STILL_MS if still else _TAU_MOVING_MS) + dt_ms
        h = k >> 1
        # mg -> Q14 is x 16.384: x 16 is close enough for a nudge
        nx += _nudge(((ax - (along * x >> 14)) * 16 * dt_ms + h) // k)
        ny += _nudge(((ay - (along * y >> 14)) * 16 * dt_ms + h) // k)
        nz += _nudge(((az - (along * z >> 14)) * 16 * dt_ms + h) // k)
        self._normalize(nx, ny, nz)  # into self.up (a returned tuple would allocate)

    def _derive(self):
        # gravity and pitch from "up" (the roll and the tilt: nothing uses them)
        u = self.up
        x = u[0]
        y = u[1]
        z = u[2]
        g = self.gravity
        g[0] = x * 1000 >> 14
        g[1] = y * 1000 >> 14
        g[2] = z * 1000 >> 14
        across = isqrt(y * y + z * z, self._across)
        self._across = across
        self.pitch_cdeg = atan2_cdeg(-x, across)

    def _normalize(self, nx, ny, nz):
        # Back to unit length (rounded). A turn of up to a radian and a nudge can
        # make components of ~35000: then squares are taken of halves, so the sum
        # stays a small int.
        big = nx > 18000 or nx < -18000 or ny > 18000 or ny < -18000 or nz > 18000 or nz < -18000
        if big:
            n = isqrt((nx >> 1) * (nx >> 1) + (ny >> 1) * (ny >> 1) + (nz >> 1) * (nz >> 1)) << 1
        else:
            n = isqrt(nx * nx + ny * ny + nz * nz, self._norm)
            self._norm = n
        if n <= 0:
            return
        h = n >> 1
        u = self.up
        u[0] = (nx * ONE + h) // n
        u[1] = (ny * ONE + h) // n
        u[2] = (nz * ONE + h) // n

    def _tipping(self, gx, gy, gz):
        # Axes from "up" u and the beam x (u in Q7 so the products stay small
        # ints at the gyro's full scale): across the beam L = u x X (pitch
        # turns about it), along it F = L x u (roll turns about -F). For a clip
        # worn as designed they are y and x; worn crooked, still the body's.
        u = self.up
        ux = u[0] >> 7
        uy = u[1] >> 7
        uz = u[2] >> 7
        n = self._across >> 7
        if n < 1:
            n = 1
        self.pitch_rate = (gy * uz - gz * uy) // n
        self.roll_rate = -(gx * n - gy * (ux * uy // n) - gz * (ux * uz // n)) // 128
        self.yaw_rate = (gx * ux + gy * uy + gz * uz) // 128
