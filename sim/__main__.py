"""`python -m sim`: run scenarios, replay traces, boot the virtual boards.

    python -m sim run sim/scenarios/wall_2_5ms_sun.json --json [--seed N] [--plot out.png] [--trace out.csv]
    python -m sim replay trace.csv --json [--active]
    python -m sim board [--board NAME] [--seconds S]      # console here, real time, until Ctrl-C
    python -m sim board --pty [--scenario F] [--uid HEX]  # a clip with a run for `rearguard` only
    python -m sim mpboard [--trace T.csv] [--fs DIR] ...  # real MicroPython: mpremote, make deploy
    python -m sim demo

The three virtual boards, and what answers on each (docs/simulator.md):
`board` prints the firmware's console in this terminal; `board --pty` puts
the firmware (CPython) behind a serial port that answers the desktop tool
`rearguard` and nothing else; `mpboard` is MicroPython itself on a serial
port: mpremote and `make deploy` work, and `rearguard` once the firmware is
deployed.

Exit codes: 0 done, 2 bad input (the message names the file, line or key).
"""

import argparse
import json
import signal
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
    """`board`: boot the firmware on a virtual board with nothing happening, its
    console in this terminal; --pty: on a serial port for `rearguard` instead."""
    p = sub.add_parser("board", help="boot the firmware on the virtual board (standing still); "
                                     "--pty: a clip with a recorded run for `rearguard` (not mpremote)")
    p.add_argument("--board", default="esp32_devkitc")
    p.add_argument("--seconds", type=float, default=None,
                   help="stop after this much board time (real time); default: run until Ctrl-C")
    p.add_argument("--pty", action="store_true", help="console on a pseudo-terminal (prints its path)")
    p.add_argument("--scenario", help="with --pty: play this scenario first (default: the default run)")
    p.add_argument("--baud", type=int, default=None, help="with --pty: throttle the console to this rate")
    p.add_argument("--uid", help="with --pty: the clip's unique id in hex (default: random)")
    return p


def cmd_board(args):
    from sim import loader, scenario

    if args.board not in loader.known_boards():
        raise scenario.ScenarioError("unknown board %r (known: %s)" % (args.board, ", ".join(loader.known_boards())))
    if args.pty:
        from sim import pty

        return pty.main(["--board", args.board] + (["--scenario", args.scenario] if args.scenario else [])
                        + (["--baud", str(args.baud)] if args.baud else []) + (["--uid", args.uid] if args.uid else []))
    longest_s = scenario.RANGES["duration_ms"][1] / 1000 - 1
    end_ms = int(min(args.seconds or longest_s, longest_s) * 1000)
    spec = scenario.check({"name": "board", "board": args.board,
                           "duration_ms": max(1000, end_ms + 1000), "runner": {"speed": 0}})
    # Ctrl-C here ends the simulator, as pulling the plug ends a board (a Ctrl-C
    # for the firmware itself goes down a serial line: --pty or mpboard).
    previous = signal.signal(signal.SIGINT, _quit)
    try:
        scenario.run(spec, echo=sys.stdout, on_board=lambda vb: _real_time_until(vb, end_ms))
        print("board: %g s of board time done (--seconds); no Ctrl-C was sent" % (end_ms / 1000))
    except _Quit:
        print("\nboard: ended (Ctrl-C in this terminal ends the simulator)")
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


class _Quit(BaseException):
    """Ctrl-C in the simulator's terminal: unwinds the board and the scenario."""


def _quit(_signum, _frame):
    raise _Quit


def _real_time_until(vb, end_ms):
    # Board time paced to the wall clock, and the run ended at end_ms without
    # the Ctrl-C a scenario's end delivers (nobody pressed it).
    from sim.board import SimulationEnd
    from sim.pty import pace_to_real_time

    pace_to_real_time(vb.clock)

    def end(now_us):
        if now_us >= end_ms * 1000:
            raise SimulationEnd

    vb.clock.add_listener(end)


def cmd_demo(args):
    from sim import demo

    return demo.main(["--out", args.out]) or 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mpboard"]:  # real MicroPython on a serial port: its own options
        from sim.mpboard.launcher import main as mpboard_main

        return mpboard_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__.split("\n")[0],
                                     epilog="`python -m sim mpboard --help` lists the mpboard options.")
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
    sub.add_parser("mpboard", help="a virtual ESP32 running real MicroPython on a serial port "
                                   "(mpremote, make deploy; rearguard once deployed)", add_help=False)
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
