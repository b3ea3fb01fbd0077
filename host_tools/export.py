"""Sessions as text: CSV and JSON exports, the `show` description with pace
and the track's highlights, and the small formatting helpers the tables use.

    to_csv(rows) / to_json(rows, events_of)      # one session a row
    events_csv(rows, events_of) / events_json(...)   # one event a row
    describe(row, events, samples)               # `rearguard show`

Times shown are local; exports carry UTC (ISO 8601). "None" is an empty
cell in CSV and null in JSON, never -1.
"""

import csv
import datetime
import io
import json

from host_tools import track
from host_tools.pull import battery_used_text
from rearguard import sessionfile

FLAG_WORDS = ((sessionfile.FLAG_RECOVERED, "recovered"), (sessionfile.FLAG_CLOCK_KNOWN, "clock_known"),
              (sessionfile.FLAG_LOW_STORAGE, "flash_full"), (sessionfile.FLAG_CHECKPOINT, "checkpoint"))
_NONE_IF_NEGATIVE = ("closest_mm", "min_ttc_ms")
_FIRST = ("session", "clip", "athlete", "start_utc", "dated", "duration_s", "moving_s",
          "distance_km", "pace_s_per_km", "speed_km_h")
CSV_COLUMNS = _FIRST + sessionfile.summary_names() + ("firmware", "board")
EVENT_COLUMNS = ("session", "clip", "athlete", "session_start_utc", "t_s", "time_utc", "kind", "level")


# --- small texts ---------------------------------------------------------------
def local_time(unix_s, fmt="%Y-%m-%d %H:%M"):
    return datetime.datetime.fromtimestamp(unix_s).strftime(fmt)


