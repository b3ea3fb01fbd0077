"""Register-level models of the IMUs RearGuard boards carry: InvenSense
MPU6050 and MPU6886 (same register map, big-endian data from 0x3B) and ST's
LSM6DSOX (little-endian data from 0x22, gyro then accel).

Each chip is mounted in the clip as the board config says (IMU["axes"], e.g.
"+z+x+y": device x, y, z are chip +z, +x, +y), so the model turns the source's
device-frame motion into chip axes, adds bias and noise, scales to the
configured full scale and saturates there. A chip asleep or powered down
returns what the real one does (zeros after power-up, the last sample later).

    imu = make_imu("mpu6050", world, rng, now_us, "+z+x+y")
    board.attach_i2c(0, 0x68, imu)

The source answers `imu_sample(now_us, period_us)` with (sample_t_us,
(ax, ay, az mg, gx, gy, gz mdps)) in the device frame, or None.
"""

from rearguard.drivers.axes import parse_axes  # the firmware's own parser: one home
from sim.chips.regdev import RegisterDevice


def device_to_chip(mapping, v):
    """mapping: parse_axes()'s (index, sign) for device x, y, z."""
    index, sign = mapping
    chip = [0.0, 0.0, 0.0]
    for i in range(3):
        chip[index[i]] = sign[i] * v[i]
    return chip


def chip_to_device(mapping, chip):
    index, sign = mapping
    return [sign[i] * chip[index[i]] for i in range(3)]


