# ST LSM6DSOX (datasheet DS13013): +-16 g, +-2000 deg/s, 208 Hz, block data
# update; at rest the gyro off and the accelerometer at 52 Hz. drivers/imu.py
# has what every chip shares, and drivers/imu_wake.py the wake-on-motion
# set-up for deep sleep (undone here by _set_rest).
from micropython import const

from rearguard.drivers.imu import Imu

_WHO_AM_I = const(0x0F)
_ID = const(0x6C)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_CTRL6_C = const(0x15)
_TAP_CFG2 = const(0x58)
_STATUS = const(0x1E)  # then 0x1F, OUT_TEMP 0x20-21, gyro 0x22-27, accel 0x28-2D: one burst
_XL_208HZ_16G = const(0x54)  # ODR_XL=0101 (208 Hz), FS_XL=01 (+-16 g, 0.488 mg/LSB)
_G_208HZ_2000DPS = const(0x5C)  # ODR_G=0101 (208 Hz), FS_G=11 (+-2000 dps, 70 mdps/LSB)
_BDU_IF_INC = const(0x44)  # block data update, register auto-increment
_XL_52HZ_16G = const(0x34)
_XLDA = const(0x01)


class Lsm6dsox(Imu):
    STATUS_REG = _STATUS
    BURST = 16

    def _configure(self):
        if not self._check_id(_WHO_AM_I, _ID):
            return False
        self._write(_CTRL3_C, _BDU_IF_INC)
        self._write(_CTRL1_XL, _XL_208HZ_16G)
        self._write(_CTRL2_G, _G_208HZ_2000DPS)
        return True

    def _set_rest(self, resting):
        self._write(_CTRL6_C, 0)  # high-performance (a deep sleep left it in low power)
        self._write(_CTRL2_G, 0 if resting else _G_208HZ_2000DPS)
        self._write(_CTRL1_XL, _XL_52HZ_16G if resting else _XL_208HZ_16G)
        self._write(_TAP_CFG2, 0)  # and the wake-up interrupt off

    def _decode(self, b):
        # Little-endian int16 pairs, sign-extended by (v ^ 0x8000) - 0x8000;
        # written out axis by axis: this runs for every sample.
        if not b[0] & _XLDA:
            return False
        gyro = self._chip_gyro  # 70 mdps/LSB
        gyro[0] = (((b[4] | (b[5] << 8)) ^ 0x8000) - 0x8000) * 70
        gyro[1] = (((b[6] | (b[7] << 8)) ^ 0x8000) - 0x8000) * 70
        gyro[2] = (((b[8] | (b[9] << 8)) ^ 0x8000) - 0x8000) * 70
        acc = self._chip_acc  # 0.488 mg/LSB
        acc[0] = (((b[10] | (b[11] << 8)) ^ 0x8000) - 0x8000) * 61 // 125
        acc[1] = (((b[12] | (b[13] << 8)) ^ 0x8000) - 0x8000) * 61 // 125
        acc[2] = (((b[14] | (b[15] << 8)) ^ 0x8000) - 0x8000) * 61 // 125
        return True
