"""Obstacle figures for `make bench`: every shipped scenario (sim/scenarios/*.json)
run through the unchanged firmware on the virtual board, scored against the
simulator's ground truth (issue 4's acceptance).

    figures()        # {"lead_ratio_min": 0.93, "collisions_avoidable": 0, "false_alerts": 0,
                     #  "blind_latency_ms": 330, ...}
    .venv/bin/python -m tools.bench_obstacle [SCENARIO.json ...]   # the per-scenario table

Per collision-course obstacle: lead ratio = lead_ms / available_lead_ms (first
alert vs first valid sighting, both before contact in the no-reaction run).
blind_latency_ms: from an `unplug` or `covered` fault to the first BLIND event;
recovery_ms: from the end of that fault to the end of "blind". too_fast_ms: from
the first moment at running pace (>= 2 m/s) in strong sun to the first TOO_FAST
event (negative: it fired while the runner was still speeding up). The table goes to stderr, so `make bench`'s last line stays JSON.
"""

import concurrent.futures
import json
import os
import sys

from sim import scenario
from sim.world import profile_value

LONG_ENV = "REARGUARD_BENCH_LONG"  # set to 0 to skip scenarios marked "long"
STRONG_SUN = 200.0
RUNNING_PACE_MM_S = 2000


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


def run_one(path):
    """One scenario, scored: a dict of its obstacle rows and its fault/sun figures."""
    spec = scenario.load(path)
    blind_log = []
    original = _watch(scenario.Recorder, blind_log)
    try:
        out = scenario.run(spec)
    finally:
        scenario.Recorder.on_boot = original
    events = out["events"]
    metrics = out["metrics"]
    row = {"scenario": spec["name"], "tags": spec.get("tags", []), "obstacles": [],
           "false_alerts": metrics["false_alerts"], "false_alert_ms": metrics["false_alert_ms"],
           "blind": [], "too_fast_ms": None, "ended_by": metrics["sim"]["ended_by"],
           "resets": metrics["sim"]["resets"], "alerts": {}}
    for e in events:
        if e["kind"] == "obstacle":
            row["alerts"][e["level"]] = row["alerts"].get(e["level"], 0) + 1
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
    for f in spec.get("faults", []):
        if f["kind"] not in ("unplug", "covered"):
            continue
        start = f["t_ms"]
        onset = next((t for t, kind in ((e["t_ms"], e["kind"]) for e in events)
                      if kind == "blind" and t >= start), None)
        end = start + f["duration_ms"] if "duration_ms" in f else None
        recovered = None
        if end is not None:
            recovered = next((t - end for t, blind in blind_log if t >= end and not blind), None)
        row["blind"].append({"fault": f["kind"], "latency_ms": None if onset is None else onset - start,
                             "recovery_ms": recovered})
    too_fast_from = too_fast_due_ms(spec)
    row["too_fast_due"] = too_fast_from is not None
    first_fast = next((e["t_ms"] for e in events if e["kind"] == "too_fast"), None)
    if too_fast_from is not None:
        row["too_fast_ms"] = None if first_fast is None else first_fast - too_fast_from
    return row


def too_fast_due_ms(spec):
    """First moment the runner is at running pace (>= 2 m/s: needs 1.87 m to stop) in
    strong sun (the sensor sees ~1.35 m): too_fast is due from then."""
    for t in range(0, spec["duration_ms"], 10):
        if (profile_value(spec["ambient"], t) >= STRONG_SUN
                and profile_value(spec["runner"]["speed"], t) >= RUNNING_PACE_MM_S):
            return t
    return None


def run_all(paths, workers=2):
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_one, paths))


def scenario_paths():
    paths = scenario.shipped()
    if os.environ.get(LONG_ENV, "1") == "0":
        paths = [p for p in paths if not scenario.load(p).get("long")]
    return paths


def summarise(rows):
    ratios = [o["ratio"] for r in rows for o in r["obstacles"] if o["ratio"] is not None]
    latencies = [b["latency_ms"] for r in rows for b in r["blind"]]
    recoveries = [b["recovery_ms"] for r in rows for b in r["blind"] if "recovery_ms" in b]
    fast = [r["too_fast_ms"] for r in rows if r["too_fast_due"]]
    return {
        "lead_ratio_min": min(ratios) if ratios else None,
        "collisions_avoidable": sum(1 for r in rows for o in r["obstacles"]
                                    if o["avoidable"] and o["collided"]),
        "false_alerts": sum(r["false_alerts"] for r in rows),
        # None (never fired) counts as worse than any latency
        "blind_latency_ms": (None if not latencies or None in latencies else max(latencies)),
        "blind_recovery_ms": (None if not recoveries or None in recoveries else max(recoveries)),
        "too_fast_latency_ms": None if not fast or None in fast else max(fast),
        "obstacle_scenarios": len(rows),
    }


def table(rows):
    lines = ["%-28s %-10s %7s %7s %6s %5s %5s %5s %8s %8s %7s" % (
        "scenario", "obstacle", "avail", "lead", "ratio", "avoid", "hit", "false", "blind_ms",
        "recov_ms", "fast_ms")]
    for r in rows:
        blind = r["blind"][0] if r["blind"] else {}
        obs = r["obstacles"] or [None]
        for i, o in enumerate(obs):
            lines.append("%-28s %-10s %7s %7s %6s %5s %5s %5s %8s %8s %7s" % (
                r["scenario"][:28] if i == 0 else "",
                o["id"][:10] if o else "-",
                o["available_lead_ms"] if o else "", o["lead_ms"] if o else "",
                o["ratio"] if o else "", o["avoidable"] if o else "",
                o["collided"] if o else "",
                r["false_alerts"] if i == 0 else "",
                blind.get("latency_ms", "") if i == 0 else "",
                blind.get("recovery_ms", "") if i == 0 else "",
                r["too_fast_ms"] if i == 0 and r["too_fast_due"] else ""))
    return "\n".join(lines)


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
    print(json.dumps(summarise(rows), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
