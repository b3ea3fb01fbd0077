"""What a coach reads: the run plot (alert levels, too fast and blind as spans,
range and speed from 0, start and end marked), the trend plot (weeks on a
true time axis, empty weeks kept, axes from 0, undated runs in no week), and
the exports a spreadsheet opens (format from --format or the extension, empty
cells for "none", flags as words, events)."""

import csv
import datetime
import io
import json

import matplotlib.dates as mdates
import pytest

from host_tools import cli, plots
from host_tools.db import SessionDB
from host_tools.link import DeviceLink
from host_tools.pull import pull
from host_tools.track import Sample
from sim.flash import VirtualFlash
from sim.pty import LoopbackDevice

MONDAY = int(datetime.datetime(2024, 5, 6, 8, 0).timestamp())  # local time, as plotted
WEEK = 7 * 86_400


def row(start_s=None, distance_mm=5_000_000, alerts=(0, 0, 0), stumbles=0, falls=0, athlete="Ana",
        pulled_unix_s=None):
    return {"ref": "Ana/1", "athlete": athlete, "device": "240ac4000001", "start_s": start_s,
            "dated": "clock" if start_s else None, "boot": 3, "start_uptime_ms": 60_000,
            "distance_mm": distance_mm, "moving_ms": 1_800_000, "duration_ms": 1_900_000,
            "alerts_caution": alerts[0], "alerts_warning": alerts[1], "alerts_stop": alerts[2],
            "stumbles": stumbles, "falls": falls, "pulled_unix_s": pulled_unix_s or MONDAY}


def sample(t, level=0, too_fast=False, blind=False, paused=False, range_mm=None, speed=2500):
    return Sample(t, 0 if paused else speed, 170, range_mm, level, too_fast, blind, paused)


def a_run():
    samples = [sample(t, too_fast=10 <= t < 20, blind=30 <= t < 33, paused=t >= 50,
                      level=1 if 40 <= t < 42 else 3 if 42 <= t < 44 else 0,
                      range_mm=3000 - 200 * (t - 38) if 38 <= t < 45 else None) for t in range(60)]
    events = [{"t_ms": 0, "kind": "session_start", "level": ""}, {"t_ms": 10_100, "kind": "too_fast", "level": ""},
              {"t_ms": 36_000, "kind": "stumble", "level": ""}, {"t_ms": 62_000, "kind": "session_end", "level": ""}]
    return samples, events


def spans_drawn(collection):
    """(start, end) of each bar of a broken_barh collection, rounded."""
    out = []
    for path in collection.get_paths():
        xs = path.vertices[:, 0]
        out.append((round(xs.min()), round(xs.max())))
    return sorted(set(out))


def test_the_run_plot_shows_alert_levels_and_states_as_spans_range_and_speed_from_0():
    samples, events = a_run()
    fig = plots.timeline_figure(dict(row(MONDAY), duration_ms=50_000), events, samples)
    ax_range, ax_state, ax_speed = fig.axes[:3]
    # alert levels: shaded spans over the range plot, one colour per level, with a legend entry each
    shaded = sorted((round(p.get_x()), round(p.get_x() + p.get_width()), p.get_facecolor()[:3])
                    for p in ax_range.patches)
    colour = {name: matplotlib_rgb(c) for _l, name, c in plots.LEVELS}
    assert shaded == [(40, 42, colour["caution"]), (42, 44, colour["stop"])]
    legend = [t.get_text() for t in ax_range.get_legend().get_texts()]
    assert {"alert: caution", "alert: warning", "alert: stop"} <= set(legend)
    # too fast, blind and paused: spans on their own rows, not points
    rows = [t.get_text() for t in ax_state.get_yticklabels()]
    assert rows[:3] == ["too fast", "sensor blind", "paused"]
    bars = ax_state.collections[:3]
    assert [spans_drawn(b) for b in bars] == [[(10, 20)], [(30, 33)], [(50, 60)]]
    assert "stumble" in [t.get_text() for t in ax_state.get_legend().get_texts()]
    # range and speed start at 0; the start and the end of the session are marked
    assert ax_range.get_ylim()[0] == 0 and ax_speed.get_ylim()[0] == 0
    assert max(line.get_ydata()[0] for line in ax_speed.lines if line.get_label() == "speed") == 9.0
    marks = sorted({line.get_xdata()[0] for line in ax_speed.lines if line.get_linestyle() == "--"})
    assert marks == [0, 62.0]  # the session's end event, after the last whole second of track
    plots.plt.close(fig)


