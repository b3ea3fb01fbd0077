"""The simulator's runner against real people: the same gait measures taken
from real waist recordings (SisFall D01-D04, Sucerquia et al. 2017: walking
and jogging, slow and quick) and from the simulator's runner at the same
cadences, and a plot of both for docs/balance.md.

    .venv/bin/python -m tools.gait_compare                  # the table
    .venv/bin/python -m tools.gait_compare --plot docs/img/gait_real_vs_sim.png

Measures, per recording, at the clip's 100 Hz, through the firmware's own
attitude and step detector (what the balance code sees): cadence; per-step
peaks of |a| and of the horizontal acceleration (across "up"); per-step peaks
of the trunk's pitch and roll rates; the trunk's pitch and roll range per
stride; and the step-to-step variability (coefficient of variation) of the
step interval and of the |a| peak.
"""

import argparse
import math
import os
import statistics
import sys
import tempfile

from tools import sisfall
from tools.bench_balance import Sample

WALK_RUN = ("D01", "D02", "D03", "D04")
SIM_WALK_SPM = (95, 105, 115, 125)
SIM_RUN_SPM = (150, 160, 170, 180, 190)
SIM_SPEED_MM_S = {95: 1000, 105: 1200, 115: 1400, 125: 1600, 150: 2200, 160: 2500,
                  170: 2800, 180: 3100, 190: 3400}
SIM_SEEDS = (1, 2)
MEASURES = (
    ("cadence_spm", "cadence (steps/min)"),
    ("peak_g", "step |a| peak (g)"),
    ("horiz_g", "step horizontal peak (g)"),
    ("pitch_dps", "step pitch-rate peak (deg/s)"),
    ("roll_dps", "step roll-rate peak (deg/s)"),
    ("pitch_range_deg", "trunk pitch range per stride (deg)"),
    ("interval_cv_pct", "step interval CV (%)"),
    ("peak_cv_pct", "step |a| peak CV (%)"),
)


def _steps(rows):
    """Per step (between two foot contacts the firmware saw, inside a walk):
    (interval ms, |a| peak, horizontal peak, |pitch rate| peak, |roll rate| peak,
    pitch at each sample) through the firmware's attitude and gait."""
    from sim import loader

    with loader.firmware_modules() as load:
        att = load("rearguard.sensing.attitude").Attitude()
        gait = load("rearguard.sensing.gait").Gait(load("rearguard.profile").Profile())
        steps = []
        cur = None
        last = None
        pitch = 0.0
        sample = Sample()
        for t, ax, ay, az, gx, gy, gz in rows:
            dt = 10 if last is None else max(1, t - last)
            last = t
            sample.ax, sample.ay, sample.az, sample.gx, sample.gy, sample.gz = ax, ay, az, gx, gy, gz
            att.update(dt, sample)
            gait.update(t, dt, att.accel_mg)
            pitch += att.pitch_rate * dt / 1e6
            if gait.contact:
                if cur is not None and gait.bout_steps > 1:
                    steps.append(cur)
                cur = [t, 0, 0, 0, 0, pitch, pitch]
            if cur is None:
                continue
            u = att.up
            along = (ax * u[0] + ay * u[1] + az * u[2]) / 16384.0
            horiz = math.sqrt(max(0.0, att.accel_mg ** 2 - along ** 2))
            cur[1] = max(cur[1], att.accel_mg)
            cur[2] = max(cur[2], horiz)
            cur[3] = max(cur[3], abs(att.pitch_rate))
            cur[4] = max(cur[4], abs(att.roll_rate))
            cur[5] = min(cur[5], pitch)
            cur[6] = max(cur[6], pitch)
        return [(b[0] - a[0],) + tuple(a[1:]) for a, b in zip(steps, steps[1:])]


