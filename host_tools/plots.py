"""PNG plots of sessions with matplotlib (Agg: no display needed).

    timeline(session_row, events, "run.png")   # alerts and events over the run
    trend(all_session_rows, "trend.png")       # distance, alerts/km, stumbles by week
"""

import datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from host_tools import export  # noqa: E402

ROWS = ("obstacle", "too_fast", "blind", "stumble", "fall", "low_battery", "sensor_fault")
LEVEL_COLOURS = {"caution": "#e6b800", "warning": "#ff7f0e", "stop": "#d62728", "": "#1f77b4"}


def timeline(row, events, path):
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for e in events:
        if e["kind"] in ROWS:
            y = ROWS.index(e["kind"])
            ax.plot(e["t_ms"] / 1000, y, "o", color=LEVEL_COLOURS.get(e["level"], "#444"), ms=7)
    ax.set_yticks(range(len(ROWS)), ROWS)
    ax.set_xlim(0, max(1.0, row["duration_ms"] / 1000))
    ax.set_ylim(-0.6, len(ROWS) - 0.4)
    ax.set_xlabel("time into the run (s)")
    ax.set_title("session %d - %s, %s, alerts c/w/s %d/%d/%d" % (
        row["session_id"], export.start_text(row), export.distance_text(row["distance_mm"]),
        row["alerts_caution"], row["alerts_warning"], row["alerts_stop"]))
    for level, colour in LEVEL_COLOURS.items():
        if level:
            ax.plot([], [], "o", color=colour, label=level)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def week_of(row):
    t = row["start_unix_s"] if row["clock_known"] else row["pulled_unix_s"]
    year, week, _ = _iso_week(t)
    return "%d-W%02d" % (year, week)


def _iso_week(t):
    iso = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isocalendar()
    return iso[0], iso[1], iso[2]


def trend(rows, path):
    weeks = {}
    for r in rows:
        w = weeks.setdefault(week_of(r), [0, 0, 0])
        w[0] += r["distance_mm"]
        w[1] += r["alerts_caution"] + r["alerts_warning"] + r["alerts_stop"]
        w[2] += r["stumbles"]
    labels = sorted(weeks)
    km = [weeks[k][0] / 1e6 for k in labels]
    per_km = [weeks[k][1] / (weeks[k][0] / 1e6) if weeks[k][0] else 0 for k in labels]
    stumbles = [weeks[k][2] for k in labels]
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    axes[0].bar(labels, km, color="#1f77b4")
    axes[0].set_ylabel("distance (km)")
    axes[1].plot(labels, per_km, "o-", color="#d62728")
    axes[1].set_ylabel("alerts per km")
    axes[2].bar(labels, stumbles, color="#ff7f0e")
    axes[2].set_ylabel("stumbles")
    axes[2].set_xlabel("week")
    axes[0].set_title("RearGuard trend: %d session(s)" % len(rows))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
