"""PNG plots of sessions with matplotlib (Agg: no display needed), made for a
coach who reads the picture, not the manual.

    timeline(row, events, samples, "run.png")   # one run: what was behind, how fast, alerts
    trend(rows, "trend.png")                    # distance, alerts per km, stumbles, by week

The `*_figure` functions return the figure without saving it (tests read what
was drawn).
"""

import datetime
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator  # noqa: E402

from host_tools import export, track  # noqa: E402

LEVELS = ((1, "caution", "#f5c518"), (2, "warning", "#ff8c1a"), (3, "stop", "#d62728"))
TOO_FAST = "#1f77b4"
BLIND = "#7f7f7f"
PAUSED = "#c7c7c7"
SPEED = "#2ca02c"
RANGE = "#222222"
MARKERS = {"stumble": ("v", "#9467bd"), "fall": ("X", "#8c564b"), "low_battery": ("s", "#bcbd22"),
           "sensor_fault": ("D", "#e377c2")}


def _save(fig, path):
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


# --- one run -----------------------------------------------------------------------
def timeline(row, events, samples, path):
    _save(timeline_figure(row, events, samples), path)


def run_end_s(row, events, samples):
    """Seconds from start to end of the session (pauses included), as the clip saw it."""
    ends = [e["t_ms"] / 1000 for e in events if e["kind"] == "session_end"]
    return max([len(samples), row["duration_ms"] / 1000] + ends)


def timeline_figure(row, events, samples):
    fig, (ax_range, ax_state, ax_speed) = plt.subplots(
        3, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.3, 2]})
    end = run_end_s(row, events, samples)
    _alert_spans(ax_range, samples, events)
    _range_line(ax_range, samples)
    _state_strip(ax_state, samples, events)
    _speed_line(ax_speed, samples, row)
    for ax in (ax_range, ax_state, ax_speed):
        ax.axvline(0, color="#333", lw=1, ls="--")
        ax.axvline(end, color="#333", lw=1, ls="--")
        ax.grid(axis="x", alpha=0.25)
    for x, text, side in ((0, " start", "left"), (end, "end ", "right")):
        ax_speed.text(x, 0.97, text, transform=ax_speed.get_xaxis_transform(), fontsize=8, va="top", ha=side)
    ax_speed.set_xlim(-0.01 * end - 1, end * 1.01 + 1)
    ax_speed.xaxis.set_major_locator(MultipleLocator(_tick_step(end)))
    ax_speed.xaxis.set_major_formatter(FuncFormatter(lambda s, _pos: export.clock_text(max(0, int(s)))))
    ax_speed.set_xlabel("time into the run (min:s)")
    fig.suptitle(_run_title(row), fontsize=11)
    if not samples:
        ax_range.text(0.5, 0.5, "no track: recorded by firmware without tracks (alerts as points)",
                      transform=ax_range.transAxes, ha="center", color="#555")
    fig.tight_layout()
    return fig


def _tick_step(seconds):
    # Round minutes (or seconds for a short run), about ten ticks at most.
    return next(step for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
                if seconds / step <= 10)


def _run_title(row):
    who = row["athlete"] or "clip %s" % row["device"]
    return "%s  -  %s, %s\n%s in %s on feet, pace %s   |   alerts caution/warning/stop %d/%d/%d" % (
        row["ref"], who, export.start_text(row), export.distance_text(row["distance_mm"]),
        export.duration_text(row["moving_ms"]), export.pace_text(row["distance_mm"], row["moving_ms"]),
        row["alerts_caution"], row["alerts_warning"], row["alerts_stop"])


def alert_spans(samples):
    """{level: [(start_s, end_s)]} of the seconds at exactly that alert level."""
    return {level: track.spans(samples, lambda s, level=level: s.level == level) for level, _n, _c in LEVELS}


def _alert_spans(ax, samples, events):
    spans = alert_spans(samples)
    for level, _name, colour in LEVELS:
        for a, b in spans[level]:
            ax.axvspan(a, b, color=colour, alpha=0.35, lw=0)
    if not samples:  # older sessions: the alert events as points
        for e in events:
            if e["kind"] == "obstacle":
                colour = dict((n, c) for _l, n, c in LEVELS).get(e["level"], "#444")
                ax.plot(e["t_ms"] / 1000, 0.5, "o", color=colour, ms=8)
    handles = [Patch(color=c, alpha=0.5, label="alert: %s" % n) for _l, n, c in LEVELS]
    ax.legend(handles=handles + [plt.Line2D([], [], color=RANGE, label="nearest thing behind (gap: nothing in reach)")],
              loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, ncol=4, frameon=False)


def _range_line(ax, samples):
    ts = [s.t_s + 0.5 for s in samples]
    metres = [s.range_mm / 1000 if s.range_mm is not None else math.nan for s in samples]
    ax.plot(ts, metres, color=RANGE, lw=1.4, marker=".", ms=3)
    top = max([m for m in metres if not math.isnan(m)] + [4.0])
    ax.set_ylim(0, top * 1.1)
    ax.set_ylabel("behind the runner (m)")


def state_spans(samples):
    """{"too fast": [...], "sensor blind": [...], "paused": [...]}: (start_s, end_s) spans."""
    return {"too fast": track.spans(samples, "too_fast"), "sensor blind": track.spans(samples, "blind"),
            "paused": track.spans(samples, "paused")}


