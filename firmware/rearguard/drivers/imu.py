# The clip's IMU: MPU6050, MPU6886 or LSM6DSOX over the injected I2C bus,
# read as integers in the device frame of DESIGN.md (+x behind the runner,
# +y right, +z up): milli-g and milli-degrees/s, gyro bias removed.
#
#     imu = Imu(i2c, "mpu6050", 0x68, "+z+x+y", time.ticks_ms(), "esp32_devkitc")
#     if imu.read(time.ticks_ms()):      # True when a new sample arrived
#         imu.ax, imu.az, imu.gy          # ints, device frame
#
# Full scale is chosen for running: a waist accelerometer sees 4-5 g in every
# jogging step and more on a fall, and the trunk turns faster than 1000 deg/s
# in a tumble, so both chips run at +-16 g and +-2000 deg/s.
#
# One burst read per tick, status register first: the data-ready bit says
# whether the sample is new, so a 100 Hz tick over a 50-200 Hz chip counts
# each sample once. The driver never raises: a bus error marks it not ok,
# and it re-initialises the chip once a second until the chip answers.
#
# Gyro bias (MEMS zero-rate offset: up to +-20 deg/s on an MPU6050) is learned
# whenever the clip lies or stands still for 1.5 s: accelerometer steady and
# gyro jitter small; the slowly averaged rate is then the bias.
from time import ticks_diff

from micropython import const

# MPU6050 / MPU6886 (InvenSense register maps; the MPU6886 keeps the layout)
_MPU_SMPLRT_DIV = const(0x19)
_MPU_CONFIG = const(0x1A)
_MPU_GYRO_CONFIG = const(0x1B)
_MPU_ACCEL_CONFIG = const(0x1C)
_MPU_ACCEL_CONFIG2 = const(0x1D)  # MPU6886 only
_MPU_INT_ENABLE = const(0x38)
_MPU_INT_STATUS = const(0x3A)  # followed by ACCEL_XOUT_H at 0x3B: one burst
_MPU_PWR_MGMT_1 = const(0x6B)
_MPU_WHO_AM_I = const(0x75)
_MPU6050_ID = const(0x68)
_MPU6886_ID = const(0x19)
_MPU_WAKE_PLL = const(0x01)  # SLEEP=0, clock from the X gyro PLL (more stable than the RC oscillator)
_MPU_DIV_200HZ = const(4)  # 1 kHz internal rate / (1 + 4)
_MPU_DLPF_94HZ = const(0x02)  # DLPF_CFG=2: ~94 Hz accel / 98 Hz gyro (MPU6050), 92 Hz (MPU6886)
_MPU_GYRO_2000DPS = const(0x18)  # FS_SEL=3: 16.4 LSB per deg/s
_MPU_ACCEL_16G = const(0x18)  # AFS_SEL=3: 2048 LSB per g
_MPU_ACCEL2_DEFAULT = const(0x00)  # MPU6886: accel DLPF 218 Hz, no averaging
_MPU_DATA_RDY = const(0x01)
_MPU_BURST = const(15)  # status + accel xyz + temp + gyro xyz, big-endian

# LSM6DSOX (ST datasheet DS13013)
_LSM_WHO_AM_I = const(0x0F)
_LSM_ID = const(0x6C)
_LSM_CTRL1_XL = const(0x10)
_LSM_CTRL2_G = const(0x11)
_LSM_CTRL3_C = const(0x12)
_LSM_STATUS = const(0x1E)  # then 0x1F, OUT_TEMP 0x20-21, gyro 0x22-27, accel 0x28-2D: one burst
_LSM_XL_208HZ_16G = const(0x54)  # ODR_XL=0101 (208 Hz), FS_XL=01 (+-16 g, 0.488 mg/LSB)
_LSM_G_208HZ_2000DPS = const(0x5C)  # ODR_G=0101 (208 Hz), FS_G=11 (+-2000 dps, 70 mdps/LSB)
_LSM_BDU_IF_INC = const(0x44)  # block data update, register auto-increment
_LSM_XLDA = const(0x01)
_LSM_BURST = const(16)

_KIND_MPU = const(0)
_KIND_LSM = const(1)

