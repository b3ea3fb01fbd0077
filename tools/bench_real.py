"""Balance figures on real waist recordings (SisFall development split,
Sucerquia et al. 2017: four subjects, every activity and fall), each one
leave-one-subject-out: the stumble thresholds are fitted on three subjects and
measured on the fourth, in turn. Every trial is replayed through the whole
firmware on the virtual board (`sim replay --active`: IMU chip model, driver,
body monitor, session), as a recording would be on the clip.

    figures()     # {"real_false_balance_per_hour": ..., "real_fall_recall": ..., ...}
    .venv/bin/python -m tools.bench_real                     # the table, then the figures
    .venv/bin/python -m tools.bench_real --firmware-rev REV  # another revision's firmware, as is

The per-activity table goes to stderr (make bench's last line stays JSON).
Without the recordings the figures are one line saying why (tools/sisfall.py).

The fit (docs/balance.md): pass 1 replays every trial with stumbles turned
off and keeps, per trial, the highest turn and jolt scores the detector
judged. For each held-out subject, each threshold is set 15 % above the
highest score walking, jogging, stairs and jumps (D01-D06, D19) reached in
the three other subjects: quiet first. (Sitting, lying and bending, D07-D16,
are not judged: no gait. D17, getting into a car, is reported, not fitted.) Pass 2 replays the held-out
subject's trials with those thresholds; the figures are counted from them.
"""

import argparse
import concurrent.futures
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

from tools import sisfall

WORKERS = 2
QUIET = ("D01", "D02", "D03", "D04")  # walking and jogging
STAIRS_JUMPS = ("D05", "D06", "D19")
FALLS = tuple("F%02d" % i for i in range(1, 16))
BACKWARD = ("F02",)
STUMBLE = ("D18",)
LEAD = ("F01", "F02", "F03", "F04", "F05")  # falls from walking and jogging
FIT_QUIET = QUIET + STAIRS_JUMPS  # the locomotion a stumble is judged in
GUARD_PCT = 115
TURN_MIN_MDEG = 6000  # the fit never goes below these (a near-empty training set)
JOLT_MIN_PCT = 150
OFF = 1 << 29  # a threshold no score reaches: stumbles off (pass 1)


def _replay(job):
    """One trial through the firmware. job = (path, turn, jolt, probe, firmware dir or None).
    Returns {"events": [(t_ms, kind)], "turn": max score, "jolt": max score}."""
    path, turn, jolt, probe, firmware = job
    from sim import loader, scenario, trace

    if firmware:
        loader.FIRMWARE = firmware
    seen = {"turn": -OFF, "jolt": 0}
    original = scenario.Recorder.on_boot

    def on_boot(self, app):
        original(self, app)
        bal = app.body.balance
        if turn is not None:  # None: the firmware's own thresholds
            bal.turn_margin_mdeg = turn
            bal.jolt_pct = jolt
        if probe:
            update = bal.update

            def watched(now_ms, dt_ms, imu, att, gait):
                update(now_ms, dt_ms, imu, att, gait)
                seen["turn"] = max(seen["turn"], bal.turn_score)
                seen["jolt"] = max(seen["jolt"], bal.jolt_score)

            bal.update = watched

    scenario.Recorder.on_boot = on_boot
    try:
        out = trace.replay(path, active=True)
    finally:
        scenario.Recorder.on_boot = original
    events = [(e["t_ms"], e["kind"]) for e in out["events"] if e["kind"] in ("stumble", "fall")]
    return {"events": events, "turn": seen["turn"], "jolt": seen["jolt"]}


def _run(jobs):
    with concurrent.futures.ProcessPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(_replay, jobs, chunksize=4))