def measures(rows):
    """{measure: value} of one recording; None with too few steps. Steps more than
    half off the typical interval (a turn at the end of a corridor, a stop) are left out."""
    steps = _steps(rows)[2:]  # the first steps of a walk are its start
    if len(steps) < 6:
        return None
    iv = [s[0] for s in steps]
    med_iv = statistics.median(iv)
    regular = [s for s in steps if 0.6 * med_iv < s[0] < 1.5 * med_iv]
    ranges = [max(a[6], b[6]) - min(a[5], b[5]) for a, b in zip(regular[::2], regular[1::2])]
    peaks = [s[1] for s in regular]

    def cv(values):
        return 100.0 * statistics.pstdev(values) / statistics.mean(values)

    return {
        "cadence_spm": 60000.0 / med_iv,
        "peak_g": statistics.median(peaks) / 1000.0,
        "horiz_g": statistics.median(s[2] for s in regular) / 1000.0,
        "pitch_dps": statistics.median(s[3] for s in regular) / 1000.0,
        "roll_dps": statistics.median(s[4] for s in regular) / 1000.0,
        "pitch_range_deg": statistics.median(ranges) if ranges else 0.0,
        "interval_cv_pct": cv([s[0] for s in regular]),
        "peak_cv_pct": cv(peaks),
    }


def _clip_rate(rows):
    """The clip reads one sample per 10 ms tick: a 200 Hz recording as it sees it."""
    out = []
    for r in rows:
        if not out or r[0] - out[-1][0] >= 10:
            out.append(r)
    return out


def real():
    """[(code, subject, {measure: value})] for walking and jogging recordings."""
    out = []
    for rec in sisfall.recordings(WALK_RUN):
        m = measures(_clip_rate(sisfall.read_imu(rec.path)))
        if m is not None:
            out.append((rec.code, rec.subject, m))
    return out


def sim_rows(cadence_spm, seed, seconds=40):
    """IMU rows of the simulator's runner at this cadence (walking below 140 steps/min)."""
    from sim import scenario

    speed = SIM_SPEED_MM_S[cadence_spm]
    spec = {"name": "gait_compare", "duration_ms": int(seconds * 1000) + 3000, "seed": seed,
            "runner": {"speed": [[0, 0], [1000, 0], [3000, speed]], "cadence_spm": cadence_spm,
                       "gait": "walk" if cadence_spm < 140 else "run"},
            "ambient": "shade"}
    spec = scenario.check(spec, "gait_compare")
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "trace.csv")
        scenario.run(spec, trace_path=path)
        return _clip_rate([r for r in sisfall.read_imu(path) if r[0] >= 3000])


def sim():
    """[(cadence, seed, {measure: value})] of the simulator's runner."""
    out = []
    for spm in SIM_WALK_SPM + SIM_RUN_SPM:
        for seed in SIM_SEEDS:
            m = measures(sim_rows(spm, seed))
            if m is not None:
                out.append((spm, seed, m))
    return out


def table(real_rows, sim_rows_):
    names = [k for k, _label in MEASURES]
    lines = ["%-12s " % "source" + " ".join("%9s" % n[:9] for n in names)]
    for code, subject, m in real_rows:
        lines.append("%-12s " % (code + " " + subject) + " ".join("%9.2f" % m[n] for n in names))
    for spm, seed, m in sim_rows_:
        lines.append("%-12s " % ("sim %d/%d" % (spm, seed)) + " ".join("%9.2f" % m[n]
                                                                       for n in names))
    return "\n".join(lines)


def plot(real_rows, sim_rows_, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = MEASURES[1:]
    fig, axes = plt.subplots(2, 4, figsize=(15, 7))
    colours = {"D01": "#1b9e77", "D02": "#66a61e", "D03": "#d95f02", "D04": "#e7298a"}
    for ax, (key, label) in zip(axes.flat, shown):
        for code in WALK_RUN:
            pts = [(m["cadence_spm"], m[key]) for c, _s, m in real_rows if c == code]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=colours[code], s=30,
                       label="real " + code + " (" + sisfall.ACTIVITIES[code] + ")")
        pts = sorted((m["cadence_spm"], m[key]) for _spm, _seed, m in sim_rows_)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "k^", ms=6, mfc="none",
                label="simulator's runner")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("cadence (steps/min)", fontsize=8)
        ax.grid(alpha=0.3)
    axes.flat[-1].axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=9)
    fig.suptitle("Waist IMU gait: real people (SisFall, Sucerquia et al. 2017) vs the "
                 "simulator's runner, as the clip's firmware measures it", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.gait_compare")
    parser.add_argument("--plot", help="write the comparison plot (PNG) here")
    args = parser.parse_args(argv)
    reason = sisfall.absent_reason()
    if reason:
        print(reason)
        return 1
    r = real()
    s = sim()
    print(table(r, s))
    if args.plot:
        plot(r, s, args.plot)
        print("wrote", args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
