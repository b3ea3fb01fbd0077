"""The IMUs' physics: the shared register models (sim/vboard/chips.py: InvenSense
MPU6050 and MPU6886, ST's LSM6DSOX) sampling the simulated world's motion, with
each chip's bias and noise.

Each chip is mounted in the clip as the board config says (IMU["axes"], e.g.
"+z+x+y": device x, y, z are chip +z, +x, +y), so the source's device-frame
motion becomes chip axes; bias and noise are added per chip axis, and the
register model scales to the configured full scale and saturates there.

    imu = make_imu("mpu6050", world, rng, now_us, "+z+x+y")
    board.attach_i2c(0, 0x68, imu)

The source answers `imu_sample(now_us, period_us)` with (sample_t_us,
(ax, ay, az mg, gx, gy, gz mdps)) in the device frame, or None.
"""

from rearguard.drivers.axes import parse_axes  # the firmware's own parser: one home
from sim.vboard import chips
from sim.vboard.chips import device_to_chip


class ImuPhysics:
    """Sampling the world, with bias and noise: mixed into each register model."""

    ACCEL_NOISE_MG = 4.0
    GYRO_NOISE_MDPS = 60.0

    def __init__(self, source, rng, now_us, axes, noise=True):
        self.noise = noise
        if noise:
            self.accel_bias = [rng.gauss(0.0, 15.0) for _ in range(3)]
            self.gyro_bias = [rng.gauss(0.0, 500.0) for _ in range(3)]
        else:
            self.accel_bias = [0.0, 0.0, 0.0]
            self.gyro_bias = [0.0, 0.0, 0.0]
        chips.Imu.__init__(self, source, now_us, parse_axes(axes))
        self.rng = rng  # also draws the fault timeline's failed transactions

    def take_sample(self, now_us, period_us):
        got = self.source.imu_sample(now_us, period_us)
        if got is None or got[0] == self.stamp:
            return False
        self.stamp, motion = got
        accel = device_to_chip(self.mapping, motion[0:3])
        gyro = device_to_chip(self.mapping, motion[3:6])
        rng = self.rng
        for i in range(3):
            accel[i] += self.accel_bias[i]
            gyro[i] += self.gyro_bias[i]
            if self.noise:
                accel[i] += rng.gauss(0.0, self.ACCEL_NOISE_MG)
                gyro[i] += rng.gauss(0.0, self.GYRO_NOISE_MDPS)
        self.accel = accel
        self.gyro = gyro
        return True

    def to_raw(self, value, num, den):
        # A noisy value rounds to the nearest LSB; without noise the register
        # model's exact inverse keeps a recorded trace round-tripping.
        if self.noise:
            return int(round(value * den / num))
        return chips.Imu.to_raw(self, int(value), num, den)


class MPU6050(ImuPhysics, chips.Mpu6050):
    TEMP_LSB_PER_C = 340.0
    TEMP_OFFSET_C = 36.53

    def store_temperature(self):
        if not self.noise:
            chips.Mpu6050.store_temperature(self)
            return
        temp_c = 27.0 + self.rng.gauss(0.0, 0.1)
        self.put_s16(chips.TEMP_OUT_H,
                     int((temp_c - self.TEMP_OFFSET_C) * self.TEMP_LSB_PER_C), True)


class MPU6886(MPU6050, chips.Mpu6886):
    TEMP_LSB_PER_C = 326.8
    TEMP_OFFSET_C = 25.0


class LSM6DSOX(ImuPhysics, chips.Lsm6dsox):
    pass


CHIPS = {"mpu6050": MPU6050, "mpu6886": MPU6886, "lsm6dsox": LSM6DSOX}


def make_imu(chip, source, rng, now_us, axes, noise=True):
    if chip not in CHIPS:
        raise ValueError("no model for IMU chip %r (known: %s)" % (chip, ", ".join(sorted(CHIPS))))
    return CHIPS[chip](source, rng, now_us, axes, noise)
