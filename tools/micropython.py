"""Run code under real MicroPython (the WebAssembly port, in Node.js) over the
device's file tree: firmware/, firmware/lib/, the pinned Adafruit VL53L1X driver
and a board config as board.py, laid out as on the ESP32's flash, plus the
MicroPython-side test helpers of tests/mp/ and what every virtual board shares
(sim/vboard: the machine API core, the chip register models, the trace player)
under /tests_mp.

    results = run_batch({"imports": "import rearguard.app"})
    results["imports"].check()              # raises MicroPythonError with the traceback
    run("import mp_probe; mp_probe.main()").records()   # the MPJSON lines it printed

One Node.js process runs a whole batch; each job gets a fresh interpreter (like
a reset). A job is code, or a list of steps run one after the other in the same
interpreter: this port collects garbage only between steps (gc.collect() inside
a step just asks for it), so heap figures are read at the start of a step. Imports are limited to modules the ESP32 port has (ESP32_MODULES):
the WebAssembly build freezes extras such as logging, abc and pathlib that a
board lacks, and a test must not pass here and fail on the board.
"""

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

from sim.loader import BOARDS, FIRMWARE, ROOT, device_library_path

RUNNER = os.path.join(ROOT, "tools", "mp", "run.mjs")
TESTS_MP = os.path.join(ROOT, "tests", "mp")
DEVICE_TESTS_MP = "/tests_mp"
# What the tests/mp helpers share with the virtual boards: the package sim/vboard,
# copied as /tests_mp/vboard (tests/mp/fake_machine.py is its glue there).
VBOARD = os.path.join(ROOT, "sim", "vboard")

# The WebAssembly port grows its heap on demand (split heap), so `heapsize` is
# only the first arena: it cannot reproduce an ESP32 running out of memory.
# Budgets are checked on the measured gc.mem_alloc() figures instead.
HEAP_BYTES = 110 * 1024

# Top-level modules of the ESP32 port (ESP32_GENERIC v1.2x `help('modules')`),
# with the u-prefixed aliases MicroPython still resolves. Anything else is
# refused, even if the WebAssembly build happens to have it.
ESP32_MODULES = frozenset(
    """
    __main__ _asyncio _boot _espnow _onewire _thread _webrepl aioespnow apa106 array
    asyncio binascii bluetooth btree builtins cmath collections cryptolib deflate dht
    ds18x20 errno esp esp32 espnow flashbdev framebuf gc hashlib heapq inisetup io json
    machine math micropython mip neopixel network ntptime onewire os platform random re
    requests select socket ssl struct sys time tls uasyncio uctypes umqtt upysh urequests
    vfs webrepl webrepl_setup websocket
    uarray ubinascii ubluetooth ucollections ucryptolib uerrno uhashlib uheapq uio ujson
    uos uplatform urandom ure uselect usocket ussl ustruct usys utime uzlib umachine uwebsocket
    """.split()
)

RECORD_PREFIX = "MPJSON "

# Before the guard: the bare interpreter's heap, read in a step of its own
# after a collection (this port collects only between two runPython calls),
# so that heap figures can leave the guard out (it is test harness).
_HEAP0 = ["import gc", "_mp_heap0 = gc.mem_alloc()"]
_PREAMBLE = """\
import sys
sys.path[:] = ['', '.frozen', '/lib', %(tests)r]
import builtins
_mp_allowed = %(allowed)r
_mp_import = builtins.__import__
def _mp_guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.split('.')[0] not in _mp_allowed:
        raise ImportError("no module named '%%s' (not in the ESP32 port)" %% name)
    return _mp_import(name, globals, locals, fromlist, level)
builtins.__import__ = _mp_guarded_import
del _mp_guarded_import
"""


class MicroPythonError(AssertionError):
    """A MicroPython job ended with an uncaught exception."""


