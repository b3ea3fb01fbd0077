"""Trace CSV (docs/design.md): what the chips returned, row by row, and replay of a
trace through the unchanged firmware on the virtual clock.

    t_ms,ax_mg,ay_mg,az_mg,gx_mdps,gy_mdps,gz_mdps,range_mm,range_status,ambient_kcps

Device frame, integer units; range fields empty on rows without a ToF sample,
`range_status` in ULD codes (0 valid), `ambient_kcps` as ULD's GetAmbientRate.
A row may also leave the IMU fields empty when it only carries a range sample;
a trace with no range samples at all replays with the sensor seeing an empty path.

    rows = read("run.csv")                      # TraceError names the line
    out = replay("run.csv", active=True)        # {"events": [...], "summary": ...}
"""

import csv

from sim.chips.rng import Rng
from sim.chips.vl53l1x import VL53L1X
from sim.vboard.chips import raw_status, uld_status
from sim.vclock import TICKS_HALF, TICKS_PERIOD
from sim.world import Scene

HEADER = ("t_ms", "ax_mg", "ay_mg", "az_mg", "gx_mdps", "gy_mdps", "gz_mdps", "range_mm",
          "range_status", "ambient_kcps")
SAME_TICK_MS = 5  # a range sample joins the IMU row read this close before it
END_ROUNDING_MS = 100  # replay runs to the last row's time rounded up to this


class TraceError(ValueError):
    """A trace that cannot be replayed: file, line and what is wrong."""


