"""Copy build/<board>/ (made by tools/build.py) to a board with mpremote, then
reset it so that main.py starts. --dry-run prints the exact commands instead.

    .venv/bin/python -m tools.deploy esp32_devkitc /dev/ttyUSB0 [--dry-run]
    # or: make deploy BOARD=esp32_devkitc PORT=/dev/ttyUSB0 [DRY=1]

Three mpremote runs: (1) tools/mp/device_clean.py removes what an earlier
deploy put there (MicroPython prefers a stale rearguard/x.py over the new
x.mpy) and nothing else, so sessions in flash survive; (2) `fs cp -r` copies
the build's top-level entries into the device root, creating directories;
(3) `reset` reboots into the new firmware. mpremote interrupts the running
firmware with Ctrl-C first, which the firmware handles (motor off, session
closed, watchdog kept fed); `resume` keeps mpremote from soft-resetting it.
"""

import argparse
import os
import shlex
import subprocess
import sys

from sim.loader import ROOT, known_boards

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")
DEVICE_CLEAN = os.path.join("tools", "mp", "device_clean.py")


class DeployError(Exception):
    pass


def commands(board, port, build_dir=None):
    """The mpremote command lines (argument lists) that deploy a build."""
    if board not in known_boards():
        raise DeployError("unknown board %r; known boards: %s" % (board, ", ".join(known_boards())))
    build_dir = build_dir or os.path.join("build", board)
    if not os.path.isfile(os.path.join(ROOT, build_dir, "main.py")):
        raise DeployError("%s/ has no build: run `make build BOARD=%s` first" % (build_dir, board))
    entries = sorted(os.listdir(os.path.join(ROOT, build_dir)))
    # `resume`: no soft reset before the first command. The ESP32's watchdog
    # cannot be stopped once the firmware started it; after Ctrl-C a machine.Timer
    # feeds it (rearguard.app.keep_fed_in_repl), and a soft reset would
    # deinitialise that timer and let the watchdog reboot the board mid-copy.
    connect = [os.path.relpath(MPREMOTE, ROOT), "connect", port, "resume"]
    return [
        connect + ["run", DEVICE_CLEAN],
        connect + ["fs", "cp", "-r"] + [build_dir + "/" + e for e in entries] + [":"],
        connect + ["reset"],
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("board", help="one of: " + ", ".join(known_boards()))
    parser.add_argument("port", help="serial port, e.g. /dev/ttyUSB0 (`rearguard devices` lists them)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    try:
        lines = commands(args.board, args.port)
    except DeployError as e:
        print(e, file=sys.stderr)
        return 2
    for cmd in lines:
        if args.dry_run:
            print(shlex.join(cmd))
            continue
        print("+ " + shlex.join(cmd), flush=True)
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            print("deploy stopped: the command above failed (is the board on %s?)" % args.port,
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
