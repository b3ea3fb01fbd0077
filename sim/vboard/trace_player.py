# A recorded trace (the CSV of docs/formats.md) as the sample source of the
# register models in chips.py: the MicroPython boards' chips (the WebAssembly
# board, the allocation probe) play it as their clock passes.
#
#     player = TracePlayer(load_trace(open("/_board/trace.csv")), time.ticks_ms, time.ticks_diff)
#     tof = Vl53l1x(player, now_us)                  # data ready at the trace's samples
#     imu = imu_for(player, "mpu6050", parse_axes("+z+x+y"), now_us)
#
# The trace plays from the first sensor access. After its last row the world
# holds still: the IMU repeats the last row and the ToF repeats its last sample
# at the trace's own sample period (or, with loop=True, as the allocation probe
# uses it, the trace plays again from its start). Without a trace the clip
# stands upright and still with nothing behind it within 3 m. Playing and
# reading allocate nothing, so the probe can count on them.
from . import chips

_COLUMNS = 10  # t_ms, ax, ay, az, gx, gy, gz, range_mm, range_status, ambient
_EMPTY = -999_999  # an empty field (a row without a ToF sample); stays a small int
_IMU_HOLD_PERIOD_MS = 10


def load_trace(trace_file):
    """The whole trace as one flat array of ints, parsed once at boot (before
    main.py, where the port can still collect the garbage parsing leaves)."""
    from array import array

    rows = array("i")
    trace_file.readline()  # header
    for line in trace_file:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(",")
        for i in range(_COLUMNS):
            rows.append(int(fields[i]) if i < len(fields) and fields[i] else _EMPTY)
    return rows


class TracePlayer:
    # The trace's latest sample as the clock passes; update() allocates nothing.
    def __init__(self, rows, clock_ms, ticks_diff, presses=(), loop=False):
        self._rows = rows if rows is not None else ()
        self._n_rows = len(self._rows) // _COLUMNS
        self._loop = loop and self._n_rows > 0
        self.loops = 0  # times the trace played to its end and started again (loop=True)
        self._looped_ms = 0  # trace time skipped back by those restarts
        self._next = 0  # index of the next row not yet reached
        self._presses = presses  # [(t_ms, hold_ms)]: a finger on the button, in trace time
        self._clock_ms = clock_ms
        self._ticks_diff = ticks_diff
        self._t0 = None  # board ms at the trace's first row
        self._first_t = self._rows[0] if self._n_rows else 0
        # the latest IMU sample (device frame, docs/design.md units): upright, still
        self.ax_mg, self.ay_mg, self.az_mg = 0, 0, 1000
        self.gx_mdps, self.gy_mdps, self.gz_mdps = 0, 0, 0
        # the latest ToF sample (status: ULD code, 0 = valid): nothing within 3 m
        self.range_mm, self.range_status, self.ambient_kcps = 3000, 0, 1
        self.imu_seq = 0  # samples since boot
        self.tof_seq = 0
        self._tof_last_t = -1
        self._tof_period_ms = 50
        self._tof_hold_t = -1  # trace time of the last ToF sample, once the trace has ended
        self._imu_hold_t = -1  # the same for the IMU, which keeps sampling at 100 Hz

    def _now(self):
        # trace time in ms for the current board time
        now = self._clock_ms()
        if self._t0 is None:
            self._t0 = now
        return self._first_t + self._ticks_diff(now, self._t0) - self._looped_ms

    def button_pressed(self):
        t = self._now()
        for at, hold in self._presses:
            if at <= t < at + hold:
                return True
        return False

    def update(self):
        t = self._now()
        rows = self._rows
        while self._next < self._n_rows and rows[self._next * _COLUMNS] <= t:
            self._apply(self._next * _COLUMNS)
            self._next += 1
            if self._next == self._n_rows and self._loop:
                self._restart()
                t = self._now()
        if self._next >= self._n_rows:
            self._hold(t)

    def _restart(self):
        # The first row again, one IMU period after the last one.
        last_t = self._rows[(self._n_rows - 1) * _COLUMNS]
        self._looped_ms += last_t - self._first_t + _IMU_HOLD_PERIOD_MS
        self._next = 0
        self.loops += 1

    def _apply(self, i):
        r = self._rows
        if r[i + 1] != _EMPTY:
            self.ax_mg, self.ay_mg, self.az_mg = r[i + 1], r[i + 2], r[i + 3]
            self.gx_mdps, self.gy_mdps, self.gz_mdps = r[i + 4], r[i + 5], r[i + 6]
            self.imu_seq += 1
        if r[i + 8] != _EMPTY:
            t = r[i]
            if self._tof_last_t >= 0 and t > self._tof_last_t:
                self._tof_period_ms = t - self._tof_last_t
            self._tof_last_t = t
            self.range_mm = r[i + 7] if r[i + 7] != _EMPTY else 0
            self.range_status = r[i + 8]
            self.ambient_kcps = r[i + 9] if r[i + 9] != _EMPTY else 0
            self.tof_seq += 1

    def _hold(self, t):
        # No trace, or past its end: the chips keep sampling what they last saw.
        if self._tof_hold_t < 0:
            self._tof_hold_t = self._tof_last_t if self._tof_last_t >= 0 else t
            self._imu_hold_t = t
        while t - self._tof_hold_t >= self._tof_period_ms:
            self._tof_hold_t += self._tof_period_ms
            self.tof_seq += 1
        while t - self._imu_hold_t >= _IMU_HOLD_PERIOD_MS:
            self._imu_hold_t += _IMU_HOLD_PERIOD_MS
            self.imu_seq += 1


