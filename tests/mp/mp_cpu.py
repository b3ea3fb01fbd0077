# The CPU calibration's workload (tools/calibrate_cpu.py): the firmware's IMU
# chain (BodyMonitor: attitude, gait, balance, about 60 % of a running tick's
# operations) over the probe trace's jog, the same computation under real
# MicroPython, where it is timed, and under CPython, where its operations are
# counted. Runs on both: nothing CPython-only here.
#
#     rows = mp_cpu.load(path_of_probe_trace_csv)      # or rows_of(lines)
#     mp_cpu.run(rows, 4000)      # -> (steps, pitch_cdeg): equal on both runtimes
#     mp_cpu.timed_us(mp_cpu.run, rows, 4000)   # MicroPython only: its wall time, us
from rearguard.sensing.body import BodyMonitor

SAMPLE_MS = 10  # one sample a tick, as App.tick reads the IMU


class _Profile:
    stride_mm = 1500
    mount_height_mm = 1000


class _Log:
    def emit(self, now_ms, kind, *values):
        pass


class Sample:
    def __init__(self):
        self.ax = self.ay = self.az = self.gx = self.gy = self.gz = 0


def rows_of(lines):
    """The IMU columns of a trace's CSV lines (docs/formats.md), its header
    left out: [(ax, ay, az, gx, gy, gz)]."""
    rows = []
    for line in lines:
        cols = line.strip().split(",")
        if len(cols) >= 7 and cols[0].isdigit():
            rows.append(tuple(int(c) for c in cols[1:7]))
    return rows


def load(path):
    with open(path) as f:
        return rows_of(f)


def run(rows, n):
    """n samples through a fresh BodyMonitor, the rows over and over."""
    body = BodyMonitor(_Profile(), _Log())
    imu = Sample()
    now = 0
    count = len(rows)
    for i in range(n):
        imu.ax, imu.ay, imu.az, imu.gx, imu.gy, imu.gz = rows[i % count]
        now += SAMPLE_MS
        body.update(now, imu)
    return body.steps, body.pitch_cdeg


def timed_us(fn, *args):
    """fn(*args)'s wall time in us by the interpreter's own clock (MicroPython's
    ticks: CPython has none, and counts operations instead)."""
    from time import ticks_diff, ticks_us

    t0 = ticks_us()
    fn(*args)
    return ticks_diff(ticks_us(), t0)
