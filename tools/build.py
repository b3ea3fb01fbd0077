"""Compile the firmware for one board into build/<board>/, laid out as the
board's flash: every firmware module as .mpy for the ESP32 (mpy-cross
-march=xtensawin), main.py kept as source (the board boots it by name), the
board config as board.mpy, the lib/ shims and the pinned Adafruit VL53L1X
driver compiled into lib/. Prints a size table.

    .venv/bin/python -m tools.build esp32_devkitc      # or: make build BOARD=esp32_devkitc
"""

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sim.loader import BOARDS, FIRMWARE, ROOT, device_library_path, known_boards

MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
ARCH = "xtensawin"  # ESP32 and ESP32-S3 (Xtensa LX6/LX7 with windowed registers)
SOURCE_KEPT = ("main.py",)  # the board's boot runs main.py by name; it must stay source


class BuildError(Exception):
    """A file did not compile, or the board is unknown; the message says which."""


@dataclass
class Build:
    board: str
    out_dir: str
    files: list = field(default_factory=list)  # (device path, source bytes, built bytes)

    @property
    def total_bytes(self):
        return sum(built for _path, _src, built in self.files)


def sources(board):
    """[(host source, device path)] of everything a board's flash holds."""
    if board not in known_boards():
        raise BuildError("unknown board %r; known boards: %s" % (board, ", ".join(known_boards())))
    pairs = []
    for here, dirs, names in os.walk(FIRMWARE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                host = os.path.join(here, name)
                pairs.append((host, os.path.relpath(host, FIRMWARE).replace(os.sep, "/")))
    pairs.append((device_library_path(), "lib/adafruit_vl53l1x.py"))
    pairs.append((os.path.join(BOARDS, board + ".py"), "board.py"))
    return pairs


def compile_mpy(source, target, device_path):
    """mpy-cross one file; `device_path` is the name tracebacks on the board show."""
    proc = subprocess.run(
        [MPY_CROSS, "-march=" + ARCH, "-s", device_path, "-o", target, source],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BuildError("mpy-cross failed on %s:\n%s" % (source, proc.stderr.strip()))


def build(board, out_dir=None, quiet=False):
    """Build into out_dir (default build/<board>/, replaced as a whole); returns a Build.

    The tree is made next to out_dir and swapped in by renaming, so a deploy (or a
    test) reading out_dir meanwhile never sees it half-built or empty.
    """
    pairs = sources(board)
    out_dir = out_dir or os.path.join(ROOT, "build", board)
    staging = "%s.tmp-%d" % (out_dir, os.getpid())
    shutil.rmtree(staging, ignore_errors=True)
    result = Build(board, out_dir)
    jobs = []
    for host, device in pairs:
        kept = device in SOURCE_KEPT
        target_rel = device if kept else device[: -len(".py")] + ".mpy"
        target = os.path.join(staging, *target_rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if kept:
            shutil.copyfile(host, target)
        else:
            jobs.append((host, target, device))
        result.files.append((target_rel, os.path.getsize(host), target))
    try:
        # mpy-cross runs are independent processes: run a few at once.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for done in [pool.submit(compile_mpy, *job) for job in jobs]:
                done.result()
        result.files = [(rel, src, os.path.getsize(target)) for rel, src, target in result.files]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, out_dir)
    result.files.sort()
    if not quiet:
        print_table(result)
    return result


def _swap_in(staging, out_dir):
    # Two builds may finish at once (make build in two terminals, tests in
    # parallel): whoever renames last wins; a lost race is retried.
    for attempt in range(5):
        old = "%s.old-%d-%d" % (out_dir, os.getpid(), attempt)
        try:
            if os.path.exists(out_dir):
                os.rename(out_dir, old)
            os.rename(staging, out_dir)
            break
        except OSError:
            if attempt == 4:
                raise
        finally:
            shutil.rmtree(old, ignore_errors=True)


def print_table(result):
    from rich.console import Console
    from rich.table import Table

    table = Table(title="build/%s (mpy-cross -march=%s)" % (result.board, ARCH))
    table.add_column("file on the board")
    table.add_column("source bytes", justify="right")
    table.add_column("built bytes", justify="right")
    for path, src, built in result.files:
        table.add_row(path, str(src), str(built))
    table.add_row("total", str(sum(f[1] for f in result.files)), str(result.total_bytes))
    Console().print(table)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m tools.build BOARD   (boards: %s)" % ", ".join(known_boards()))
        return 2
    try:
        build(argv[0])
    except BuildError as e:
        print(e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