def utc_iso(unix_s):
    return datetime.datetime.fromtimestamp(unix_s, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_text(row, short=False):
    if row["start_s"] is not None:
        return local_time(row["start_s"]) + (" (from uptime)" if row["dated"] == "uptime" and not short else "")
    if short:
        return "undated, boot %d" % row["boot"]
    return "undated (boot %d +%s)" % (row["boot"], duration_text(row["start_uptime_ms"]))


def distance_text(mm):
    """Metres for a short run, kilometres from 1 km: '850 m', '5.25 km'."""
    return "%d m" % round(mm / 1000) if mm < 1_000_000 else "%.2f km" % (mm / 1e6)


def duration_text(ms):
    s = max(0, ms) // 1000
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%d:%02d" % (s // 60, s % 60)


def pace_s_per_km(distance_mm, ms):
    """Seconds per kilometre, None under 10 m (no pace worth the name)."""
    return round(ms / distance_mm * 1000) if distance_mm >= 10_000 and ms > 0 else None


def pace_text(distance_mm, ms):
    pace = pace_s_per_km(distance_mm, ms)
    return "-" if pace is None else "%d:%02d /km" % (pace // 60, pace % 60)


def speed_km_h(distance_mm, ms):
    return round(distance_mm / ms * 3.6, 2) if ms > 0 else None


def flag_words(flags):
    return [word for bit, word in FLAG_WORDS if flags & bit]


# --- exports ---------------------------------------------------------------------
def session_record(r):
    """One session as plain values: None for "none", flags as words."""
    out = {"session": r["ref"], "clip": r["device"], "athlete": r["athlete"],
           "start_utc": utc_iso(r["start_s"]) if r["start_s"] is not None else None,
           "dated": r["dated"], "duration_s": r["duration_ms"] / 1000, "moving_s": r["moving_ms"] / 1000,
           "distance_km": round(r["distance_mm"] / 1e6, 3),
           "pace_s_per_km": pace_s_per_km(r["distance_mm"], r["moving_ms"]),
           "speed_km_h": speed_km_h(r["distance_mm"], r["moving_ms"])}
    for name in sessionfile.summary_names():
        value = r[name]
        if name in _NONE_IF_NEGATIVE and value < 0:
            value = None
        elif name == "start_unix_s" and not r["clock_known"]:
            value = None
        elif name == "flags":
            value = flag_words(value)
        out[name] = value
    out["firmware"], out["board"] = r["firmware"], r["board"]
    return out


def _csv(columns, records):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for rec in records:
        w.writerow(["" if rec[c] is None else " ".join(rec[c]) if isinstance(rec[c], list) else rec[c]
                    for c in columns])
    return out.getvalue()


def to_csv(rows):
    return _csv(CSV_COLUMNS, [session_record(r) for r in rows])


def to_json(rows, events_of):
    out = []
    for r in rows:
        rec = session_record(r)
        rec["events"] = events_of(r)
        out.append(rec)
    return json.dumps(out, indent=1) + "\n"


def event_records(rows, events_of):
    for r in rows:
        for e in events_of(r):
            yield {"session": r["ref"], "clip": r["device"], "athlete": r["athlete"],
                   "session_start_utc": utc_iso(r["start_s"]) if r["start_s"] is not None else None,
                   "t_s": e["t_ms"] / 1000,
                   "time_utc": utc_iso(r["start_s"] + e["t_ms"] // 1000) if r["start_s"] is not None else None,
                   "kind": e["kind"], "level": e["level"] or None}


def events_csv(rows, events_of):
    return _csv(EVENT_COLUMNS, event_records(rows, events_of))


def events_json(rows, events_of):
    return json.dumps(list(event_records(rows, events_of)), indent=1) + "\n"


# --- `rearguard show` --------------------------------------------------------------
def describe(r, events, samples):
    lines = [
        "%s%s (clip %s, %s, firmware %s)%s" % (
            r["ref"], " - %s" % r["athlete"] if r["athlete"] else "", r["device"], r["board"], r["firmware"],
            "  [recovered after a power cut]" if r["recovered"] else ""),
        "  start      %s" % start_text(r),
        "  time       %s on feet, %s in the session (pauses left out)" % (
            duration_text(r["moving_ms"]), duration_text(r["duration_ms"])),
        "  distance   %s, pace %s (%s km/h) while moving" % (
            distance_text(r["distance_mm"]), pace_text(r["distance_mm"], r["moving_ms"]),
            "%.1f" % speed_km_h(r["distance_mm"], r["moving_ms"]) if r["moving_ms"] else "-"),
        "  steps      %d, cadence %d spm" % (r["steps"], r["cadence_spm"]),
        "  alerts     caution %d, warning %d, stop %d" % (r["alerts_caution"], r["alerts_warning"], r["alerts_stop"]),
        "  closest    %s, minimum TTC %s" % ("-" if r["closest_mm"] < 0 else "%d mm" % r["closest_mm"],
                                             "-" if r["min_ttc_ms"] < 0 else "%d ms" % r["min_ttc_ms"]),
        "  balance    %d stumble(s), %d fall(s)" % (r["stumbles"], r["falls"]),
        "  sensor     blind %s, too fast %s, valid range %.1f%% of the time" % (
            duration_text(r["blind_ms"]), duration_text(r["too_fast_ms"]), r["valid_range_pm"] / 10),
        "  battery    %s" % battery_used_text(r["battery_start_mv"], r["battery_end_mv"]),
    ]
    lines += highlights(samples)
    lines.append("  events     %d%s" % (len(events), " (%d more not kept)" % r["events_dropped"]
                                        if r["events_dropped"] else ""))
    for e in events:
        lines.append("    %9s  %s%s" % (clock_text(e["t_ms"] // 1000), e["kind"], " " + e["level"] if e["level"] else ""))
    return "\n".join(lines)


def clock_text(s):
    """Time into the run: '12:05', '1:02:05'."""
    return duration_text(s * 1000)


def _longest(spans):
    return max(spans, key=lambda sp: sp[1] - sp[0])


def highlights(samples):
    """The track, told in a few lines (empty: the session has no track)."""
    if not samples:
        return ["  track      none (recorded before firmware with tracks)"]
    lines = ["  track      %s, one sample a second" % clock_text(len(samples))]
    best = best_minute(samples)
    if best:
        start, speed = best
        lines.append("  fastest    minute from %s: %.1f km/h (%s)" % (
            clock_text(start), speed * 3.6 / 1000, pace_text(speed * 60, 60_000)))
    alerted = track.spans(samples, lambda s: s.level > 0)
    if alerted:
        seconds = [sum(1 for s in samples if s.level == level) for level in (1, 2, 3)]
        lines.append("  alert time caution %s, warning %s, stop %s; %d alert(s), the first at %s" % (
            *(clock_text(n) for n in seconds), len(alerted), clock_text(alerted[0][0])))
    for flag, name in (("too_fast", "too fast"), ("blind", "blind")):
        at = track.spans(samples, flag)
        if at:
            a, b = _longest(at)
            lines.append("  %-10s %d span(s), longest %s from %s" % (name, len(at), clock_text(b - a), clock_text(a)))
    seen = [s for s in samples if s.range_mm is not None]
    if seen:
        near = min(seen, key=lambda s: s.range_mm)
        lines.append("  nearest    %.2f m behind at %s" % (near.range_mm / 1000, clock_text(near.t_s)))
    return lines


def best_minute(samples, window=60):
    """(start second, mean mm/s) of the fastest `window` seconds, or None if shorter."""
    if len(samples) < window:
        return None
    total = sum(s.speed_mm_s for s in samples[:window])
    best = (0, total)
    for i in range(window, len(samples)):
        total += samples[i].speed_mm_s - samples[i - window].speed_mm_s
        if total > best[1]:
            best = (i - window + 1, total)
    return best[0], best[1] // window
