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

Each run has its own time limit: mpremote waits for a board that does not
answer without end (its serial reads have no timeout on a pseudo-terminal, and
a lost Ctrl-C leaves it waiting for the raw REPL), so deploy ends it and says
which port did not answer to what.
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
from typing import NamedTuple

from sim.loader import ROOT, known_boards

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")
DEVICE_CLEAN = os.path.join("tools", "mp", "device_clean.py")
# Time limits. A board answers Ctrl-C and a short script in a second or two;
# copying moves about 5 KB/s at 115200 baud (measured on the virtual board), so
# the copy gets 1 s per KB on top: room for a slow host, and still an end.
COMMAND_LIMIT_S = 30
COPY_S_PER_BYTE = 1 / 1000


class DeployError(Exception):
    pass


class Step(NamedTuple):
    what: str  # what the board is asked to do, for the message when it does not answer
    argv: list
    limit_s: int


def steps(board, port, build_dir=None):
    """The mpremote runs that deploy a build, in order."""
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
    copy_limit_s = COMMAND_LIMIT_S + int(_size(os.path.join(ROOT, build_dir)) * COPY_S_PER_BYTE)
    return [
        Step("stopping the firmware and removing the old build", connect + ["run", DEVICE_CLEAN],
             COMMAND_LIMIT_S),
        Step("copying the build", connect + ["fs", "cp", "-r"] + [build_dir + "/" + e for e in entries] + [":"],
             copy_limit_s),
        Step("resetting", connect + ["reset"], COMMAND_LIMIT_S),
    ]


def _size(path):
    return sum(os.path.getsize(os.path.join(here, name)) for here, _dirs, names in os.walk(path) for name in names)


def run(step, port):
    """One mpremote run, in a process group of its own that is ended at the
    step's limit (or when deploy itself is interrupted)."""
    proc = subprocess.Popen(step.argv, cwd=ROOT, start_new_session=True)
    try:
        code = proc.wait(step.limit_s)
    except subprocess.TimeoutExpired:
        raise DeployError("deploy stopped: the board on %s did not answer within %d s (%s)"
                          % (port, step.limit_s, step.what)) from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if code != 0:
        raise DeployError("deploy stopped: mpremote failed while %s (is the board on %s?)" % (step.what, port))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("board", help="one of: " + ", ".join(known_boards()))
    parser.add_argument("port", help="serial port, e.g. /dev/ttyUSB0 (`rearguard devices` lists them)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    try:
        plan = steps(args.board, args.port)
    except DeployError as e:
        print(e, file=sys.stderr)
        return 2
    for step in plan:
        if args.dry_run:
            print(shlex.join(step.argv))
            continue
        print("+ " + shlex.join(step.argv), flush=True)
        try:
            run(step, args.port)
        except DeployError as e:
            print(e, file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("deploy interrupted while %s" % step.what, file=sys.stderr)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
