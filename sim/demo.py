"""`make demo`: the default run told as a story. The unchanged firmware boots on
the virtual board; a runner jogs backward out of the shade into strong sun
(the clip asks them to slow down), then towards a wall (the clip tells them to
stop, and they do); then the session is pulled over a virtual serial port into
a demo database, listed, and plotted.

    python -m sim demo [--out demo]
"""

import argparse
import os
import sys

from sim import pty, scenario

DEFAULT_RUN = os.path.join(scenario.SCENARIO_DIR, "default_run.json")

# What the runner feels for each event, and what it means
# (docs/haptics.md is the athlete's copy).
VOCABULARY = {
    ("obstacle", "caution"): ("slow pulses", "something is closing in behind you"),
    ("obstacle", "warning"): ("fast pulses", "it is getting close: get ready to stop"),
    ("obstacle", "stop"): ("continuous buzz", "stop now"),
    ("too_fast", None): ("two pairs of pulses", "too fast for what the sensor can see: slow down"),
    ("blind", None): ("three short chirps", "the sensor cannot see: you are not protected"),
    ("stumble", None): ("one long strong buzz", "balance lost (stumble counted)"),
    ("fall", None): ("long buzz, repeating", "fall detected"),
    ("session_start", None): ("one blip", "session started (running detected)"),
    ("session_end", None): ("two blips", "session ended and saved"),
    ("low_battery", None): ("four blips", "battery low: about 10 minutes of running left"),
}


def story(result, spec):
    lines = ["RearGuard demo: the unchanged firmware on a virtual %s" % result["board"],
             "Scenario %s: %s" % (spec["name"], spec.get("description", "")), "",
             "  %7s  %-22s %s" % ("time", "the clip", "meaning")]
    for e in result["events"]:
        felt, meaning = VOCABULARY.get((e["kind"], e.get("level")), (e["kind"], ""))
        lines.append("  %6.1fs  %-22s %s" % (e["t_ms"] / 1000, felt, meaning))
    for ob in result["metrics"]["obstacles"]:
        outcome = "ran into it" if ob["collided"] else "stopped in time"
        lead = ob["lead_ms"]
        warned = ("first alert %.1f s before contact (had the runner not reacted)" % (lead / 1000)
                  if lead else "no alert")
        lines.append("")
        lines.append("  %s (%s): %s; %s." % (ob["id"], ob["kind"], outcome, warned))
    s = result["summary"]
    if s and "error" not in s:
        lines += ["", "Session %d: %.1f s, %d steps, %.1f m, alerts caution/warning/stop %d/%d/%d, "
                  "closest %d mm" % (s["session_id"], s["duration_ms"] / 1000, s["steps"],
                                     s["distance_mm"] / 1000, s["alerts_caution"],
                                     s["alerts_warning"], s["alerts_stop"], s["closest_mm"])]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sim demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="demo", help="folder for the demo database and plot")
    args = p.parse_args(argv or [])
    spec = scenario.load(DEFAULT_RUN)
    result = scenario.run(spec)
    print(story(result, spec))
    print("\nPulling the session over a virtual serial port into %s/ ..." % args.out)
    status = pty.demo_pull(args.out, DEFAULT_RUN)
    if status == 0:
        print("\nPlot of the session: %s" % os.path.join(args.out, "session.png"))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
