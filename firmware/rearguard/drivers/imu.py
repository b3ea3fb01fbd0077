# The clip's IMU, whichever chip the board carries (board.IMU["chip"]): read
# as integers in the device frame of docs/design.md (+x behind the runner, +y
# right, +z up), milli-g and milli-degrees/s, gyro bias removed. This module is
# what the chips share; drivers/mpu6xxx.py and drivers/lsm6dsox.py know their
# registers, and only the board's chip is imported.
#
#     imu = open_imu(i2c, board, time.ticks_ms())
#     if imu.read(time.ticks_ms()):      # True when a new sample arrived
#         imu.ax, imu.az, imu.gy          # ints, device frame
#     imu.rest(True)                      # idle: accelerometer only, 50 Hz (gyro reads 0)
#
# Power follows activity (rearguard/power.py decides): at rest, with nobody
# running and no session, the gyro is off and the accelerometer samples at
# 50 Hz (steps are found as at 200 Hz); the first steps bring the full rate
# back before balance is judged. Before deep sleep drivers/imu_wake.py leaves
# the chip watching for motion on its own.
#
# Full scale is chosen for running: a waist accelerometer sees 4-5 g in every
# jogging step and more on a fall, and the trunk turns faster than 1000 deg/s
# in a tumble, so every chip runs at +-16 g and +-2000 deg/s.
#
# One burst read per tick, status register first: the data-ready bit says
# whether the sample is new, so a 100 Hz tick over a 50-200 Hz chip counts
# each sample once. The driver never raises: a bus error marks it not ok,
# and it re-initialises the chip once a second until the chip answers.
from time import ticks_diff

from micropython import const

from rearguard.drivers.axes import parse_axes
from rearguard.drivers.gyro_bias import GyroBias

_RETRY_MS = const(1000)


def open_imu(i2c, board, now_ms):
    """The driver for board.IMU's chip; an unknown chip gives a driver that
    reports the problem (the clip still protects with the range sensor)."""
    chip = board.IMU["chip"]
    if chip == "lsm6dsox":
        from rearguard.drivers.lsm6dsox import Lsm6dsox as driver
    elif chip == "mpu6050" or chip == "mpu6886":
        from rearguard.drivers.mpu6xxx import Mpu6xxx as driver
    else:
        driver = Imu
    return driver(i2c, board.IMU, board.NAME, now_ms)


class Imu:
    # A chip's driver sets these: the status register its one burst read
    # starts at, and the burst's length (status, then the sample).
    STATUS_REG = 0
    BURST = 1

    def __init__(self, i2c, spec, board_name, now_ms):
        """`spec`: the board's IMU entry {"chip", "addr", "axes", ...}."""
        self.i2c = i2c
        self.chip = spec["chip"]
        self.addr = spec["addr"]
        self.board_name = board_name
        self.ax = self.ay = 0
        self.az = 1000
        self.gx = self.gy = self.gz = 0
        self.t_ms = now_ms  # time of the latest sample
        self.samples = 0
        self.errors = 0
        self.ok = False
        self.problem = ""
        self.index, self.sign = parse_axes(spec["axes"])
        self._buf = bytearray(self.BURST)
        self._one = bytearray(1)
        self._chip_acc = [0, 0, 0]  # chip frame, milli-g
        self._chip_gyro = [0, 0, 0]  # chip frame, mdps, bias not removed
        self._acc = [0, 0, 0]  # device frame
        self._gyro = [0, 0, 0]  # device frame, bias not removed
        self.bias = GyroBias(now_ms)
        self.resting = False  # rest(): gyro off, 50 Hz; None: unknown (after a deep sleep)
        self._retry_at = now_ms
        self._start(now_ms)

    # --- what a chip's driver provides ------------------------------------------
    def _configure(self):
        """Check WHO_AM_I and write the set-up registers; raise OSError on a bus error."""
        self.problem = "unknown IMU chip %r in boards/%s.py (mpu6050, mpu6886, lsm6dsox)" % (
            self.chip, self.board_name)
        return False

    def _decode(self, buf):
        """True and _chip_acc/_chip_gyro filled when buf holds a new sample."""
        return False

    def _set_rest(self, resting):
        """Write the full-rate (False) or resting (True) mode's registers."""

    # --- power ------------------------------------------------------------------------
    def rest(self, resting):
        """Gyro off and 50 Hz (True), or the full rate (False). Never raises."""
        if resting == self.resting or not self.ok:
            return
        try:
            self._set_rest(resting)
            self.resting = resting
        except OSError:
            self.errors += 1  # the next read finds the bus problem and recovers

    # --- shared by every chip ------------------------------------------------------
    def _write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def _read_reg(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._one)
        return self._one[0]

    def _check_id(self, who_am_i_reg, expected):
        who = self._read_reg(who_am_i_reg)
        if who == expected:
            return True
        self.problem = "chip at 0x%02x answers WHO_AM_I 0x%02x, not a %s - check boards/%s.py" % (
            self.addr, who, self.chip, self.board_name)
        return False

    def _start(self, now_ms):
        try:
            configured = self._configure()
        except OSError as e:
            self._fail(now_ms, e)
            return False
        self.ok = configured
        if self.resting is not False:
            self.resting = None  # the chip may hold a resting mode: the next rest() writes one
        if configured:
            self.problem = ""
        return configured

    def _fail(self, now_ms, err):
        self.errors += 1
        self._retry_at = now_ms
        if self.ok or not self.problem:
            self.problem = "no %s at 0x%02x on I2C (error %s) - check the cable and boards/%s.py" % (
                self.chip, self.addr, err, self.board_name)
        self.ok = False

    # --- the hot path --------------------------------------------------------
    def read(self, now_ms):
        """Poll the chip; True when a new sample is in ax..gz. Never raises."""
        if not self.ok:
            if ticks_diff(now_ms, self._retry_at) < _RETRY_MS:
                return False
            self._retry_at = now_ms
            if not self._start(now_ms):
                self._retry_at = now_ms
                return False
        try:
            self.i2c.readfrom_mem_into(self.addr, self.STATUS_REG, self._buf)
        except OSError as e:
            self._fail(now_ms, e)
            return False
        if not self._decode(self._buf):
            return False
        self._to_device_frame()
        if self.resting:  # the gyro is off: its registers hold stale values
            self.gx = self.gy = self.gz = 0
        else:
            self.bias.learn(now_ms, self._gyro, self._acc)
            bias = self.bias.mdps
            self.gx = self._gyro[0] - bias[0]
            self.gy = self._gyro[1] - bias[1]
            self.gz = self._gyro[2] - bias[2]
        self.t_ms = now_ms
        self.samples += 1
        return True

    def _to_device_frame(self):
        # axis by axis (every sample): device axis i = sign[i] x chip axis idx[i]
        idx = self.index
        sign = self.sign
        chip = self._chip_acc
        acc = self._acc
        acc[0] = ax = sign[0] * chip[idx[0]]
        acc[1] = ay = sign[1] * chip[idx[1]]
        acc[2] = az = sign[2] * chip[idx[2]]
        chip = self._chip_gyro
        gyro = self._gyro
        gyro[0] = sign[0] * chip[idx[0]]
        gyro[1] = sign[1] * chip[idx[1]]
        gyro[2] = sign[2] * chip[idx[2]]
        self.ax = ax
        self.ay = ay
        self.az = az