_RETRY_MS = const(1000)
_MAX_DT_MS = const(100)
# Rest detection for the gyro bias
_REST_MS = const(1500)
_REST_GYRO_JITTER_MDPS = const(3000)
_REST_ACCEL_JITTER_MG = const(50)
_LP_TAU_MS = const(250)
_BIAS_TAU_MS = const(2000)

_CHIP_IDS = {"mpu6050": _MPU6050_ID, "mpu6886": _MPU6886_ID, "lsm6dsox": _LSM_ID}


def parse_axes(axes):
    """'+z+x+y' -> (chip index, sign) for device x, y, z; ValueError if malformed."""
    if len(axes) != 6:
        raise ValueError("IMU axes must look like '+z+x+y', got %r" % (axes,))
    index = bytearray(3)
    sign = [1, 1, 1]
    seen = 0
    for i in range(3):
        s, a = axes[2 * i], axes[2 * i + 1]
        if s not in "+-" or a not in "xyz":
            raise ValueError("IMU axes must look like '+z+x+y', got %r" % (axes,))
        index[i] = "xyz".index(a)
        sign[i] = -1 if s == "-" else 1
        seen |= 1 << index[i]
    if seen != 7:
        raise ValueError("IMU axes %r must name each chip axis once" % (axes,))
    return index, sign


