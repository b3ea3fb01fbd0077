"""Timeline PNG of one scenario run: what was really there against what the
sensor reported and what the firmware decided.

Panels: true distance vs measured range (by status), TTC, alert levels and
motor output, speed, trunk pitch, acceleration magnitude.

    plot_run("out.png", spec, world, tof, board, recorder, probe)   # from sim.scenario.run
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.vboard.chips import uld_status  # noqa: E402

LEVEL_Y = {"caution": 1, "warning": 2, "stop": 3}
OTHER_Y = {"blind": 0.5, "too_fast": 0.25, "stumble": 3.5, "fall": 3.8}


class Probe:
    """Samples the firmware's state every `every_ms` of board time for the plot."""

    def __init__(self, recorder, every_ms=50):
        self.recorder = recorder
        self.every_us = every_ms * 1000
        self.next_us = 0
        self.rows = []  # (t_ms, ttc_ms, level, speed_mm_s, pitch_cdeg)

    def on_time(self, now_us):
        if now_us < self.next_us or not self.recorder.apps:
            return
        self.next_us = now_us + self.every_us
        app = self.recorder.apps[-1]
        ob, body = app.obstacle, app.body
        self.rows.append((now_us // 1000, getattr(ob, "ttc_ms", -1), getattr(ob, "level", 0),
                          getattr(body, "speed_mm_s", 0), getattr(body, "pitch_cdeg", 0)))


def plot_run(path, spec, world, tof, board, recorder, probe):
    fig, axes = plt.subplots(6, 1, figsize=(12, 14), sharex=True)
    s = lambda ms: ms / 1000.0  # noqa: E731
    truth = world.truth
    t_truth = [s(r[0]) for r in truth]

    ax = axes[0]
    ax.plot(t_truth, [r[3] if r[3] is not None and r[3] < 6000 else None for r in truth],
            color="black", lw=1.2, label="true gap on path")
    for label, pick, style in (("valid", lambda st: st == 0, dict(color="tab:green", marker=".")),
                               ("sigma/signal fail", lambda st: st in (1, 2),
                                dict(color="tab:orange", marker="x")),
                               ("other status", lambda st: st not in (0, 1, 2),
                                dict(color="tab:red", marker="x"))):
        pts = [(s(t // 1000), d) for t, raw, d, _a, _sg, _sp in tof.samples if pick(uld_status(raw))]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=8, label=label, **style)
    ax.set_ylabel("range mm")
    ax.set_ylim(0, 5000)
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title("%s (seed %s)" % (spec["name"], spec.get("seed")))

    ax = axes[1]
    pts = [(s(r[0]), r[1]) for r in probe.rows if r[1] is not None and r[1] >= 0]
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], ".", ms=3, color="tab:purple")
    ax.set_ylabel("firmware TTC ms")
    ax.set_ylim(0, 6000)

    ax = axes[2]
    motor = board.motor_timeline()
    if motor:
        xs, ys = [], []
        for t, duty in motor:
            xs.append(s(t))
            ys.append(duty / 65535 * 4)
        ax.step(xs, ys, where="post", color="tab:gray", lw=0.8, label="motor duty (0..4)")
    for t, kind, level in recorder.events:
        y = LEVEL_Y.get(level, OTHER_Y.get(kind))
        if y is not None:
            ax.plot([s(t)], [y], "v", color="tab:red" if kind == "obstacle" else "tab:blue")
            ax.annotate(level or kind, (s(t), y), fontsize=7, xytext=(2, 2),
                        textcoords="offset points")
    ax.set_ylabel("alerts / haptics")
    ax.set_ylim(-0.2, 4.3)
    ax.legend(loc="upper right", fontsize=7)

    ax = axes[3]
    ax.plot(t_truth, [r[2] for r in truth], color="black", lw=1.2, label="true speed")
    ax.plot([s(r[0]) for r in probe.rows], [r[3] for r in probe.rows], color="tab:blue", lw=0.8,
            label="firmware estimate")
    ax.set_ylabel("speed mm/s")
    ax.legend(loc="upper right", fontsize=7)

    ax = axes[4]
    ax.plot(t_truth, [r[5] for r in truth], color="black", lw=1.0, label="true trunk pitch")
    ax.plot([s(r[0]) for r in probe.rows], [r[4] / 100.0 for r in probe.rows], color="tab:blue",
            lw=0.8, label="firmware pitch")
    ax.set_ylabel("pitch deg (+ = beam down)")
    ax.legend(loc="upper right", fontsize=7)

    ax = axes[5]
    ax.plot(t_truth, [r[6] for r in truth], color="tab:gray", lw=0.6)
    ax.set_ylabel("|a| mg (true)")
    ax.set_xlabel("time s")
    for t, text in world.fault_log:
        for a in axes:
            a.axvline(s(t), color="tab:red", lw=0.5, ls=":")
        axes[0].annotate(text, (s(t), 4700), fontsize=7, color="tab:red")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