def matplotlib_rgb(colour):
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def test_the_trend_plot_has_true_weeks_empty_ones_kept_axes_from_0_and_no_undated_runs():
    rows = [row(MONDAY, 4_000_000), row(MONDAY + 2 * 86_400, 6_000_000),  # week of May 6
            row(MONDAY + 2 * WEEK + 3600, 5_000_000, stumbles=1),  # May 20; the week of May 13 is empty
            row(None, 7_000_000, pulled_unix_s=MONDAY + 4 * WEEK)]  # undated, pulled on June 3
    weeks = plots.weekly(rows)
    assert [(w[0].isoformat(), round(w[1], 1), w[4]) for w in weeks] == [
        ("2024-05-06", 10.0, 2), ("2024-05-13", 0.0, 0), ("2024-05-20", 5.0, 1)]  # no week of June 3
    fig = plots.trend_figure(rows)
    ax_km, ax_alerts, ax_falls = fig.axes
    bars = sorted((mdates.num2date(p.get_x()).date().isoformat(), round(p.get_height(), 1)) for p in ax_km.patches)
    assert bars == [("2024-05-06", 10.0), ("2024-05-13", 0.0), ("2024-05-20", 5.0)]
    assert isinstance(ax_falls.xaxis.get_major_formatter(), mdates.DateFormatter)  # a time axis
    assert all(ax.get_ylim()[0] == 0 for ax in fig.axes)
    assert ax_alerts.get_ylim() == (0, 1)  # no alerts at all: 0..1, not -0.04..0.04
    assert "1 undated run(s) not shown" in ax_km.get_title()
    plots.plt.close(fig)


def test_the_trend_plot_alerts_per_km_axis_starts_at_0():
    rows = [row(MONDAY, 4_000_000, alerts=(6, 2, 0)), row(MONDAY + WEEK, 5_000_000, alerts=(5, 0, 0))]
    fig = plots.trend_figure(rows)
    low, high = fig.axes[1].get_ylim()
    assert low == 0 and high >= 2.0  # 2 and 1 alerts per km, drawn from 0
    plots.plt.close(fig)


# --- exports ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    """Two runs on a clip: one dated by the clock the host set, one without a range."""
    path = tmp_path_factory.mktemp("review") / "s.db"
    flash = VirtualFlash()
    for set_clock in (False, True):  # two boots: the first run cannot be dated
        dev = LoopbackDevice(flash, unique_id=bytes.fromhex("240ac4000001"))
        try:
            if set_clock:
                DeviceLink(dev.port, timeout_s=1.0).set_time(MONDAY)
            dev.app.session_control.keep_active(dev.vb.clock.ticks_ms())
            dev.app.events.emit(dev.vb.clock.ticks_ms(), 4)  # a stumble
            dev.step(500)
            dev.app.session.stop(dev.vb.clock.ticks_ms())
            if set_clock:
                pull(DeviceLink(dev.port, timeout_s=1.0), SessionDB.open(str(path)))
        finally:
            dev.close()
    return path


def export(db_path, tmp_path, *argv):
    assert cli.main(["--db", str(db_path), "export", *argv]) == 0
    return tmp_path


@pytest.mark.parametrize("argv, kind", [
    (["--out", "runs.json"], "json"), (["--out", "runs.csv"], "csv"), (["--out", "runs.txt"], "csv"),
    (["--format", "json", "--out", "runs.csv"], "json"), (["--format", "csv", "--out", "runs.json"], "csv"),
])
def test_the_export_format_follows_format_else_the_extension(db_path, tmp_path, monkeypatch, argv, kind):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--db", str(db_path), "export", *argv]) == 0
    text = (tmp_path / argv[-1]).read_text()
    assert text.startswith("[") if kind == "json" else text.startswith("session,clip,athlete,start_utc")


def test_csv_has_empty_cells_for_none_and_flags_as_words(db_path, capsys):
    assert cli.main(["--db", str(db_path), "export"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["session"] for r in rows] == ["240ac4000001/2", "240ac4000001/1"]  # dated first
    dated, undated = rows
    assert dated["start_utc"] == datetime.datetime.fromtimestamp(MONDAY, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert dated["flags"] == "clock_known" and dated["dated"] == "clock"
    assert undated["start_utc"] == undated["start_unix_s"] == ""  # undated: empty, not 0
    for r in rows:
        assert r["closest_mm"] == r["min_ttc_ms"] == ""  # nothing was behind: empty, not -1
        assert "-1" not in r.values()
        float(r["distance_km"])  # numbers a spreadsheet sums


def test_json_has_null_for_none_and_flag_lists(db_path, capsys):
    assert cli.main(["--db", str(db_path), "export", "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)[0]
    assert first["closest_mm"] is None and first["flags"] == ["clock_known"]
    kinds = [e["kind"] for e in first["events"]]
    assert kinds[:2] == ["session_start", "stumble"] and kinds[-1] == "session_end"


def test_events_export_one_row_per_event(db_path, capsys):
    assert cli.main(["--db", str(db_path), "export", "--events"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["session"], r["kind"]) for r in rows][:2] == [
        ("240ac4000001/2", "session_start"), ("240ac4000001/2", "stumble")]
    assert {r["session"] for r in rows if r["kind"] == "session_end"} == {"240ac4000001/1", "240ac4000001/2"}
    assert all(r["level"] == "" for r in rows)  # none of these has a level: empty, not 0
    assert rows[0]["time_utc"] == rows[0]["session_start_utc"] != ""
    assert cli.main(["--db", str(db_path), "export", "--events", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(rows)