class Imu:
    def __init__(self, i2c, chip, addr, axes, now_ms, board_name):
        self.i2c = i2c
        self.chip = chip
        self.addr = addr
        self.board_name = board_name
        self.ax = self.ay = 0
        self.az = 1000
        self.gx = self.gy = self.gz = 0
        self.t_ms = now_ms  # time of the latest sample
        self.samples = 0
        self.errors = 0
        self.ok = False
        self.problem = ""
        self.kind = _KIND_LSM if chip == "lsm6dsox" else _KIND_MPU
        self.index, self.sign = parse_axes(axes)
        self._buf = bytearray(_LSM_BURST if self.kind == _KIND_LSM else _MPU_BURST)
        self._one = bytearray(1)
        self._chip_acc = [0, 0, 0]  # chip-frame, milli-g
        self._chip_gyro = [0, 0, 0]  # chip-frame, mdps, bias not removed
        # gyro bias learning, device frame
        self._lp_g = [0, 0, 0]
        self._lp_a = [0, 0, 0]
        self.bias = [0, 0, 0]
        self.bias_known = False
        self._rest_since = now_ms
        self._last_ms = now_ms
        self._retry_at = now_ms
        self._start(now_ms)

    # --- set-up --------------------------------------------------------------
    def _write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def _read_reg(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._one)
        return self._one[0]

    def _start(self, now_ms):
        expected = _CHIP_IDS.get(self.chip)
        if expected is None:
            self.problem = "unknown IMU chip %r in boards/%s.py (mpu6050, mpu6886, lsm6dsox)" % (
                self.chip, self.board_name)
            return False
        try:
            who = self._read_reg(_LSM_WHO_AM_I if self.kind == _KIND_LSM else _MPU_WHO_AM_I)
            if who != expected:
                self.ok = False
                self.problem = "chip at 0x%02x answers WHO_AM_I 0x%02x, not a %s - check boards/%s.py" % (
                    self.addr, who, self.chip, self.board_name)
                return False
            if self.kind == _KIND_LSM:
                self._write(_LSM_CTRL3_C, _LSM_BDU_IF_INC)
                self._write(_LSM_CTRL1_XL, _LSM_XL_208HZ_16G)
                self._write(_LSM_CTRL2_G, _LSM_G_208HZ_2000DPS)
            else:
                self._write(_MPU_PWR_MGMT_1, _MPU_WAKE_PLL)
                self._write(_MPU_SMPLRT_DIV, _MPU_DIV_200HZ)
                self._write(_MPU_CONFIG, _MPU_DLPF_94HZ)
                self._write(_MPU_GYRO_CONFIG, _MPU_GYRO_2000DPS)
                self._write(_MPU_ACCEL_CONFIG, _MPU_ACCEL_16G)
                if self.chip == "mpu6886":
                    self._write(_MPU_ACCEL_CONFIG2, _MPU_ACCEL2_DEFAULT)
                self._write(_MPU_INT_ENABLE, _MPU_DATA_RDY)
        except OSError as e:
            self._fail(now_ms, e)
            return False
        self.ok = True
        self.problem = ""
        return True

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
        buf = self._buf
        try:
            if self.kind == _KIND_LSM:
                self.i2c.readfrom_mem_into(self.addr, _LSM_STATUS, buf)
            else:
                self.i2c.readfrom_mem_into(self.addr, _MPU_INT_STATUS, buf)
        except OSError as e:
            self._fail(now_ms, e)
            return False
        if self.kind == _KIND_LSM:
            if not buf[0] & _LSM_XLDA:
                return False
            self._decode_lsm(buf)
        else:
            if not buf[0] & _MPU_DATA_RDY:
                return False
            self._decode_mpu(buf)
        self._to_device_frame()
        self._learn_bias(now_ms)
        self.t_ms = now_ms
        self.samples += 1
        return True

    def _decode_mpu(self, b):
        acc = self._chip_acc
        gyro = self._chip_gyro
        for i in range(3):
            v = (b[1 + 2 * i] << 8) | b[2 + 2 * i]
            if v & 0x8000:
                v -= 0x10000
            acc[i] = v * 125 // 256  # 2048 LSB/g -> milli-g
            v = (b[9 + 2 * i] << 8) | b[10 + 2 * i]
            if v & 0x8000:
                v -= 0x10000
            gyro[i] = v * 2500 // 41  # 16.4 LSB/(deg/s) -> mdps

    def _decode_lsm(self, b):
        acc = self._chip_acc
        gyro = self._chip_gyro
        for i in range(3):
            v = b[4 + 2 * i] | (b[5 + 2 * i] << 8)
            if v & 0x8000:
                v -= 0x10000
            gyro[i] = v * 70  # 70 mdps/LSB
            v = b[10 + 2 * i] | (b[11 + 2 * i] << 8)
            if v & 0x8000:
                v -= 0x10000
            acc[i] = v * 61 // 125  # 0.488 mg/LSB

    def _to_device_frame(self):
        idx = self.index
        sign = self.sign
        acc = self._chip_acc
        gyro = self._chip_gyro
        bias = self.bias
        self.ax = sign[0] * acc[idx[0]]
        self.ay = sign[1] * acc[idx[1]]
        self.az = sign[2] * acc[idx[2]]
        self.gx = sign[0] * gyro[idx[0]] - bias[0]
        self.gy = sign[1] * gyro[idx[1]] - bias[1]
        self.gz = sign[2] * gyro[idx[2]] - bias[2]

    def _learn_bias(self, now_ms):
        dt = ticks_diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        if dt <= 0:
            return
        if dt > _MAX_DT_MS:
            dt = _MAX_DT_MS
        lp_g = self._lp_g
        lp_a = self._lp_a
        bias = self.bias
        moved = False
        # raw device-frame rate = reported + bias
        for i in range(3):
            if i == 0:
                g = self.gx
                a = self.ax
            elif i == 1:
                g = self.gy
                a = self.ay
            else:
                g = self.gz
                a = self.az
            g += bias[i]
            jitter = g - lp_g[i]
            if jitter > _REST_GYRO_JITTER_MDPS or jitter < -_REST_GYRO_JITTER_MDPS:
                moved = True
            lp_g[i] += jitter * dt // (_LP_TAU_MS + dt)
            jitter = a - lp_a[i]
            if jitter > _REST_ACCEL_JITTER_MG or jitter < -_REST_ACCEL_JITTER_MG:
                moved = True
            lp_a[i] += jitter * dt // (_LP_TAU_MS + dt)
        if moved:
            self._rest_since = now_ms
            return
        if ticks_diff(now_ms, self._rest_since) < _REST_MS:
            return
        for i in range(3):
            if self.bias_known:
                bias[i] += (lp_g[i] - bias[i]) * dt // (_BIAS_TAU_MS + dt)
            else:
                bias[i] = lp_g[i]
        self.bias_known = True
