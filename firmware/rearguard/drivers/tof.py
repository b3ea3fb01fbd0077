# PLACEHOLDER (lead): replaced by the obstacle work (issue 4). Interface:
#   RangeSensor(i2c, addr, xshut_pin_or_None, now_ms, board_name)  never raises
#   .poll(now_ms) -> True when a new sample was read into the int attributes
#       range_mm, status (ULD code, 0 = valid), ambient_kcps, signal_kcps, spads
#   .ok (bool): the chip answers and ranges; .problem: message for the console
from adafruit_vl53l1x import VL53L1X


class RangeSensor:
    def __init__(self, i2c, addr, xshut, now_ms, board_name):
        self.range_mm = 0
        self.status = 255
        self.ambient_kcps = 0
        self.signal_kcps = 0
        self.spads = 0
        self.problem = ""
        try:
            self.chip = VL53L1X(i2c, addr)
            self.chip.start_ranging()
            self.ok = True
        except (OSError, RuntimeError, ValueError):
            self.chip = None
            self.ok = False
            self.problem = "no VL53L1X at 0x%02x on I2C - check the cable and boards/%s.py" % (addr, board_name)

    def poll(self, now_ms):
        return False
