# PLACEHOLDER (lead): replaced by the balance work (issue 5). Interface:
#   Imu(i2c, chip, addr, axes, now_ms, board_name)  never raises
#   .read(now_ms) -> True when a new sample is in ax, ay, az (milli-g) and
#       gx, gy, gz (milli-degrees/s), all in the device frame of DESIGN.md
#   .ok, .problem as for the range sensor


class Imu:
    def __init__(self, i2c, chip, addr, axes, now_ms, board_name):
        self.ax = self.ay = 0
        self.az = 1000
        self.gx = self.gy = self.gz = 0
        self.ok = False
        self.problem = "IMU driver not written yet"

    def read(self, now_ms):
        return False