@dataclass
class Result:
    name: str
    ok: bool
    stdout: str
    stderr: str
    error: str
    ms: int

    def check(self):
        if not self.ok:
            raise MicroPythonError(
                "MicroPython job %r failed:\n%s%s" % (self.name, self.stdout[-2000:], self.error)
            )
        return self

    def records(self):
        """The JSON objects the job printed as `MPJSON {...}` lines."""
        return [
            json.loads(line[len(RECORD_PREFIX):])
            for line in self.stdout.splitlines()
            if line.startswith(RECORD_PREFIX)
        ]


def _walk(root, device_root, suffixes=(".py",)):
    pairs = []
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(suffixes):
                host = os.path.join(here, name)
                rel = os.path.relpath(host, root).replace(os.sep, "/")
                pairs.append((device_root.rstrip("/") + "/" + rel, host))
    return pairs


def _test_helpers():
    return _walk(TESTS_MP, DEVICE_TESTS_MP, (".py", ".csv")) + _walk(VBOARD, DEVICE_TESTS_MP + "/vboard")


def device_files(board="esp32_devkitc", firmware=FIRMWARE, built=None):
    """[(device_path, host_path)]: what a board's flash would hold, plus the
    test helpers (tests/mp and sim/vboard) under /tests_mp.

    `built`: a build/<board>/ directory (tools/build.py) to run instead of the sources.
    """
    if built is not None:
        return _walk(built, "/", (".py", ".mpy")) + _test_helpers()
    lib = os.path.join(firmware, "lib")
    files = [p for p in _walk(firmware, "/") if not p[0].startswith("/lib/")]
    files += _walk(lib, "/lib")
    files.append(("/lib/adafruit_vl53l1x.py", device_library_path()))
    files.append(("/board.py", os.path.join(BOARDS, board + ".py")))
    files += _test_helpers()
    return files


def firmware_module_names(firmware=FIRMWARE):
    """Dotted import names of every firmware module (main, rearguard.*, lib/*)."""
    names = []
    for device, _host in device_files(firmware=firmware):
        if device.startswith(DEVICE_TESTS_MP) or device == "/board.py":
            continue
        rel = device[len("/lib/"):] if device.startswith("/lib/") else device[1:]
        name = rel[: -len(".py")].replace("/", ".")
        names.append(name[: -len(".__init__")] if name.endswith(".__init__") else name)
    return sorted(names)


def _allowed_modules(files):
    tops = set(ESP32_MODULES)
    for device, _host in files:
        rel = device.lstrip("/")
        for prefix in ("lib/", DEVICE_TESTS_MP.lstrip("/") + "/"):
            if rel.startswith(prefix):
                rel = rel[len(prefix):]
        tops.add(rel.split("/")[0].removesuffix(".py").removesuffix(".mpy"))
    return sorted(tops)


def _steps(preamble, code):
    steps = [code] if isinstance(code, str) else list(code)
    return _HEAP0 + [preamble] + steps


def run_batch(
    jobs, board="esp32_devkitc", firmware=FIRMWARE, built=None, heapsize=HEAP_BYTES, timeout=120
):
    """Run {name: code or [step, ...]} jobs, each in a fresh interpreter; {name: Result}.

    The tree is firmware/ + board (or a `built` build/<board>/ directory), see device_files.
    """
    files = device_files(board, firmware, built)
    preamble = _PREAMBLE % {"tests": DEVICE_TESTS_MP, "allowed": _allowed_modules(files)}
    batch = {
        "heapsize": heapsize,
        "files": files,
        "jobs": [{"name": name, "steps": _steps(preamble, code)} for name, code in jobs.items()],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(batch, f)
    try:
        proc = subprocess.run(
            ["node", RUNNER, f.name], capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        raise MicroPythonError("MicroPython runner failed (node):\n" + proc.stderr[-3000:])
    results = [Result(**json.loads(line)) for line in proc.stdout.splitlines() if line]
    return {r.name: r for r in results}


def run(code, name="main", **kwargs):
    """Run one piece of code; returns its Result (check() it to fail on an exception)."""
    return run_batch({name: code}, **kwargs)[name]
