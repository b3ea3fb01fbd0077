"""Sessions as text: CSV and the `show` description, and the small formatting
helpers the table uses.

    to_csv(db.sessions()) -> "device,session_id,...\\n..."
"""

import csv
import io
import time

from rearguard import sessionfile

CSV_COLUMNS = ("device",) + sessionfile.summary_names() + ("firmware", "board", "recovered", "start_utc")


def start_text(row):
    if row["clock_known"] and row["start_unix_s"]:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(row["start_unix_s"]))
    return "unknown (boot %d +%s)" % (row["boot"], duration_text(row["start_uptime_ms"]))


def distance_text(mm):
    """Metres for a short run, kilometres from 1 km: '850 m', '5.25 km'."""
    return "%d m" % round(mm / 1000) if mm < 1_000_000 else "%.2f km" % (mm / 1e6)


def duration_text(ms):
    s = max(0, ms) // 1000
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%d:%02d" % (s // 60, s % 60)


def to_csv(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["start_unix_s"])) if r["clock_known"] else ""
        w.writerow([r.get(c, start) if c != "start_utc" else start for c in CSV_COLUMNS])
    return out.getvalue()


def describe(r, events):
    lines = [
        "session %d from clip %s (%s, firmware %s)%s" % (r["session_id"], r["device"], r["board"],
                                                          r["firmware"], "  [recovered after a power cut]" if r["recovered"] else ""),
        "  start      %s" % start_text(r),
        "  duration   %s (moving %s)" % (duration_text(r["duration_ms"]), duration_text(r["moving_ms"])),
        "  distance   %s, %d steps, cadence %d spm" % (distance_text(r["distance_mm"]), r["steps"], r["cadence_spm"]),
        "  alerts     caution %d, warning %d, stop %d" % (r["alerts_caution"], r["alerts_warning"], r["alerts_stop"]),
        "  closest    %s, minimum TTC %s" % ("-" if r["closest_mm"] < 0 else "%d mm" % r["closest_mm"],
                                             "-" if r["min_ttc_ms"] < 0 else "%d ms" % r["min_ttc_ms"]),
        "  balance    %d stumble(s), %d fall(s)" % (r["stumbles"], r["falls"]),
        "  sensor     blind %s, too fast %s, valid range %.1f%% of the time" % (
            duration_text(r["blind_ms"]), duration_text(r["too_fast_ms"]), r["valid_range_pm"] / 10),
        "  battery    %d -> %d mV" % (r["battery_start_mv"], r["battery_end_mv"]),
        "  events     %d%s" % (len(events), " (%d more not kept)" % r["events_dropped"] if r["events_dropped"] else ""),
    ]
    for e in events:
        lines.append("    %9.1f s  %s%s" % (e["t_ms"] / 1000, e["kind"], " " + e["level"] if e["level"] else ""))
    return "\n".join(lines)
