"""Obstacle figures for `make bench`: every shipped scenario (sim/scenarios/*.json)
run through the unchanged firmware on the virtual board, scored against the
simulator's ground truth, over several seeds: the shipped world first, then
worlds randomised the way real ones vary (mount tilt and height, the runner's
stride, reflectances, light, how much of the window mud covers; the athlete
profile left at its defaults), so each figure is a spread: `_worst` and
`_median` over the runs.

    figures()        # {"lead_ratio_min": 0.93, "false_alerts": 0, ...}
    .venv/bin/python -m tools.bench_obstacle [SCENARIO.json ...]   # the per-scenario table

Per collision-course obstacle: lead ratio = lead_ms / available_lead_ms (first
alert vs the moment the obstacle was knowable: its first valid sighting, the
next measurement for one that moves once it closes in; both before contact in the no-reaction
run; docs/scenarios.md, "Metrics"). The ratio's denominator follows the sensor
settings the firmware chose, so `lead_total_s` (every collision-course
obstacle's lead, summed) and `collisions` (all, avoidable or not) stand beside
it: a change that sees less can raise the ratio and shorten the lead.
blind_latency_ms: from an `unplug` or `covered` fault to the first BLIND event;
recovery_ms: from the end of that fault to the end of "blind". too_fast_ms: from
the first moment at running pace (>= 2 m/s) in strong sun to the first TOO_FAST
event (negative: it fired while the runner was still speeding up). Definitions
of the other figures: docs/obstacle.md, "Figures". The table goes to stderr,
so `make bench`'s last line stays JSON.
"""

import concurrent.futures
import json
import os
import random
import statistics
import sys

from sim import scenario
from sim.world import profile_value

LONG_ENV = "REARGUARD_BENCH_LONG"  # set to 0 to skip scenarios marked "long"
SEEDS_ENV = "REARGUARD_BENCH_SEEDS"
SEEDS = 5  # runs per scenario: the shipped world, then randomised ones
STRONG_SUN = 200.0
SUN = 150.0  # randomised light: "sun" from here up
RUNNING_PACE_MM_S = 2000
# What the bench varies between seeds (docs/obstacle.md, "Figures")
TILT_DEG = (0.0, 14.0)  # the clip's beam pitched down on the belt
MOUNT_MM = (800, 1150)  # the clip's real height; the profile keeps saying 1000
STEP_SCATTER = (0.88, 1.12)  # a runner's step against the population's at that speed
REFLECTANCE_SCATTER = (0.7, 1.3)
LIGHT_SCATTER = (0.8, 1.25)
PARTIAL_COVER = (0.1, 0.9)  # how much of the window mud covers (a partial cover's share)


def backward_step_mm(speed_mm_s):
    """A backward runner's step at this speed (the population's: step ~ v^0.6,
    900 mm at 3 m/s; docs/obstacle.md, "Speed"). Independent of the firmware's
    own cadence relation."""
    return 465.0 * (speed_mm_s / 1000.0) ** 0.6


def variant(spec, k):
    """Run k of a scenario: k = 0 as shipped, else a randomised world (checked)."""
    if k == 0:
        return spec
    rnd = random.Random("%s/%d" % (spec["name"], k))
    out = json.loads(json.dumps(spec))
    runner = out["runner"]
    tilt = rnd.uniform(*TILT_DEG)
    runner["pitch_deg"] = runner.get("pitch_deg", 0) + tilt
    if "pitch_profile" in runner:
        runner["pitch_profile"] = [[t, p + tilt] for t, p in runner["pitch_profile"]]
    runner["mount_height_mm"] = rnd.uniform(*MOUNT_MM)
    scatter = rnd.uniform(*STEP_SCATTER)
    if runner.get("gait") == "walk":
        c = runner["cadence_spm"]
        runner["cadence_spm"] = c * scatter if isinstance(c, (int, float)) else [
            [t, v * scatter] for t, v in c]
    else:
        runner["cadence_spm"] = [[t, round(60.0 * max(v, 1000) / (backward_step_mm(max(v, 1000))
                                                                  * scatter), 1)]
                                 for t, v in runner["speed"]]
    out.get("profile", {}).pop("stride_mm", None)
    for ob in out["obstacles"]:
        ob["reflectance"] = min(0.95, max(0.05, ob["reflectance"] * rnd.uniform(*REFLECTANCE_SCATTER)))
    ground = out["ground"]
    ground["reflectance"] = min(0.9, ground.get("reflectance", 0.3) * rnd.uniform(*REFLECTANCE_SCATTER))
    light = rnd.uniform(*LIGHT_SCATTER)
    out["ambient"] = [[t, a * light] for t, a in out["ambient"]]
    for fault in out.get("faults", []):
        if fault["kind"] == "covered" and fault.get("cover", 1.0) < 1.0:
            fault["cover"] = round(rnd.uniform(*PARTIAL_COVER), 2)
    out["seed"] = spec["seed"] + 1000 * k
    return scenario.check(out, "%s (seed run %d)" % (spec["name"], k))


