# M5Stack AtomS3 (ESP32-S3FN8): built-in MPU6886 on the internal bus, the
# VL53L1X (M5 ToF4M unit) on the Grove port, motor and battery divider on the
# rear header. Worn with the screen facing behind the runner.
NAME = "m5stack_atoms3"
CHIP = "esp32s3"

I2C = {
    0: (38, 39, 400_000),  # internal: MPU6886
    1: (2, 1, 400_000),  # Grove port: VL53L1X
}

TOF = {"bus": 1, "addr": 0x29, "xshut": 6, "irq": 5}

# Screen (chip +z) looks backward, chip -x to the right, chip -y up.
IMU = {"bus": 0, "chip": "mpu6886", "addr": 0x68, "axes": "+z-x-y", "int": None}  # INT not wired

MOTOR = {"pin": 7, "freq": 200, "active_high": True}

BUTTON = {"pin": 41, "pull_up": True, "active_low": True}  # the screen button

BATTERY = {"pin": 8, "divider": (2, 1)}

LED = None  # the AtomS3 has a screen, no status LED

# No pin left for a USB sense divider: the firmware cannot tell USB from the
# battery, so it never light- or deep-sleeps (docs/power.md); nor can its
# button (GPIO41, not an RTC GPIO) wake it.
VBUS = None
