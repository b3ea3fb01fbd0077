"""Copy build/<board>/ (made by tools/build.py) to a board with mpremote, then
reset it so that main.py starts. --dry-run prints the exact commands instead.

    .venv/bin/python -m tools.deploy esp32_devkitc /dev/ttyUSB0 [--dry-run] [--romfs]
    # or: make deploy BOARD=esp32_devkitc PORT=/dev/ttyUSB0 [DRY=1] [ROMFS=1]

Three mpremote runs: (1) tools/mp/device_clean.py removes what an earlier
deploy put there (MicroPython prefers a stale rearguard/x.py over the new
x.mpy) and nothing else, so sessions in flash survive; (2) `fs cp -r` copies
the build's top-level entries into the device root, creating directories;
(3) `reset` reboots into the new firmware. mpremote interrupts the running
firmware with Ctrl-C first, which the firmware handles (motor off, session
closed, watchdog kept fed); `resume` keeps mpremote from soft-resetting it.

With --romfs (boards whose MicroPython has a ROMFS partition, 1.25 or later
built with MICROPY_VFS_ROM): `romfs query` first, and a one-line message if
the board has none; then the clean, the package as a ROMFS image (`romfs
deploy`: its bytecode then runs in place from flash and holds no RAM), main.py
on the filesystem (the board boots it from there), and the reset.

Each run has its own time limit: mpremote waits for a board that does not
answer without end (its serial reads have no timeout on a pseudo-terminal, and
a lost Ctrl-C leaves it waiting for the raw REPL), so deploy ends it and says
which port did not answer to what.
"""

import argparse
import os
import shlex
import shutil
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
    refused: str = ""  # the message when mpremote's output says `refused_if` (then read, not shown)
    refused_if: str = ""


def steps(board, port, build_dir=None, romfs=False):
    """The mpremote runs that deploy a build, in order."""
    if board not in known_boards():
        raise DeployError("unknown board %r; known boards: %s" % (board, ", ".join(known_boards())))
    build_dir = build_dir or os.path.join("build", board)
    if not os.path.isfile(os.path.join(ROOT, build_dir, "main.py")):
        raise DeployError("%s/ has no build: run `make build BOARD=%s` first" % (build_dir, board))
    # `resume`: no soft reset before the first command. The ESP32's watchdog
    # cannot be stopped once the firmware started it; after Ctrl-C a machine.Timer
    # feeds it (rearguard.app.keep_fed_in_repl), and a soft reset would
    # deinitialise that timer and let the watchdog reboot the board mid-copy.
    connect = [os.path.relpath(MPREMOTE, ROOT), "connect", port, "resume"]
    copy_limit_s = COMMAND_LIMIT_S + int(_size(os.path.join(ROOT, build_dir)) * COPY_S_PER_BYTE)
    clean = Step("stopping the firmware and removing the old build", connect + ["run", DEVICE_CLEAN],
                 COMMAND_LIMIT_S)
    reset = Step("resetting", connect + ["reset"], COMMAND_LIMIT_S)
    if romfs:
        return [_romfs_query(connect, port), clean] + _romfs_copy(connect, build_dir, copy_limit_s) + [reset]
    entries = sorted(os.listdir(os.path.join(ROOT, build_dir)))
    copy = Step("copying the build",
                connect + ["fs", "cp", "-r"] + [build_dir + "/" + e for e in entries] + [":"],
                copy_limit_s)
    return [clean, copy, reset]


def _romfs_query(connect, port):
    return Step("asking for its ROMFS partition", connect + ["romfs", "query"], COMMAND_LIMIT_S,
                "the MicroPython on %s has no ROMFS partition (it needs 1.25 or later built with "
                "MICROPY_VFS_ROM, see docs/architecture.md): deploy without ROMFS=1" % port,
                "ROMFS is not enabled")


def _romfs_copy(connect, build_dir, limit_s):
    # Everything but main.py as the ROMFS image (already .mpy: no recompiling);
    # main.py on the filesystem, where the board looks for it at boot.
    package = os.path.join(ROOT, "build", "romfs", os.path.basename(build_dir))
    return [
        Step("writing the ROMFS image",
             connect + ["romfs", "--no-mpy", "deploy", os.path.relpath(package, ROOT)], limit_s),
        Step("copying main.py", connect + ["fs", "cp", build_dir + "/main.py", ":main.py"],
             COMMAND_LIMIT_S),
    ]


def romfs_tree(build_dir):
    """build/romfs/<board>/: the build without main.py, the ROMFS image's content."""
    source = os.path.join(ROOT, build_dir)
    package = os.path.join(ROOT, "build", "romfs", os.path.basename(build_dir))
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(source, package, ignore=lambda folder, names: ["main.py"] if folder == source else [])
    return package


def _size(path):
    return sum(os.path.getsize(os.path.join(here, name)) for here, _dirs, names in os.walk(path) for name in names)


def run(step, port, capture=False):
    """One mpremote run, in a process group of its own that is ended at the
    step's limit (or when deploy itself is interrupted); with `capture`, what
    it printed is returned instead of shown."""
    out = subprocess.PIPE if step.refused_if or capture else None
    proc = subprocess.Popen(step.argv, cwd=ROOT, start_new_session=True, stdout=out, text=True)
    try:
        said, _ = proc.communicate(timeout=step.limit_s)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        raise DeployError("deploy stopped: the board on %s did not answer within %d s (%s)"
                          % (port, step.limit_s, step.what)) from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if step.refused_if and step.refused_if in (said or ""):
        raise DeployError("deploy stopped: " + step.refused)
    if capture and code == 0:
        return said or ""
    if said and not capture:
        print(said, end="")
    if code != 0:
        raise DeployError("deploy stopped: mpremote failed while %s (is the board on %s?)%s"
                          % (step.what, port, (":\n" + said.strip()) if capture and said else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("board", help="one of: " + ", ".join(known_boards()))
    parser.add_argument("port", help="serial port, e.g. /dev/ttyUSB0 (`rearguard devices` lists them)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--romfs", action="store_true",
                        help="the package as a ROMFS image (boards whose MicroPython has ROMFS)")
    args = parser.parse_args(argv)
    try:
        plan = steps(args.board, args.port, romfs=args.romfs)
        if args.romfs:
            romfs_tree(os.path.join("build", args.board))
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
