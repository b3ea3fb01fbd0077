# Each IMU's wake-on-motion set-up for deep sleep, loaded only then
# (rearguard/sleep.py): the chip left sampling slowly on its own, its motion
# interrupt latched on the board's IMU["int"] pin. The registers of the awake
# modes are in drivers/mpu6xxx.py and drivers/lsm6dsox.py.
#
#     imu_wake.arm(hw.imu)      # True: motion will pull the INT pin
from micropython import const

# MPU6050 (register map rev. 3.x): accelerometer-only cycles at 5 Hz, motion
# above 40 mg (2 mg per LSB) latched, active high. The MPU6886's own
# wake-on-motion registers differ and are not used.
_MOT_THR = const(0x1F)
_MOT_DUR = const(0x20)
_INT_PIN_CFG = const(0x37)
_INT_ENABLE = const(0x38)
_PWR_MGMT_1 = const(0x6B)
_PWR_MGMT_2 = const(0x6C)
_MOTION_40MG = const(20)  # a clip picked up or put on moves far more; one lying still does not
_LATCHED_HIGH = const(0x20)  # INT_PIN_CFG: LATCH_INT_EN, active high, push-pull
_WAKE_5HZ_NO_GYRO = const(0x47)  # PWR_MGMT_2: LP_WAKE_CTRL 5 Hz, gyro in standby
_CYCLE = const(0x28)  # PWR_MGMT_1: CYCLE, temperature sensor off, internal oscillator
_MOTION = const(0x40)  # INT_ENABLE: MOT_EN
# LSM6DSOX: accelerometer only, 12.5 Hz low power, +-2 g, wake-up above
# 62 mg (2 g / 64 per LSB), latched on INT1.
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL6_C = const(0x15)
_TAP_CFG0 = const(0x56)
_TAP_CFG2 = const(0x58)
_WAKE_UP_THS = const(0x5B)
_WAKE_UP_DUR = const(0x5C)
_MD1_CFG = const(0x5E)
_XL_12HZ_2G = const(0x10)
_XL_LOW_POWER = const(0x10)  # CTRL6_C: XL_HM_MODE, high-performance off
_WAKE_62MG = const(2)
_LATCHED = const(0x01)  # TAP_CFG0: LIR
_INT1_WAKE_UP = const(0x20)  # MD1_CFG: INT1_WU
_INTERRUPTS_ON = const(0x80)  # TAP_CFG2


def arm(imu):
    """Leave the chip watching for motion: True if it does (False: the bus
    failed, or the chip has no set-up here)."""
    if not imu.ok:
        return False
    try:
        if imu.chip == "mpu6050":
            _writes(imu, (_INT_ENABLE, 0, _MOT_THR, _MOTION_40MG, _MOT_DUR, 1,
                          _INT_PIN_CFG, _LATCHED_HIGH, _PWR_MGMT_2, _WAKE_5HZ_NO_GYRO,
                          _PWR_MGMT_1, _CYCLE, _INT_ENABLE, _MOTION))
        elif imu.chip == "lsm6dsox":
            _writes(imu, (_CTRL2_G, 0, _CTRL1_XL, _XL_12HZ_2G, _CTRL6_C, _XL_LOW_POWER,
                          _WAKE_UP_DUR, 0, _WAKE_UP_THS, _WAKE_62MG, _TAP_CFG0, _LATCHED,
                          _MD1_CFG, _INT1_WAKE_UP, _TAP_CFG2, _INTERRUPTS_ON))
        else:
            return False
    except OSError:
        return False
    imu.resting = None  # no longer the mode the driver set: the next rest() writes one
    return True


def _writes(imu, pairs):
    for i in range(0, len(pairs), 2):
        imu._write(pairs[i], pairs[i + 1])