def fit(recs, probes, subjects):
    """(turn margin mdeg, jolt pct): GUARD_PCT of the highest score the quiet
    activities of `subjects` reached, never below the floors."""
    turn = TURN_MIN_MDEG
    jolt = JOLT_MIN_PCT
    for rec, p in zip(recs, probes):
        if rec.subject in subjects and rec.code in FIT_QUIET:
            turn = max(turn, -(-p["turn"] * GUARD_PCT // 100))
            jolt = max(jolt, -(-p["jolt"] * GUARD_PCT // 100))
    return turn, jolt


def loso(recs, firmware=None):
    """Pass 1, the fits, pass 2: ({path: events}, {subject: (turn, jolt)}, shipped fit)."""
    quiet = [r for r in recs if r.code in FIT_QUIET]
    probes = _run([(r.path, OFF, OFF, True, firmware) for r in quiet])
    fits = {s: fit(quiet, probes, [o for o in sisfall.SUBJECTS if o != s])
            for s in sisfall.SUBJECTS}
    jobs = [(r.path,) + fits[r.subject] + (False, firmware) for r in recs]
    events = {r.path: out["events"] for r, out in zip(recs, _run(jobs))}
    return events, fits, fit(quiet, probes, sisfall.SUBJECTS)


def as_is(recs, firmware=None):
    """Every trial with the firmware's own thresholds (no fit): {path: events}."""
    jobs = [(r.path, None, None, False, firmware) for r in recs]
    return {r.path: out["events"] for r, out in zip(recs, _run(jobs))}


def _kinds(events, kind):
    return [t for t, k in events if k == kind]


def per_activity(recs, events):
    """{code: [files, hours, stumble events, fall events, files with any]}."""
    rows = {}
    for r in recs:
        row = rows.setdefault(r.code, [0, 0.0, 0, 0, 0])
        ev = events[r.path]
        row[0] += 1
        row[1] += sisfall.duration_s(r.path) / 3600.0
        row[2] += len(_kinds(ev, "stumble"))
        row[3] += len(_kinds(ev, "fall"))
        row[4] += 1 if ev else 0
    return rows


def lead_ms(recs, events):
    """Median ms from the first balance alert to the impact peak, falls from walking and
    jogging (an alert after the peak counts negative; a fall without any alert is left out)."""
    leads = []
    for r in recs:
        if r.code in LEAD and events[r.path]:
            leads.append(sisfall.impact_ms(r.path) - events[r.path][0][0])
    leads.sort()
    if not leads:
        return None
    mid = len(leads) // 2
    return leads[mid] if len(leads) % 2 else (leads[mid - 1] + leads[mid]) / 2


def summarise(recs, events):
    rows = per_activity(recs, events)

    def per_hour(codes):
        hours = sum(rows[c][1] for c in codes if c in rows)
        count = sum(rows[c][2] + rows[c][3] for c in codes if c in rows)
        return round(count / hours, 2) if hours else None

    def recall(codes, kinds):
        trials = [r for r in recs if r.code in codes]
        hit = sum(1 for r in trials if any(k in kinds for _t, k in events[r.path]))
        return round(hit / len(trials), 3) if trials else None

    return {
        "real_false_balance_per_hour": per_hour(QUIET),
        "real_false_balance_per_hour_stairs_jumps": per_hour(STAIRS_JUMPS),
        "real_fall_recall": recall(FALLS, ("fall",)),
        "real_backward_fall_recall": recall(BACKWARD, ("fall",)),
        "real_stumble_recall": recall(STUMBLE, ("stumble", "fall")),
        "real_stumble_fall_events": sum(rows[c][3] for c in STUMBLE if c in rows),
        "real_prefall_lead_ms": lead_ms(recs, events),
        "real_hours": round(sum(row[1] for row in rows.values()), 2),
    }


def table(recs, events):
    rows = per_activity(recs, events)
    lines = ["%-4s %-40s %5s %6s %8s %6s %9s" % ("code", "activity", "files", "hours",
                                                   "stumbles", "falls", "per hour")]
    for code in sorted(rows):
        files, hours, stumbles, falls, _any = rows[code]
        lines.append("%-4s %-40s %5d %6.3f %8d %6d %9.1f" % (
            code, sisfall.ACTIVITIES.get(code, "")[:40], files, hours, stumbles, falls,
            (stumbles + falls) / hours if hours else math.nan))
    return "\n".join(lines)


def figures():
    reason = sisfall.absent_reason()
    if reason:
        return {"real_data": reason}
    recs = sisfall.recordings()
    events, fits, shipped = loso(recs)
    print("real recordings, leave-one-subject-out (SisFall, Sucerquia et al. 2017):",
          file=sys.stderr)
    print(table(recs, events), file=sys.stderr)
    out = summarise(recs, events)
    out["real_fit_turn_margin_mdeg"] = " ".join("%s:%d" % (s, fits[s][0]) for s in sorted(fits))
    out["real_fit_jolt_pct"] = " ".join("%s:%d" % (s, fits[s][1]) for s in sorted(fits))
    out["real_fit_all_subjects"] = "turn %d mdeg, jolt %d %%" % shipped
    return out


def _firmware_at(rev, into):
    """Export firmware/ of a git revision into a scratch directory; returns its path."""
    tar = subprocess.run(["git", "-C", sisfall.REPO, "archive", rev, "firmware"],
                         check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=tar, check=True)
    return os.path.join(into, "firmware")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.bench_real", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--firmware-rev", help="replay with this git revision's firmware, "
                        "thresholds as shipped there (no fit): the detector before a change")
    args = parser.parse_args(argv)
    reason = sisfall.absent_reason()
    if reason:
        print(reason)
        return 1
    recs = sisfall.recordings()
    if args.firmware_rev:
        scratch = tempfile.mkdtemp(prefix="rearguard-fw-")
        try:
            events = as_is(recs, _firmware_at(args.firmware_rev, scratch))
        finally:
            shutil.rmtree(scratch)
        print("firmware of %s, as shipped (no fit):" % args.firmware_rev)
        out = summarise(recs, events)
    else:
        events, fits, shipped = loso(recs)
        print("leave-one-subject-out; fits per held-out subject (turn mdeg, jolt %%): %s; "
              "all four: %s" % (fits, shipped))
        out = summarise(recs, events)
    print(table(recs, events))
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