def _state_strip(ax, samples, events):
    rows = state_spans(samples)
    colours = {"too fast": TOO_FAST, "sensor blind": BLIND, "paused": PAUSED}
    labels = list(rows) + ["balance"]
    for y, (name, spans) in enumerate(rows.items()):
        ax.broken_barh([(a, b - a) for a, b in spans], (y - 0.35, 0.7), color=colours[name])
    kinds = {"too_fast": 0, "blind": 1}
    for e in events:
        t = e["t_ms"] / 1000
        if e["kind"] in MARKERS:
            marker, colour = MARKERS[e["kind"]]
            ax.plot(t, len(rows), marker, color=colour, ms=9, label=e["kind"].replace("_", " "))
        elif not samples and e["kind"] in kinds:  # older sessions: where each began
            ax.plot(t, kinds[e["kind"]], "|", color=colours[labels[kinds[e["kind"]]]], ms=14, mew=3)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    if unique:
        ax.legend(unique.values(), unique.keys(), loc="upper right", fontsize=8, ncol=len(unique))


def _speed_line(ax, samples, row):
    ts = [s.t_s + 0.5 for s in samples]
    kmh = [s.speed_mm_s * 3.6 / 1000 for s in samples]
    ax.plot(ts, kmh, color=SPEED, lw=1.4, label="speed")
    ax.set_ylim(0, max(kmh + [6.0]) * 1.15)
    ax.set_ylabel("speed (km/h)")
    if samples:
        cad = ax.twinx()
        cad.plot(ts, [s.cadence_spm or math.nan for s in samples], color="#999", lw=0.8, ls=":")
        cad.set_ylim(0, max([s.cadence_spm for s in samples] + [200]) * 1.15)
        cad.set_ylabel("cadence (steps/min, dotted)", color="#777", fontsize=8)


# --- weeks ---------------------------------------------------------------------------
def trend(rows, path):
    _save(trend_figure(rows), path)


def week_start(unix_s):
    """The Monday (local date) of the week the run started in."""
    day = datetime.datetime.fromtimestamp(unix_s).date()
    return day - datetime.timedelta(days=day.weekday())


def weekly(rows):
    """[(monday, km, alerts, stumbles_and_falls, runs)] for every week from the
    first dated run to the last, empty weeks included; undated runs are left
    out (they belong to no week)."""
    dated = [r for r in rows if r["start_s"] is not None]
    if not dated:
        return []
    weeks = {}
    for r in dated:
        w = weeks.setdefault(week_start(r["start_s"]), [0.0, 0, 0, 0])
        w[0] += r["distance_mm"] / 1e6
        w[1] += r["alerts_caution"] + r["alerts_warning"] + r["alerts_stop"]
        w[2] += r["stumbles"] + r["falls"]
        w[3] += 1
    first, last = min(weeks), max(weeks)
    out = []
    monday = first
    while monday <= last:
        out.append((monday, *weeks.get(monday, (0.0, 0, 0, 0))))
        monday += datetime.timedelta(days=7)
    return out


def trend_figure(rows):
    weeks = weekly(rows)
    undated = sum(1 for r in rows if r["start_s"] is None)
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    days = [datetime.datetime.combine(w[0], datetime.time()) for w in weeks]
    km = [w[1] for w in weeks]
    per_km = [w[2] / w[1] if w[1] > 0 else math.nan for w in weeks]
    falls = [w[3] for w in weeks]
    axes[0].bar(days, km, width=6, align="edge", color="#1f77b4")
    axes[0].set_ylabel("distance (km)")
    top = max(km + [0]) * 1.15 or 1
    for day, week in zip(days, weeks):
        axes[0].text(day + datetime.timedelta(days=3), week[1] + top * 0.02,
                     "%d run%s" % (week[4], "" if week[4] == 1 else "s") if week[4] else "no runs",
                     ha="center", va="bottom", fontsize=8, color="#444")
    axes[1].plot([d + datetime.timedelta(days=3) for d in days], per_km, "o-", color="#d62728")
    axes[1].set_ylabel("alerts per km")
    axes[2].bar(days, falls, width=6, align="edge", color="#ff7f0e")
    axes[2].set_ylabel("stumbles + falls")
    axes[2].yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax, values in zip(axes, (km, per_km, falls)):
        real = [v for v in values if not math.isnan(v)]
        ax.set_ylim(0, max(real + [0]) * 1.15 or 1)  # from 0; an all-zero axis still reads 0..1
        ax.grid(axis="y", alpha=0.3)
    axes[2].xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO,
                                                           interval=max(1, len(weeks) // 10)))
    axes[2].xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    axes[2].set_xlabel("week starting Monday" + (", %s to %s" % (weeks[0][0].strftime("%b %Y"), weeks[-1][0].strftime("%b %Y"))
                                                 if weeks else ""))
    if days:
        axes[2].set_xlim(days[0] - datetime.timedelta(days=1), days[-1] + datetime.timedelta(days=8))
    else:
        axes[0].text(0.5, 0.5, "no dated runs", transform=axes[0].transAxes, ha="center")
    axes[0].set_title(_trend_title(rows, weeks, undated), fontsize=11)
    fig.tight_layout()
    return fig


def _trend_title(rows, weeks, undated):
    names = sorted({r["athlete"] or r["device"] for r in rows})
    who = ", ".join(names[:3]) + (" and %d more" % (len(names) - 3) if len(names) > 3 else "")
    runs = sum(w[4] for w in weeks)
    text = "%s: %d run(s), %.1f km over %d week(s)" % (who or "no runs", runs, sum(w[1] for w in weeks),
                                                        len(weeks))
    if undated:
        text += "\n%d undated run(s) not shown (recorded before the clip's clock was set)" % undated
    return text
