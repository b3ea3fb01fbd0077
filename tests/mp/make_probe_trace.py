"""Writes tests/mp/probe_trace.csv: the sensor samples the MicroPython
allocation probe replays through its fake chips (CPython only; not imported on
MicroPython). Synthetic but shaped like a recording: a backward run at about
2.5 m/s, 170 steps/min, an obstacle closing to STOP range, a stretch with no
target, the VL53L1X's spurious near readings, sigma/wraparound failures and a
burst of sunlight. Trace CSV format of docs/design.md (range_status: ULD codes).

    .venv/bin/python tests/mp/make_probe_trace.py
"""

import math
import os

HEADER = "t_ms,ax_mg,ay_mg,az_mg,gx_mdps,gy_mdps,gz_mdps,range_mm,range_status,ambient_kcps"
DURATION_MS = 6000
IMU_PERIOD_MS = 10
TOF_PERIOD_MS = 20
STEP_MS = 353  # 170 steps per minute


def imu_row(t):
    phase = 2 * math.pi * t / STEP_MS
    ax = int(-120 + 250 * math.sin(phase))  # braking/propulsion along the beam
    ay = int(90 * math.sin(phase / 2))  # side sway, one cycle per stride
    az = int(1000 + 650 * math.sin(phase) + (1800 if t % STEP_MS < 20 else 0))  # heel strike
    gx = int(30_000 * math.sin(phase / 2))
    gy = int(45_000 * math.cos(phase))  # trunk pitch rocking
    gz = int(12_000 * math.sin(phase / 2))
    return [ax, ay, az, gx, gy, gz]


def noise(n, spread):
    # Deterministic jitter in -spread..spread: a real chip never repeats a
    # reading for long (the driver treats identical results as a frozen chip).
    return (n * 7919 + n * n * 104729) % (2 * spread + 1) - spread


def tof_row(t, n):
    ambient = (8000 if 4000 <= t < 5000 else 450) + noise(n, 30)
    if t < 1800:
        distance = 5000 - t * 5 // 2  # closing at 2.5 m/s down to 0.5 m
        return [distance + noise(n, 15), 0, ambient]
    if t < 2000:
        return [500 + noise(n, 15), 0, ambient]
    if t < 3000:
        return [4000 + noise(n, 2000), 2, ambient]  # nothing in range: signal fail
    if t < 3300:
        return [20 + noise(n, 10), 0, ambient]  # the chip's spurious near reading, flagged valid
    status = 1 if n % 7 == 0 else 7 if n % 23 == 0 else 0  # sigma fail, wraparound
    return [3000 - (t - 3300) * 3 // 4 + noise(n, 15), status, ambient]


def rows():
    for n, t in enumerate(range(0, DURATION_MS, IMU_PERIOD_MS)):
        tof = tof_row(t, n) if t % TOF_PERIOD_MS == 0 else ["", "", ""]
        yield [t] + imu_row(t) + tof


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_trace.csv")
    with open(path, "w") as f:
        f.write(HEADER + "\n")
        for row in rows():
            f.write(",".join(str(v) for v in row) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
