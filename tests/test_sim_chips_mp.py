"""The chip models keep to the MicroPython subset: the same VL53L1X and IMU
models answer correctly under real MicroPython (WebAssembly port), so a later
step can run them next to the firmware on a board."""

import os
import shutil

from sim.loader import FIRMWARE, ROOT
from tools.micropython import run

JOB = r"""
from sim.chips.rng import Rng
from sim.chips.vl53l1x import VL53L1X, uld_status
from sim.chips.imu import make_imu

class Scene:
    signal = 0.88  # 88% white filling the view at 1 m
    distance_mm = 1000.0
    peak_reflectance = 0.88
    dominant = "wall"
    ambient_kcps_per_spad = 20.0
    covered = False

class Source:
    def scene(self, now_us, fov_deg):
        return Scene()
    def imu_sample(self, now_us, period_us):
        return now_us - now_us % period_us, (0, 0, 1000, 0, 0, 0)

t = [0]
now = lambda: t[0]
tof = VL53L1X(Source(), Rng(1), now)
tof.i2c_write(bytes([0x01, 0x0F]))
print("id", list(tof.i2c_read(3)))
short_mode = ((0x4B, 0x14), (0x60, 0x07), (0x63, 0x05), (0x69, 0x38), (0x78, 0x07), (0x79, 0x05),
              (0x7A, 0x06), (0x7B, 0x06), (0x5E, 0x00), (0x5F, 0xD6),  # short, 33 ms
              (0x7F, 0xC7), (0x80, 0xFF))  # 16x16 ROI at the optical centre
for reg, value in short_mode:
    tof.i2c_write(bytes([0x00, reg, value]))
tof.i2c_write(bytes([0x00, 0x30, 0x01]))
tof.i2c_write(bytes([0x00, 0x87, 0x40]))
ranges = []
for i in range(60):
    t[0] += 10000
    tof.i2c_write(bytes([0x00, 0x31]))
    if tof.i2c_read(1)[0] & 1:
        tof.i2c_write(bytes([0x00, 0x89]))
        r = tof.i2c_read(17)
        ranges.append((uld_status(r[0]), (r[13] << 8) | r[14]))
        tof.i2c_write(bytes([0x00, 0x86, 0x01]))
print("tof", tof.config.mode, tof.config.budget_ms, len(ranges),
      min(d for s, d in ranges if s == 0), max(d for s, d in ranges if s == 0))
imu = make_imu("mpu6050", Source(), Rng(2), now, "+z+x+y", False)
imu.i2c_write(bytes([0x6B, 0x00]))
t[0] += 50000
imu.i2c_write(bytes([0x3D]))
hi, lo = imu.i2c_read(2)
print("accel_y", (hi << 8) | lo)
"""


def test_chip_models_run_under_micropython(tmp_path):
    tree = tmp_path / "device"
    shutil.copytree(FIRMWARE, tree)
    chips = tree / "lib" / "sim" / "chips"
    chips.mkdir(parents=True)
    (tree / "lib" / "sim" / "__init__.py").write_text("")
    for name in os.listdir(os.path.join(ROOT, "sim", "chips")):
        if name.endswith(".py"):
            shutil.copy(os.path.join(ROOT, "sim", "chips", name), chips / name)
    result = run(JOB, firmware=str(tree))
    result.check()
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["id"] == "[234, 204, 16]"
    mode, budget, n, lo, hi = lines["tof"].split()
    assert (mode, budget) == ("short", "33")
    assert int(n) >= 10  # ~53 ms period with a target, polled every 10 ms
    assert 940 < int(lo) and int(hi) < 1060
    assert lines["accel_y"] == "16384"  # chip +y up, +-2 g