class TraceWriter:
    """Collects rows from the chip models' listeners during a run."""

    def __init__(self):
        self.rows = []  # [t_ms, ax, ay, az, gx, gy, gz, range_mm, status, ambient] (None = empty)

    def on_imu(self, t_us, ax, ay, az, gx, gy, gz):
        self.rows.append([t_us // 1000, ax, ay, az, gx, gy, gz, None, None, None])

    def on_range(self, t_us, raw, range_mm, ambient_kcps, _signal_kcps, _spads):
        t_ms = t_us // 1000
        last = self.rows[-1] if self.rows else None
        if last is None or last[7] is not None or t_ms - last[0] >= SAME_TICK_MS:
            last = [t_ms, None, None, None, None, None, None, None, None, None]
            self.rows.append(last)
        last[7] = range_mm
        last[8] = uld_status(raw)
        last[9] = ambient_kcps

    def write(self, path):
        with open(path, "w", newline="") as f:
            write_rows(f, self.rows)


def write_rows(f, rows):
    f.write(",".join(HEADER) + "\n")
    for row in rows:
        f.write(",".join("" if v is None else str(int(v)) for v in row) + "\n")


def read(path):
    """Rows as lists of ints/None with t_ms unwrapped and rising; TraceError otherwise."""
    try:
        f = open(path, newline="")
    except OSError as e:
        raise TraceError("%s: cannot read: %s" % (path, e.strerror)) from None
    rows = []
    with f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise TraceError("%s:1: header must be exactly %s" % (path, ",".join(HEADER)))
        offset = 0
        last_t = None
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(HEADER):
                raise TraceError("%s:%d: expected %d fields, got %d"
                                 % (path, line, len(HEADER), len(row)))
            values = []
            for name, text in zip(HEADER, row):
                text = text.strip()
                if not text:
                    values.append(None)
                    continue
                try:
                    values.append(int(text))
                except ValueError:
                    raise TraceError("%s:%d: %s must be an integer, got %r"
                                     % (path, line, name, text)) from None
            if values[0] is None:
                raise TraceError("%s:%d: t_ms is empty" % (path, line))
            imu = values[1:7]
            if any(v is None for v in imu) and any(v is not None for v in imu):
                raise TraceError("%s:%d: IMU fields must be all present or all empty" % (path, line))
            if values[7] is None and (values[8] is not None or values[9] is not None):
                raise TraceError("%s:%d: range_status/ambient_kcps without range_mm" % (path, line))
            if values[7] is not None and values[8] is None:
                raise TraceError("%s:%d: range_mm without range_status" % (path, line))
            if values[8] is not None and not 0 <= values[8] <= 255:
                raise TraceError("%s:%d: range_status %d is not a ULD code" % (path, line, values[8]))
            t = values[0] + offset
            if last_t is not None and t < last_t:
                if last_t - t > TICKS_HALF:
                    offset += TICKS_PERIOD  # ticks_ms wrapped during the recording
                    t += TICKS_PERIOD
                else:
                    raise TraceError("%s:%d: t_ms %d goes back in time (previous row %d)"
                                     % (path, line, values[0], last_t))
            values[0] = t
            last_t = t
            rows.append(values)
    if not rows:
        raise TraceError("%s: no rows after the header" % path)
    return rows


class TraceSource:
    """Serves recorded samples to the chip models at their timestamps."""

    def __init__(self, rows):
        self.imu_rows = [r for r in rows if r[1] is not None]
        self.range_rows = [r for r in rows if r[7] is not None]
        self.imu_index = -1

    def imu_sample(self, now_us, period_us):
        rows = self.imu_rows
        i = self.imu_index
        while i + 1 < len(rows) and rows[i + 1][0] * 1000 <= now_us:
            i += 1
        self.imu_index = i
        if i < 0:
            return None
        row = rows[i]
        return row[0] * 1000, row[1:7]

    def scene(self, now_us, fov_deg, *_aim):
        # Only for traces without range columns: an empty path in the shade.
        scene = Scene()
        scene.ambient_kcps_per_spad = 20.0
        return scene


class ReplayVL53L1X(VL53L1X):
    """The VL53L1X register model serving a trace's range samples instead of a
    world's scene: data ready rises at each row's time while the firmware is
    ranging (rows that pass while a result is pending are skipped)."""

    def __init__(self, source, rng, now_us, quirks=None):
        VL53L1X.__init__(self, source, rng, now_us, quirks)
        self.next_row = 0

    def before_read(self, reg, n):
        rows = self.source.range_rows
        if not rows:
            # An IMU-only trace (balance work): the sensor ranges an empty path.
            VL53L1X.before_read(self, reg, n)
            return
        now = self.now_us()
        i = self.next_row
        last = None
        while i < len(rows) and rows[i][0] * 1000 <= now:
            last = rows[i]
            i += 1
        self.next_row = i
        if last is not None and self.ranging and not self.pending:
            self.pending = True
            _t, range_mm, status, ambient = last[0], last[7], last[8], last[9] or 0
            raw = raw_status(status)
            # Signal and SPADs are not in the trace. The firmware judges light per
            # SPAD, so serve the configured ROI's SPADs as the model does without a
            # strong target, and a signal only where a range was valid (>= ~6.5 Mcps
            # is what a valid short-mode range needs on the model).
            cfg = self.config
            spads = int(cfg.roi_w * cfg.roi_h * 0.8)
            signal = 7000 if status == 0 else 0
            self.load_result(raw, range_mm, ambient, signal, spads)
            self.notify(now)
        self.show_interrupt()


def replay(path, active=False, board="esp32_devkitc", profile=None, echo=None):
    """Feed a trace through the firmware; {"trace", "events", "summary"}.
    `profile`: athlete settings applied at boot, as the recording device had them."""
    from sim import scenario

    rows = read(path)
    source = TraceSource(rows)
    spec = {"board": board, "quirks": {"spurious_p": 0.0, "frozen_p": 0.0}}
    # A device's trace starts wherever its tick counter was: boot 2 s before it.
    start_ms = max(0, rows[0][0] - 2000)
    vb, _tof, _imu, _cell = scenario.build_board(spec, Rng(0), source, imu_noise=False,
                                                 tof_cls=ReplayVL53L1X, start_ms=start_ms)
    recorder = scenario.Recorder(None, active, profile)
    last = rows[-1][0]
    until = -(-last // END_ROUNDING_MS) * END_ROUNDING_MS
    vb.run(until_ms=until, on_boot=recorder.on_boot, echo=echo)
    return {"trace": path, "events": recorder.event_dicts(), "summary": recorder.summary()}