def _watch(recorder_cls, blind_log):
    """Record the monitor's blind state changes (t_ms, blind) through the boot hook."""
    original = recorder_cls.on_boot

    def on_boot(self, app):
        original(self, app)
        monitor = app.obstacle
        update = monitor.update
        state = [None]

        def watched(now_ms, tof, new_sample, body):
            update(now_ms, tof, new_sample, body)
            if monitor.blind != state[0]:
                state[0] = monitor.blind
                blind_log.append((now_ms, monitor.blind))

        monitor.update = watched

    recorder_cls.on_boot = on_boot
    return original


def run_one(path, k=0):
    """One run of a scenario, scored: its obstacle rows and its other figures."""
    spec = variant(scenario.load(path), k)
    blind_log = []
    original = _watch(scenario.Recorder, blind_log)
    try:
        out = scenario.run(spec)
    finally:
        scenario.Recorder.on_boot = original
    events = out["events"]
    metrics = out["metrics"]
    row = {"scenario": spec["name"], "k": k, "seed": spec["seed"], "tags": spec.get("tags", []),
           "obstacles": [], "false_alerts": metrics["false_alerts"],
           "false_alert_ms": metrics["false_alert_ms"], "stops_receding": metrics["stops_receding"],
           "blind": [], "too_fast_ms": None, "ended_by": metrics["sim"]["ended_by"],
           "resets": metrics["sim"]["resets"], "alerts": {}, "running_s": metrics["running_s"],
           "too_fast_notices": metrics["too_fast_notices"], "false_blind": metrics["false_blind"],
           "stationary_alert_s": metrics["stationary_alert_s"],
           "speed_error_pct": metrics["speed_error_pct"], "sun_approaches": []}
    for e in events:
        if e["kind"] == "obstacle":
            row["alerts"][e["level"]] = row["alerts"].get(e["level"], 0) + 1
    first_fast = next((e["t_ms"] for e in events if e["kind"] == "too_fast"), None)
    for ob in metrics["obstacles"]:
        if not ob["collision_course"]:
            continue
        avail = ob["available_lead_ms"]
        ratio = None
        if avail:
            ratio = round((ob["lead_ms"] or 0) / avail, 3)
        row["obstacles"].append({"id": ob["id"], "kind": ob["kind"], "available_lead_ms": avail,
                                 "lead_ms": ob["lead_ms"], "ratio": ratio,
                                 "avoidable": ob["avoidable"], "collided": ob["collided"]})
        seen = ob["first_detectable_ms"]
        if seen is not None and sun_approach(spec, seen):
            row["sun_approaches"].append(None if first_fast is None else seen - first_fast)
    row["blind"] = blind_rows(spec, events, blind_log)
    too_fast_from = too_fast_due_ms(spec)
    row["too_fast_due"] = too_fast_from is not None
    if too_fast_from is not None:
        row["too_fast_ms"] = None if first_fast is None else first_fast - too_fast_from
    return row


def blind_rows(spec, events, blind_log):
    out = []
    for f in spec.get("faults", []):
        if f["kind"] not in ("unplug", "covered") or f.get("cover", 1.0) < 1.0:
            continue
        start = f["t_ms"]
        onset = next((t for t, kind in ((e["t_ms"], e["kind"]) for e in events)
                      if kind == "blind" and t >= start), None)
        end = start + f["duration_ms"] if "duration_ms" in f else None
        recovered = None
        if end is not None:
            recovered = next((t - end for t, blind in blind_log if t >= end and not blind), None)
        out.append({"fault": f["kind"], "latency_ms": None if onset is None else onset - start,
                    "recovery_ms": recovered})
    return out


