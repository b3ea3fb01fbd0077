# Seeed XIAO ESP32S3 (8 MB octal PSRAM) with a VL53L1X and an LSM6DSOX breakout
# on the XIAO's default I2C pins (D4/D5).
NAME = "xiao_esp32s3"
CHIP = "esp32s3"

I2C = {0: (5, 6, 400_000)}  # D4 = GPIO5 SDA, D5 = GPIO6 SCL

TOF = {"bus": 0, "addr": 0x29, "xshut": 3, "irq": 4}  # D2, D3

# The breakout lies flat against the clip: chip -y looks backward, chip +z to
# the right, chip -x up.
IMU = {"bus": 0, "chip": "lsm6dsox", "addr": 0x6A, "axes": "-y+z-x", "int": 8}  # INT1 on D9

MOTOR = {"pin": 2, "freq": 200, "active_high": True}  # D1

BUTTON = {"pin": 7, "pull_up": True, "active_low": True}  # D8

BATTERY = {"pin": 1, "divider": (2, 1)}  # D0 / A0

LED = {"pin": 21, "active_high": False}  # the XIAO's user LED pulls to ground

VBUS = 9  # D10: USB 5 V through a 10k/20k divider (docs/power.md)