class Imu(RegisterDevice):
    """What the three chips share: sampling on a grid, bias, noise, listeners."""

    ACCEL_NOISE_MG = 4.0
    GYRO_NOISE_MDPS = 60.0

    def __init__(self, source, rng, now_us, axes, noise=True):
        RegisterDevice.__init__(self, 0x80)
        self.source = source
        self.rng = rng
        self.now_us = now_us
        self.mapping = parse_axes(axes)
        self.noise = noise
        if noise:
            self.accel_bias = [rng.gauss(0.0, 15.0) for _ in range(3)]
            self.gyro_bias = [rng.gauss(0.0, 500.0) for _ in range(3)]
        else:
            self.accel_bias = [0.0, 0.0, 0.0]
            self.gyro_bias = [0.0, 0.0, 0.0]
        self.listeners = []  # fn(t_us, ax, ay, az, gx, gy, gz): device frame, as the firmware read it
        self.power_on()

    def power_on(self):
        regs = self.regs
        for i in range(len(regs)):
            regs[i] = 0
        self.pointer = 0
        self.sample_us = -1
        self.reported_us = -1
        self.awake_us = None
        self.reset_values()

    def set_power(self, on):
        if on and not self.present:
            self.power_on()
        self.present = on

    def update_sample(self):
        """Refresh the data registers if the chip has produced a new sample."""
        period = self.period_us()
        if not period:
            return
        now = self.now_us()
        if self.awake_us is not None and now - self.awake_us < self.STARTUP_US:
            return
        got = self.source.imu_sample(now, period)
        if got is None or got[0] == self.sample_us:
            return
        self.sample_us, motion = got
        accel = device_to_chip(self.mapping, motion[0:3])
        gyro = device_to_chip(self.mapping, motion[3:6])
        rng = self.rng
        for i in range(3):
            accel[i] += self.accel_bias[i]
            gyro[i] += self.gyro_bias[i]
            if self.noise:
                accel[i] += rng.gauss(0.0, self.ACCEL_NOISE_MG)
                gyro[i] += rng.gauss(0.0, self.GYRO_NOISE_MDPS)
        self.store(accel, gyro)
        self.new_data()

    def report(self):
        """Tell listeners (the trace) what the firmware just read, once per sample,
        stamped with the time it was read."""
        if self.sample_us == self.reported_us or not self.listeners:
            return
        self.reported_us = self.sample_us
        accel, gyro = self.load()
        a = chip_to_device(self.mapping, accel)
        g = chip_to_device(self.mapping, gyro)
        now = self.now_us()
        for fn in self.listeners:
            fn(now, a[0], a[1], a[2], g[0], g[1], g[2])

    # Scales are exact fractions (unit per LSB = num / den) so that a recorded
    # value maps back to the same raw reading: units = floor(raw * num / den)
    # when recording, raw = ceil(units * den / num) when replaying (noise off).
    def to_raw(self, value, num, den):
        if self.noise:
            return int(round(value * den / num))
        value = int(value)
        return -((-value * den) // num)

    def to_units(self, raw, num, den):
        return (raw * num) // den

    def store(self, accel, gyro):
        an, ad = self.accel_scale()
        gn, gd = self.gyro_scale()
        for i in range(3):
            if self.accel_on():
                self.put_s16(self.ACCEL_REG + 2 * i, self.to_raw(accel[i], an, ad), self.BIG_ENDIAN)
            if self.gyro_on():
                self.put_s16(self.GYRO_REG + 2 * i, self.to_raw(gyro[i], gn, gd), self.BIG_ENDIAN)
        self.store_temperature()

    def load(self):
        an, ad = self.accel_scale()
        gn, gd = self.gyro_scale()
        accel = [self.to_units(self.s16(self.ACCEL_REG + 2 * i), an, ad) for i in range(3)]
        gyro = [self.to_units(self.s16(self.GYRO_REG + 2 * i), gn, gd) for i in range(3)]
        return accel, gyro

    def s16(self, reg):
        if self.BIG_ENDIAN:
            v = (self.regs[reg] << 8) | self.regs[reg + 1]
        else:
            v = self.regs[reg] | (self.regs[reg + 1] << 8)
        return v - 65536 if v & 0x8000 else v


# --- InvenSense MPU6050 / MPU6886 ---------------------------------------------------
SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
ACCEL_CONFIG2 = 0x1D  # MPU6886 only
FIFO_EN = 0x23
INT_PIN_CFG = 0x37
INT_ENABLE = 0x38
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B
TEMP_OUT_H = 0x41
GYRO_XOUT_H = 0x43
DATA_END = 0x49
SIGNAL_PATH_RESET = 0x68
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
PWR_MGMT_2 = 0x6C
WHO_AM_I = 0x75

MPU_WRITABLE = (SMPLRT_DIV, CONFIG, GYRO_CONFIG, ACCEL_CONFIG, FIFO_EN, INT_PIN_CFG, INT_ENABLE,
                SIGNAL_PATH_RESET, USER_CTRL, PWR_MGMT_1, PWR_MGMT_2)


class MPU6050(Imu):
    WHO = 0x68
    STARTUP_US = 30000  # gyro start-up time, datasheet table 6.1
    TEMP_LSB_PER_C = 340.0
    TEMP_OFFSET_C = 36.53
    WRITABLE = MPU_WRITABLE

    def reset_values(self):
        self.regs[PWR_MGMT_1] = 0x40  # asleep after power-up
        self.regs[WHO_AM_I] = self.WHO

    def writable(self, reg):
        return reg in self.WRITABLE

    def written(self, reg, n):
        if self.covers(reg, n, PWR_MGMT_1):
            value = self.regs[PWR_MGMT_1]
            if value & 0x80:  # DEVICE_RESET: registers to defaults, asleep again
                self.power_on()
                return
            if value & 0x40:
                self.awake_us = None
            elif self.awake_us is None:
                self.awake_us = self.now_us()
        for r in (GYRO_CONFIG, ACCEL_CONFIG):
            if self.covers(reg, n, r) and self.regs[r] & 0xE7:
                self.problems.append("0x%02x = 0x%02x: self-test or reserved bits set"
                                     % (r, self.regs[r]))

    def asleep(self):
        return bool(self.regs[PWR_MGMT_1] & 0x40)

    def period_us(self):
        if self.asleep():
            return 0
        dlpf = self.regs[CONFIG] & 0x07
        base_hz = 8000 if dlpf in (0, 7) else 1000
        return (1 + self.regs[SMPLRT_DIV]) * 1000000 // base_hz

    ACCEL_REG = ACCEL_XOUT_H
    GYRO_REG = GYRO_XOUT_H
    BIG_ENDIAN = True

    def accel_on(self):
        return True

    def gyro_on(self):
        return True

    def accel_scale(self):
        """mg per LSB as (num, den): 2 g -> 1000/16384 ... 16 g -> 1000/2048."""
        return 1000, 16384 >> ((self.regs[ACCEL_CONFIG] >> 3) & 3)

    def gyro_scale(self):
        """mdps per LSB: 250 dps -> 1000/131 ... 2000 dps -> 8000/131."""
        return 1000 << ((self.regs[GYRO_CONFIG] >> 3) & 3), 131

    def store_temperature(self):
        temp_c = 27.0 + (self.rng.gauss(0.0, 0.1) if self.noise else 0.0)
        self.put_s16(TEMP_OUT_H, int((temp_c - self.TEMP_OFFSET_C) * self.TEMP_LSB_PER_C), True)

    def new_data(self):
        self.regs[INT_STATUS] |= 0x01  # DATA_RDY_INT

    def before_read(self, reg, n):
        if reg <= INT_STATUS < reg + n or (reg < DATA_END and reg + n > ACCEL_XOUT_H):
            self.update_sample()

    def after_read(self, reg, n):
        if self.covers(reg, n, INT_STATUS):
            self.regs[INT_STATUS] &= ~0x01 & 0xFF  # cleared on read
        if reg < DATA_END and reg + n > ACCEL_XOUT_H:
            self.report()


class MPU6886(MPU6050):
    WHO = 0x19
    STARTUP_US = 35000
    TEMP_LSB_PER_C = 326.8
    TEMP_OFFSET_C = 25.0
    WRITABLE = MPU_WRITABLE + (ACCEL_CONFIG2,)


# --- ST LSM6DSOX ------------------------------------------------------------------------
FUNC_CFG_ACCESS = 0x01
INT1_CTRL = 0x0D
INT2_CTRL = 0x0E
LSM_WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
CTRL10_C = 0x19
STATUS_REG = 0x1E
OUT_TEMP_L = 0x20
OUTX_L_G = 0x22
OUTX_L_A = 0x28
LSM_DATA_END = 0x2E

ODR_HZ = (0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6667)
FS_XL_UG_PER_LSB = (61, 488, 122, 244)  # FS_XL = 00: 2 g, 01: 16 g, 10: 4 g, 11: 8 g
FS_G_UDPS_PER_LSB = (8750, 17500, 35000, 70000)  # 250, 500, 1000, 2000 dps


class LSM6DSOX(Imu):
    WHO = 0x6C
    STARTUP_US = 0  # gated by ODR instead

    def reset_values(self):
        self.regs[LSM_WHO_AM_I] = self.WHO
        self.regs[CTRL3_C] = 0x04  # IF_INC: register address auto-increments
        self.AUTO_INCREMENT = True

    def writable(self, reg):
        return (reg in (FUNC_CFG_ACCESS, INT1_CTRL, INT2_CTRL) or CTRL1_XL <= reg <= CTRL10_C
                or 0x07 <= reg <= 0x0A)  # FIFO_CTRL1..4

    def written(self, reg, n):
        if self.covers(reg, n, CTRL3_C):
            value = self.regs[CTRL3_C]
            if value & 0x81:  # BOOT or SW_RESET
                self.power_on()
                return
            self.AUTO_INCREMENT = bool(value & 0x04)
        if self.covers(reg, n, CTRL1_XL) and self.regs[CTRL1_XL] >> 4 > 10:
            self.problems.append("CTRL1_XL ODR code %d is not a high-performance rate"
                                 % (self.regs[CTRL1_XL] >> 4))

    def odr_hz(self, reg):
        code = self.regs[reg] >> 4
        return ODR_HZ[code] if code < len(ODR_HZ) else 0

    def period_us(self):
        hz = max(self.odr_hz(CTRL1_XL), self.odr_hz(CTRL2_G))
        return int(1000000 / hz) if hz else 0

    ACCEL_REG = OUTX_L_A
    GYRO_REG = OUTX_L_G
    BIG_ENDIAN = False

    def accel_on(self):
        return self.odr_hz(CTRL1_XL) > 0

    def gyro_on(self):
        return self.odr_hz(CTRL2_G) > 0

    def accel_scale(self):
        return FS_XL_UG_PER_LSB[(self.regs[CTRL1_XL] >> 2) & 3], 1000

    def gyro_scale(self):
        if self.regs[CTRL2_G] & 0x02:  # FS_125
            return 4375, 1000
        return FS_G_UDPS_PER_LSB[(self.regs[CTRL2_G] >> 2) & 3], 1000

    def store_temperature(self):
        self.put_s16(OUT_TEMP_L, 512, False)  # 256 LSB/degC from 25 degC: 27 degC

    def new_data(self):
        bits = 0x04  # TDA
        if self.odr_hz(CTRL1_XL):
            bits |= 0x01  # XLDA
        if self.odr_hz(CTRL2_G):
            bits |= 0x02  # GDA
        self.regs[STATUS_REG] |= bits

    def before_read(self, reg, n):
        if self.covers(reg, n, STATUS_REG) or (reg < LSM_DATA_END and reg + n > OUT_TEMP_L):
            self.update_sample()

    def after_read(self, reg, n):
        end = reg + (n if self.AUTO_INCREMENT else 1)
        if reg < OUTX_L_A and end > OUTX_L_G:
            self.regs[STATUS_REG] &= ~0x02 & 0xFF
        if reg < LSM_DATA_END and end > OUTX_L_A:
            self.regs[STATUS_REG] &= ~0x01 & 0xFF
        if reg < LSM_DATA_END and end > OUTX_L_G:
            self.report()


CHIPS = {"mpu6050": MPU6050, "mpu6886": MPU6886, "lsm6dsox": LSM6DSOX}


def make_imu(chip, source, rng, now_us, axes, noise=True):
    if chip not in CHIPS:
        raise ValueError("no model for IMU chip %r (known: %s)" % (chip, ", ".join(sorted(CHIPS))))
    return CHIPS[chip](source, rng, now_us, axes, noise)