def sun_approach(spec, t_ms):
    """Is the runner at running pace in sun at t_ms (a sighting there needs "too fast" first)?"""
    return (profile_value(spec["ambient"], t_ms) >= SUN
            and profile_value(spec["runner"]["speed"], t_ms) >= RUNNING_PACE_MM_S)


def too_fast_due_ms(spec):
    """First moment the runner is at running pace (>= 2 m/s: needs 1.87 m to stop) in
    strong sun (the sensor sees ~1.35 m): too_fast is due from then."""
    for t in range(0, spec["duration_ms"], 10):
        if (profile_value(spec["ambient"], t) >= STRONG_SUN
                and profile_value(spec["runner"]["speed"], t) >= RUNNING_PACE_MM_S):
            return t
    return None


def _run(job):
    return run_one(*job)


def run_all(paths, seeds=None, workers=2):
    seeds = seeds or int(os.environ.get(SEEDS_ENV, SEEDS))
    jobs = [(p, k) for p in paths for k in range(seeds)]
    # the long runs first, so that two workers finish together
    jobs.sort(key=lambda job: -scenario.load(job[0])["duration_ms"])
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(_run, jobs))
    return sorted(rows, key=lambda r: (r["scenario"], r["k"]))


def scenario_paths():
    paths = scenario.shipped()
    if os.environ.get(LONG_ENV, "1") == "0":
        paths = [p for p in paths if not scenario.load(p).get("long")]
    return paths


def spread(values, worst=max):
    """(worst, median) of the values; (None, None) without any."""
    if not values:
        return None, None
    return worst(values), round(statistics.median(values), 3)


def summarise(rows):
    ratios = [o["ratio"] for r in rows for o in r["obstacles"] if o["ratio"] is not None]
    latencies = [b["latency_ms"] for r in rows for b in r["blind"]]
    recoveries = [b["recovery_ms"] for r in rows for b in r["blind"] if "recovery_ms" in b]
    fast = [r["too_fast_ms"] for r in rows if r["too_fast_due"]]
    false_by_run = [r["false_alerts"] for r in rows]
    ordinary = [r for r in rows if "ordinary" in r["tags"]]
    ordinary_h = sum(r["running_s"] for r in ordinary) / 3600.0
    notices = [r["too_fast_notices"] * 3600.0 / r["running_s"] for r in ordinary if r["running_s"]]
    sun = [m for r in rows for m in r["sun_approaches"]]
    blind_h = sum(r["running_s"] for r in rows) / 3600.0
    before = [e for r in rows if r["k"] for e in r["speed_error_pct"]["before"]]
    after = [e for r in rows if r["k"] for e in r["speed_error_pct"]["after"]]
    run_before = [statistics.median(r["speed_error_pct"]["before"]) for r in rows
                  if r["k"] and r["speed_error_pct"]["before"]]
    run_after = [statistics.median(r["speed_error_pct"]["after"]) for r in rows
                 if r["k"] and r["speed_error_pct"]["after"]]
    below = ["%s/%d:%.2f" % (r["scenario"], r["k"], o["ratio"]) for r in rows for o in r["obstacles"]
             if o["ratio"] is not None and o["ratio"] < 0.9]
    out = {
        "lead_ratio_min": min(ratios) if ratios else None,
        "lead_ratio_below_0_9": " ".join(below) or "none",
        "lead_ratio_median": round(statistics.median(ratios), 3) if ratios else None,
        "collisions_avoidable": sum(1 for r in rows for o in r["obstacles"]
                                    if o["avoidable"] and o["collided"]),
        # absolute, beside the ratio: settings that see less shrink its denominator too
        "collisions": sum(1 for r in rows for o in r["obstacles"] if o["collided"]),
        "lead_total_s": round(sum(o["lead_ms"] or 0 for r in rows for o in r["obstacles"])
                              / 1000.0, 2),
        "false_alerts": sum(false_by_run),
        "false_alerts_worst_run": max(false_by_run) if false_by_run else None,
        "stops_receding": sum(r["stops_receding"] for r in rows),
        # None (never fired) counts as worse than any latency
        "blind_latency_ms": (None if not latencies or None in latencies else max(latencies)),
        "blind_recovery_ms": (None if not recoveries or None in recoveries else max(recoveries)),
        "too_fast_latency_ms": None if not fast or None in fast else max(fast),
        "too_fast_notices_per_hour": round(sum(r["too_fast_notices"] for r in ordinary)
                                           / ordinary_h, 1) if ordinary_h else None,
        "too_fast_notices_per_hour_worst_run": round(max(notices), 1) if notices else None,
        "too_fast_before_sighting": "%d/%d" % (sum(1 for m in sun if m is not None and m > 0),
                                               len(sun)),
        "too_fast_sighting_margin_ms_min": min((m for m in sun if m is not None), default=None),
        "speed_error_pct_before": round(statistics.median(before), 1) if before else None,
        "speed_error_pct_after": round(statistics.median(after), 1) if after else None,
        "speed_error_pct_before_worst_run": max(run_before) if run_before else None,
        "speed_error_pct_after_worst_run": max(run_after) if run_after else None,
        "stationary_alert_s": max(r["stationary_alert_s"] for r in rows) if rows else None,
        "false_blind_per_hour": round(sum(r["false_blind"] for r in rows) / blind_h, 2)
        if blind_h else None,
        "obstacle_hours": round(blind_h, 2),
        "obstacle_scenarios": len({r["scenario"] for r in rows}),
        "obstacle_runs": len(rows),
    }
    return out


