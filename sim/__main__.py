"""`python -m sim`: run scenarios, replay traces, boot the virtual board.

    python -m sim run sim/scenarios/wall_2_5ms_sun.json --json [--seed N] [--plot out.png] [--trace out.csv]
    python -m sim replay trace.csv --json [--active]
    python -m sim board [--board NAME] [--seconds S] [--pty [--scenario F] [--baud 115200]]
    python -m sim mpboard [--trace T.csv] [--baud 115200] [--fs DIR] [--speed N] [--press T_MS[:HOLD]]
    python -m sim demo

Exit codes: 0 done, 2 bad input (the message names the file, line or key).
"""

import argparse
import json
import sys


def _print_result(out, as_json):
    if as_json:
        print(json.dumps(out, separators=(",", ":")))
        return
    print("events:")
    for e in out["events"]:
        print("  %8d ms  %s %s" % (e["t_ms"], e["kind"], e.get("level", "")))
    if out.get("summary") is not None:
        print("summary: %s" % json.dumps(out["summary"]))
    if "metrics" in out:
        print("metrics: %s" % json.dumps(out["metrics"], indent=2))


def cmd_run(args):
    from sim import scenario

    spec = scenario.load(args.scenario)
    out = scenario.run(spec, seed=args.seed, trace_path=args.trace, plot_path=args.plot,
                       echo=sys.stderr if args.console else None)
    _print_result(out, args.json)
    return 0


def cmd_replay(args):
    from sim import trace

    profile = {}
    for item in args.set or []:
        name, _, value = item.partition("=")
        try:
            profile[name] = int(value)
        except ValueError:
            raise trace.TraceError("--set %s: expected NAME=INTEGER" % item) from None
    from sim import scenario

    scenario.check_profile(scenario._Checker("--set"), profile)
    out = trace.replay(args.trace, active=args.active, board=args.board, profile=profile,
                       echo=sys.stderr if args.console else None)
    _print_result(out, args.json)
    return 0


def board_parser(sub):
    """`board`: boot the firmware on a virtual board with nothing happening.
    (The sessions work adds --pty here: a serial link to the running firmware.)"""
    p = sub.add_parser("board", help="boot the firmware on the virtual board (standing still)")
    p.add_argument("--board", default="esp32_devkitc")
    p.add_argument("--seconds", type=float, default=10.0)
    # sessions work (sim/pty.py): the console on a pseudo-terminal for `rearguard pull`
    p.add_argument("--pty", action="store_true", help="console on a pseudo-terminal (prints its path)")
    p.add_argument("--scenario", help="with --pty: play this scenario first (default: the default run)")
    p.add_argument("--baud", type=int, default=None, help="with --pty: throttle the console to this rate")
    return p


def cmd_board(args):
    if args.pty:
        from sim import pty

        return pty.main(["--board", args.board] + (["--scenario", args.scenario] if args.scenario else [])
                        + (["--baud", str(args.baud)] if args.baud else []))
    from sim import scenario

    spec = scenario.check({"name": "board", "board": args.board,
                           "duration_ms": int(args.seconds * 1000), "runner": {"speed": 0}})
    scenario.run(spec, echo=sys.stdout)
    return 0


def cmd_demo(args):
    from sim import demo

    return demo.main(["--out", args.out]) or 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mpboard"]:  # real MicroPython on a serial port: its own options
        from sim.mpboard.launcher import main as mpboard_main

        return mpboard_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a scenario JSON through the firmware")
    p.add_argument("scenario")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--plot", metavar="PNG", help="write a timeline plot")
    p.add_argument("--trace", metavar="CSV", help="write the trace of what the chips returned")
    p.add_argument("--console", action="store_true", help="echo the firmware console to stderr")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("replay", help="feed a trace CSV through the firmware")
    p.add_argument("trace")
    p.add_argument("--json", action="store_true")
    p.add_argument("--active", action="store_true",
                   help="start a session at boot: the whole trace is a run")
    p.add_argument("--board", default="esp32_devkitc", help="board whose IMU chip serves the trace")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="athlete profile setting the recording device had (repeatable)")
    p.add_argument("--console", action="store_true")
    p.set_defaults(fn=cmd_replay)
    board_parser(sub).set_defaults(fn=cmd_board)
    p = sub.add_parser("demo", help="the default run, told as a story, then pulled and plotted")
    p.add_argument("--out", default="demo", help="folder for the demo database and plot")
    p.set_defaults(fn=cmd_demo)
    args = parser.parse_args(argv)
    from sim.scenario import ScenarioError
    from sim.trace import TraceError

    try:
        return args.fn(args)
    except (ScenarioError, TraceError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
