# Generic ESP32-DevKitC (ESP32-WROOM-32) with a VL53L1X breakout and an
# MPU6050 breakout on one I2C bus. The clip holds the devkit upright, sensor
# face pointing behind the runner. Its power path (a low-quiescent regulator
# from the LiPo, the power LEDs removed) and what it draws: docs/power.md.
NAME = "esp32_devkitc"
CHIP = "esp32"

# id: (sda, scl, freq_hz)
I2C = {0: (21, 22, 400_000)}

TOF = {"bus": 0, "addr": 0x29, "xshut": 25, "irq": 34}

# axes: device x, y, z (docs/design.md frame) as signed chip axes.
# The breakout stands on edge: chip +z looks backward, chip +x to the right, chip +y up.
# int: the breakout's INT pin (wake on motion from deep sleep: an RTC GPIO).
IMU = {"bus": 0, "chip": "mpu6050", "addr": 0x68, "axes": "+z+x+y", "int": 36}

# Coin vibration motor through an NPN transistor: high = on.
MOTOR = {"pin": 27, "freq": 200, "active_high": True}

# The devkit's BOOT button: pulled up, pressed = low.
BUTTON = {"pin": 0, "pull_up": True, "active_low": True}

# LiPo through a 100k/100k divider on an ADC1 pin (ADC2 is unusable with Wi-Fi).
BATTERY = {"pin": 35, "divider": (2, 1)}

LED = {"pin": 2, "active_high": True}

# USB 5 V through a 10k/20k divider: 1 while a cable powers the clip.
VBUS = 39