def table(rows):
    """Per scenario, over its runs: lead ratio worst/median, false alerts, receding
    STOPs, blind, too fast, notices, buzzing while standing, false blinds."""
    head = "%-26s %4s %9s %6s %5s %4s %5s %5s %7s %7s %6s %5s" % (
        "scenario", "runs", "ratio w/m", "false", "rcdSt", "hit", "blind", "recov", "fast_ms",
        "notices", "stand", "fblnd")
    lines = [head]
    by_name = {}
    for r in rows:
        by_name.setdefault(r["scenario"], []).append(r)
    for name, runs in sorted(by_name.items()):
        ratios = [o["ratio"] for r in runs for o in r["obstacles"] if o["ratio"] is not None]
        worst, median = spread(ratios, min)
        blinds = [b for r in runs for b in r["blind"]]
        fast = [r["too_fast_ms"] for r in runs if r["too_fast_due"]]
        lines.append("%-26s %4d %9s %6d %5d %4d %5s %5s %7s %7d %6s %5d" % (
            name[:26], len(runs), "" if worst is None else "%.2f/%.2f" % (worst, median),
            sum(r["false_alerts"] for r in runs), sum(r["stops_receding"] for r in runs),
            sum(1 for r in runs for o in r["obstacles"] if o["collided"]),
            _worst_of(blinds, "latency_ms"), _worst_of(blinds, "recovery_ms"),
            "" if not fast else ("never" if None in fast else max(fast)),
            sum(r["too_fast_notices"] for r in runs),
            max(r["stationary_alert_s"] for r in runs), sum(r["false_blind"] for r in runs)))
    return "\n".join(lines)


def _worst_of(blinds, key):
    values = [b[key] for b in blinds if key in b]
    if not values:
        return ""
    return "never" if None in values else max(values)


def figures():
    paths = scenario_paths()
    if not paths:
        raise RuntimeError("no scenarios in sim/scenarios/")
    rows = run_all(paths)
    print(table(rows), file=sys.stderr)
    return summarise(rows)


def main(argv):
    paths = argv or scenario_paths()
    rows = run_all(paths)
    print(table(rows))
    for r in rows:
        if r["false_alerts"] or r["stops_receding"] or r["false_blind"] or r["stationary_alert_s"]:
            print("  %s run %d (seed %d): false at %s, receding STOPs %d, false blind %d, "
                  "standing %s s" % (r["scenario"], r["k"], r["seed"], r["false_alert_ms"],
                                     r["stops_receding"], r["false_blind"], r["stationary_alert_s"]))
        for o in r["obstacles"]:
            if o["avoidable"] and o["collided"]:
                print("  %s run %d (seed %d): %s avoidable, hit (lead %s of %s)" % (
                    r["scenario"], r["k"], r["seed"], o["id"], o["lead_ms"], o["available_lead_ms"]))
            if o["ratio"] is not None and o["ratio"] < 0.9:
                print("  %s run %d (seed %d): %s lead %s of %s" % (
                    r["scenario"], r["k"], r["seed"], o["id"], o["lead_ms"], o["available_lead_ms"]))
    print(json.dumps(summarise(rows), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
