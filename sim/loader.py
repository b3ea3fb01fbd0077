"""Loads the firmware files, unchanged, into CPython for the virtual board.

Firmware modules are imported through a finder of their own whose modules see
MicroPython's names: `time` is the virtual clock (sim.vtime), `machine` the
virtual hardware (sim.machine), `micropython` and `gc` small stand-ins, and
`esp32` its deep-sleep wake sources (sim.esp32), `board` the selected board
config. Nothing else in the process is affected.

    with firmware_modules(board_module) as load:
        app = load("rearguard.app")
"""

import builtins
import contextlib
import importlib.abc
import importlib.util
import os
import sys
import sysconfig

from sim import esp32, machine, micropython, vgc, vtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BOARDS = os.path.join(ROOT, "boards")
FIRMWARE_LIB = os.path.join(FIRMWARE, "lib")

# Top-level names that belong to the device image.
DEVICE_TOPS = ("main", "rearguard", "adafruit_bus_device", "adafruit_vl53l1x", "board")


def device_library_path(module="adafruit_vl53l1x"):
    """Where pip put a device library (installed with --no-deps, see requirements-device.txt)."""
    for key in ("purelib", "platlib"):
        path = os.path.join(sysconfig.get_paths()[key], module + ".py")
        if os.path.exists(path):
            return path
    raise FileNotFoundError(
        "%s.py is not installed: run `make setup` (requirements-device.txt)" % module
    )


def _search_roots(top):
    if top == "adafruit_vl53l1x":
        return [os.path.dirname(device_library_path())]
    if top == "adafruit_bus_device":
        return [FIRMWARE_LIB]
    return [FIRMWARE]


class _FirmwareFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, overrides):
        self.overrides = overrides
        fw_builtins = dict(builtins.__dict__)
        fw_builtins["__import__"] = self._import
        self.builtins = fw_builtins

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in self.overrides:
            return self.overrides[name]
        return builtins.__import__(name, globals, locals, fromlist, level)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if top not in DEVICE_TOPS or top == "board":
            return None
        rel = fullname.replace(".", os.sep)
        for root in _search_roots(top):
            pkg = os.path.join(root, rel, "__init__.py")
            if os.path.exists(pkg):
                return importlib.util.spec_from_file_location(
                    fullname, pkg, loader=self, submodule_search_locations=[os.path.dirname(pkg)]
                )
            mod = os.path.join(root, rel + ".py")
            if os.path.exists(mod):
                return importlib.util.spec_from_file_location(fullname, mod, loader=self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__dict__["__builtins__"] = self.builtins
        with open(module.__spec__.origin) as f:
            code = compile(f.read(), module.__spec__.origin, "exec")
        exec(code, module.__dict__)


def load_board_config(name):
    """The board config module boards/<name>.py, or ValueError naming the known boards."""
    path = os.path.join(BOARDS, name + ".py")
    if not name.replace("_", "").isalnum() or not os.path.exists(path):
        raise ValueError("unknown board %r; known boards: %s" % (name, ", ".join(known_boards())))
    spec = importlib.util.spec_from_file_location("board", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def known_boards():
    return sorted(
        f[:-3] for f in os.listdir(BOARDS) if f.endswith(".py") and not f.startswith("_")
    )


def _purge():
    for name in list(sys.modules):
        if name.split(".")[0] in DEVICE_TOPS:
            del sys.modules[name]


@contextlib.contextmanager
def firmware_modules(board_config=None, extra_overrides=None, fresh=True):
    """Import firmware modules as the device would see them; yields `load(name)`.

    Each use starts from a fresh interpreter state (like a reset): modules loaded
    by an earlier board are dropped first. `fresh=False` keeps them: for running
    firmware loaded earlier, whose own imports (the sync server, the range
    sensor's set-up) happen while it runs.
    """
    overrides = {"time": vtime, "machine": machine, "esp32": esp32, "micropython": micropython, "gc": vgc}
    if board_config is not None:
        overrides["board"] = board_config
    overrides.update(extra_overrides or {})
    finder = _FirmwareFinder(overrides)
    if fresh:
        _purge()
    sys.meta_path.insert(0, finder)
    try:
        yield importlib.import_module
    finally:
        sys.meta_path.remove(finder)


def run_main(board_config, fs, extra_overrides=None, on_boot=None):
    """Boot the firmware and run it as firmware/main.py does on a board
    (rearguard.app.main: boot, then serve), with `fs` as its flash.

    `on_boot(app)`, if given, is called between the two, once the App is
    built: the simulator's window onto events and state. The firmware does not
    know it is watched."""
    with firmware_modules(board_config, extra_overrides) as load:
        app_module = load("rearguard.app")
        app = app_module.boot(board_config, machine, vtime, fs)
        if on_boot is not None:
            on_boot(app)
        app_module.serve(app, machine, vtime)
