"""Simulator speed for `make bench`: simulated seconds per wall-clock second.

    python -m tools.bench_sim                     # {"sim_speed_ratio": ..., ...} as JSON
    python -m tools.bench_sim long_session.json   # one scenario only

`sim_speed_ratio` is for one simulated minute (clear_track); `sim_long_speed_ratio`
for the 30-minute long_session (skipped when REARGUARD_BENCH_LONG=0). Figures
for the record only, never asserted in tests: wall-clock time depends on the
machine and its load.
"""

import json
import os
import sys
import time

from sim import scenario

SCENARIO = "clear_track.json"  # one simulated minute of jogging
LONG_SCENARIO = "long_session.json"
LONG_ENV = "REARGUARD_BENCH_LONG"


def measure(name):
    spec = scenario.load(os.path.join(scenario.SCENARIO_DIR, name))
    t0 = time.perf_counter()
    out = scenario.run(spec)
    wall_s = time.perf_counter() - t0
    sim_s = spec["duration_ms"] / 1000.0
    return sim_s, wall_s, out


def figures():
    sim_s, wall_s, out = measure(SCENARIO)
    result = {
        "sim_seconds": sim_s,
        "sim_wall_seconds": round(wall_s, 2),
        "sim_speed_ratio": round(sim_s / wall_s, 1),
        "sim_tof_samples": out["metrics"]["sim"]["tof_samples"],
    }
    if os.environ.get(LONG_ENV, "1") != "0":
        sim_s, wall_s, _out = measure(LONG_SCENARIO)
        result["sim_long_speed_ratio"] = round(sim_s / wall_s, 1)
    return result


def main():
    if len(sys.argv) > 1:
        sim_s, wall_s, _out = measure(sys.argv[1])
        print(json.dumps({"sim_scenario": sys.argv[1], "sim_seconds": sim_s,
                          "sim_speed_ratio": round(sim_s / wall_s, 1)}))
    else:
        print(json.dumps(figures()))


if __name__ == "__main__":
    main()