class Vl53l1x(chips.Vl53l1x):
    # Paced by the trace: a result is ready once the trace has a sample newer
    # than the last start or interrupt clear, and the chip reports the latest.
    armed_seq = 0  # source.tof_seq when ranging started or the interrupt was cleared

    def due(self):
        player = self.source
        player.update()
        if player.tof_seq <= self.armed_seq:
            return False
        self.last_ready_us = self.now_us()
        return True

    def arm(self, last_ready_us, cleared_us):
        player = self.source
        player.update()
        self.armed_seq = player.tof_seq

    def measure(self, now_us):
        p = self.source
        status = p.range_status
        distance = p.range_mm if p.range_mm > 0 else 0
        # The trace has no signal rate: a white target's return falls with
        # distance squared; a failed sample returns little. Like the real
        # chip's, it is never exactly the same twice (the driver takes
        # identical result blocks in a row for a frozen chip).
        if status == 0 or status == 7:
            # 4e9 / (d^2 + 1e5) in cm: no int above 2^30, which would allocate
            cm = distance // 10
            signal_kcps = min(40000, 40_000_000 // (cm * cm + 1000))
        else:
            signal_kcps = 40
        signal_kcps = (signal_kcps // 8 + p.tof_seq % 7) * 8
        self.load_result(chips.raw_status(status), distance, p.ambient_kcps, signal_kcps, 120)


class _Motion:
    # The IMUs' source hook: the trace's newest row, in chip axes.
    def take_sample(self, now_us, period_us):
        p = self.source
        p.update()
        if p.imu_seq == self.stamp:
            return False
        self.stamp = p.imu_seq
        self.put_device(p.ax_mg, p.ay_mg, p.az_mg, p.gx_mdps, p.gy_mdps, p.gz_mdps)
        return True


class Mpu6050(_Motion, chips.Mpu6050):
    pass


class Mpu6886(_Motion, chips.Mpu6886):
    pass


class Lsm6dsox(_Motion, chips.Lsm6dsox):
    pass


IMUS = {"mpu6050": Mpu6050, "mpu6886": Mpu6886, "lsm6dsox": Lsm6dsox}


def imu_for(player, chip, mapping, now_us):
    """The IMU model for a board config's IMU["chip"]; mapping: parse_axes(IMU["axes"])."""
    return IMUS[chip](player, now_us, mapping)
