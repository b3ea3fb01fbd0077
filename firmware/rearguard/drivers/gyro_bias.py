# The gyro's zero-rate offset (MEMS bias: up to +-20 deg/s on an MPU6050),
# learned whenever the clip lies or stands still for 1.5 s: accelerometer
# steady and gyro jitter small; the slowly averaged rate is then the bias.
#
#     bias = GyroBias(now_ms)
#     bias.learn(now_ms, raw_rates, accel)    # device frame, mdps and mg, per sample
#     gx = raw_gx - bias.mdps[0]
from time import ticks_diff

from micropython import const

_MAX_DT_MS = const(100)
_REST_MS = const(1500)
_REST_GYRO_JITTER_MDPS = const(3000)
_REST_ACCEL_JITTER_MG = const(50)
_LP_TAU_MS = const(250)
_BIAS_TAU_MS = const(2000)


def _follow(lp, values, jitter_max, dt):
    # Low-pass lp toward values (3 axes, written out: every sample, twice);
    # True when one jumped beyond jitter_max.
    k = _LP_TAU_MS + dt
    x = values[0] - lp[0]
    y = values[1] - lp[1]
    z = values[2] - lp[2]
    lp[0] += x * dt // k
    lp[1] += y * dt // k
    lp[2] += z * dt // k
    return not (-jitter_max <= x <= jitter_max and -jitter_max <= y <= jitter_max
                and -jitter_max <= z <= jitter_max)


class GyroBias:
    def __init__(self, now_ms):
        self.mdps = [0, 0, 0]  # device frame
        self.known = False
        self._lp_g = [0, 0, 0]
        self._lp_a = [0, 0, 0]
        self._rest_since = now_ms
        self._last_ms = now_ms

    def learn(self, now_ms, rates, accel):
        """One sample: `rates` (mdps, bias included) and `accel` (mg), device frame."""
        dt = ticks_diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        if dt <= 0:
            return
        if dt > _MAX_DT_MS:
            dt = _MAX_DT_MS
        moved = _follow(self._lp_g, rates, _REST_GYRO_JITTER_MDPS, dt)
        if _follow(self._lp_a, accel, _REST_ACCEL_JITTER_MG, dt) or moved:
            self._rest_since = now_ms
        elif ticks_diff(now_ms, self._rest_since) >= _REST_MS:
            self._settle(dt)

    def _settle(self, dt):
        bias = self.mdps
        lp_g = self._lp_g
        for i in range(3):
            if self.known:
                bias[i] += (lp_g[i] - bias[i]) * dt // (_BIAS_TAU_MS + dt)
            else:
                bias[i] = lp_g[i]
        self.known = True
