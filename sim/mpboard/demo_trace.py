"""Writes a short sensor trace for the virtual serial board: a backward run
with something closing in from behind, in the trace CSV format of docs/design.md.

    python -m sim.mpboard.demo_trace run.csv
    python -m sim.mpboard --trace run.csv --press 1200 --press 9500:1800

The shape (trace time): standing still until STILL_MS, running at 170
steps/min until RUN_END_MS, still again to the end. The ToF sees nothing
until OBSTACLE_FROM_MS, then a target that closes from 3.5 m to about CLOSEST_MM
and stays there until OBSTACLE_TO_MS, then nothing again. What a run on it
must record is in `expected()`; the tests compare the pulled summary with it.
"""

import math
import sys

HEADER = "t_ms,ax_mg,ay_mg,az_mg,gx_mdps,gy_mdps,gz_mdps,range_mm,range_status,ambient_kcps"
DURATION_MS = 12_000
STILL_MS = 1_000
RUN_END_MS = 9_000
OBSTACLE_FROM_MS = 3_000
OBSTACLE_TO_MS = 8_000
CLOSEST_MM = 1_000
IMU_PERIOD_MS = 10
TOF_PERIOD_MS = 33
STEP_MS = 353  # 170 steps per minute
NO_TARGET = 2  # ULD: signal fail


def _jitter(n, spread):
    # deterministic, never the same twice in a row (a chip that repeats itself is frozen)
    return (n * 7919 + n * n * 104729) % (2 * spread + 1) - spread


def imu_row(t, n):
    if STILL_MS <= t < RUN_END_MS:
        phase = 2 * math.pi * (t - STILL_MS) / STEP_MS
        ax = int(-120 + 250 * math.sin(phase))
        ay = int(90 * math.sin(phase / 2))
        az = int(1000 + 650 * math.sin(phase) + (1800 if (t - STILL_MS) % STEP_MS < 20 else 0))
        return [ax, ay, az, int(30_000 * math.sin(phase / 2)), int(45_000 * math.cos(phase)),
                int(12_000 * math.sin(phase / 2))]
    return [_jitter(n, 4), _jitter(n + 1, 4), 1000 + _jitter(n + 2, 4),
            _jitter(n, 300), _jitter(n + 3, 300), _jitter(n + 5, 300)]


def tof_row(t, n):
    ambient = 400 + _jitter(n, 20)
    if OBSTACLE_FROM_MS <= t < OBSTACLE_TO_MS:
        closing = (t - OBSTACLE_FROM_MS) * 2500 // 3000  # 2.5 m in 3 s, then it holds
        range_mm = max(CLOSEST_MM + 10, 3500 - closing) + _jitter(n, 8)
        return [range_mm, 0, ambient]
    return [0, NO_TARGET, ambient]


def rows():
    tof_n = 0
    next_tof = 0
    for i, t in enumerate(range(0, DURATION_MS + 1, IMU_PERIOD_MS)):
        row = [t] + imu_row(t, i)
        if t >= next_tof:
            row += tof_row(t, tof_n)
            tof_n += 1
            next_tof += TOF_PERIOD_MS
        else:
            row += ["", "", ""]
        yield row


def expected():
    """What a session over this trace records (the tests' tolerance is theirs)."""
    return {
        "steps": (RUN_END_MS - STILL_MS) // STEP_MS,
        "closest_mm": CLOSEST_MM,
    }


def write(path):
    with open(path, "w") as f:
        f.write(HEADER + "\n")
        for row in rows():
            f.write(",".join(str(v) for v in row) + "\n")


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else "mpboard_demo_trace.csv")
