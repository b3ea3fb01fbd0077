# InvenSense MPU6050 and MPU6886 (the MPU6886 keeps the MPU6050's register
# layout): +-16 g, +-2000 deg/s, 200 Hz, ~94 Hz low-pass; at rest the gyro
# in standby and 50 Hz. drivers/imu.py has what every chip shares, and
# drivers/imu_wake.py the wake-on-motion set-up for deep sleep.
from micropython import const

from rearguard.drivers.imu import Imu

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_ACCEL_CONFIG2 = const(0x1D)  # MPU6886 only
_INT_ENABLE = const(0x38)
_INT_STATUS = const(0x3A)  # followed by ACCEL_XOUT_H at 0x3B: one burst
_PWR_MGMT_1 = const(0x6B)
_PWR_MGMT_2 = const(0x6C)
_WHO_AM_I = const(0x75)
_MPU6050_ID = const(0x68)
_MPU6886_ID = const(0x19)
_WAKE_PLL = const(0x01)  # SLEEP=0, clock from the X gyro PLL (more stable than the RC oscillator)
_DIV_200HZ = const(4)  # 1 kHz internal rate / (1 + 4)
_DIV_50HZ = const(19)
_ALL_ON = const(0x00)  # PWR_MGMT_2: no axis in standby
_GYRO_STANDBY = const(0x07)  # PWR_MGMT_2: STBY_XG/YG/ZG
_DLPF_94HZ = const(0x02)  # DLPF_CFG=2: ~94 Hz accel / 98 Hz gyro (MPU6050), 92 Hz (MPU6886)
_GYRO_2000DPS = const(0x18)  # FS_SEL=3: 16.4 LSB per deg/s
_ACCEL_16G = const(0x18)  # AFS_SEL=3: 2048 LSB per g
_ACCEL2_DEFAULT = const(0x00)  # MPU6886: accel DLPF 218 Hz, no averaging
_DATA_RDY = const(0x01)


class Mpu6xxx(Imu):
    STATUS_REG = _INT_STATUS
    BURST = 15  # status + accel xyz + temp + gyro xyz, big-endian

    def _configure(self):
        mpu6886 = self.chip == "mpu6886"
        if not self._check_id(_WHO_AM_I, _MPU6886_ID if mpu6886 else _MPU6050_ID):
            return False
        self._write(_PWR_MGMT_1, _WAKE_PLL)
        self._write(_SMPLRT_DIV, _DIV_200HZ)
        self._write(_CONFIG, _DLPF_94HZ)
        self._write(_GYRO_CONFIG, _GYRO_2000DPS)
        self._write(_ACCEL_CONFIG, _ACCEL_16G)
        if mpu6886:
            self._write(_ACCEL_CONFIG2, _ACCEL2_DEFAULT)
        self._write(_INT_ENABLE, _DATA_RDY)
        return True

    def _set_rest(self, resting):
        self._write(_PWR_MGMT_2, _GYRO_STANDBY if resting else _ALL_ON)
        self._write(_SMPLRT_DIV, _DIV_50HZ if resting else _DIV_200HZ)

    def _decode(self, b):
        # Big-endian int16 pairs, sign-extended by (v ^ 0x8000) - 0x8000;
        # written out axis by axis: this runs for every sample.
        if not b[0] & _DATA_RDY:
            return False
        acc = self._chip_acc  # 2048 LSB/g -> milli-g
        acc[0] = ((((b[1] << 8) | b[2]) ^ 0x8000) - 0x8000) * 125 // 256
        acc[1] = ((((b[3] << 8) | b[4]) ^ 0x8000) - 0x8000) * 125 // 256
        acc[2] = ((((b[5] << 8) | b[6]) ^ 0x8000) - 0x8000) * 125 // 256
        gyro = self._chip_gyro  # 16.4 LSB/(deg/s) -> mdps
        gyro[0] = ((((b[9] << 8) | b[10]) ^ 0x8000) - 0x8000) * 2500 // 41
        gyro[1] = ((((b[11] << 8) | b[12]) ^ 0x8000) - 0x8000) * 2500 // 41
        gyro[2] = ((((b[13] << 8) | b[14]) ^ 0x8000) - 0x8000) * 2500 // 41
        return True
