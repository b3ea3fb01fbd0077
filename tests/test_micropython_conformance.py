"""The firmware under real MicroPython (WebAssembly port): every module imports,
main.py boots on fake hardware and stops cleanly on Ctrl-C, and the runner
fails when a firmware module uses something the ESP32 port lacks."""

import os
import shutil

import pytest

from sim.loader import ROOT, known_boards
from tools import micropython

MODULES = [m for m in micropython.firmware_module_names() if m != "main"]


def import_job(names):
    return "import mp_conformance\nmp_conformance.import_all(%r)" % (names,)


@pytest.fixture(scope="module")
def runs():
    return micropython.run_batch({
        "imports": import_job(MODULES),
        "boot": "import mp_conformance\nmp_conformance.boot(30)",
        "boot_without_tof": "import mp_conformance\nmp_conformance.boot(30, with_tof=False)",
    })


@pytest.fixture(scope="module")
def imported(runs):
    return {r["module"]: r for r in runs["imports"].records()}


@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_imports_under_micropython(imported, module):
    record = imported.get(module)
    assert record is not None, "the import run stopped before " + module
    assert record["ok"], record.get("error")


@pytest.mark.parametrize("board", known_boards())
def test_board_config_imports_under_micropython(board):
    result = micropython.run("import board\nprint(board.NAME)", board=board).check()
    assert result.stdout.strip() == board


def test_main_boots_runs_the_loop_and_ctrl_c_leaves_the_motor_off(runs):
    boot = runs["boot"].check()
    (state,) = boot.records()
    assert "rearguard: stopped (Ctrl-C)" in boot.stdout
    assert state["ticks"] >= 29  # the loop really ran until the 30th watchdog feed
    assert state["motor_duty"] == 0  # esp32_devkitc's motor is active high: 0 = off


def test_boot_without_range_sensor_says_so_instead_of_crashing(runs):
    boot = runs["boot_without_tof"].check()
    assert "no VL53L1X at 0x29" in boot.stdout
    assert "rearguard: stopped (Ctrl-C)" in boot.stdout


# Each would run under CPython; none runs on the ESP32 port.
CPYTHON_ONLY = {
    "rearguard.uses_typing": "from typing import Optional\n",
    # The WebAssembly build freezes logging; the ESP32 port does not have it.
    "rearguard.uses_logging": "import logging\nLOG = logging.getLogger('rearguard')\n",
    "rearguard.uses_removeprefix": "NAME = 'rearguard.app'.removeprefix('rearguard.')\n",
}


def test_runner_fails_when_a_module_uses_what_micropython_lacks(tmp_path):
    firmware = tmp_path / "firmware"
    shutil.copytree(micropython.FIRMWARE, firmware, ignore=shutil.ignore_patterns("__pycache__"))
    for name, source in CPYTHON_ONLY.items():
        (firmware / (name.replace(".", "/") + ".py")).write_text(source)
    names = [m for m in micropython.firmware_module_names(str(firmware)) if m != "main"]

    result = micropython.run(import_job(names), firmware=str(firmware))

    assert not result.ok
    with pytest.raises(micropython.MicroPythonError, match="rearguard.uses_typing"):
        result.check()
    failed = {r["module"] for r in result.records() if not r["ok"]}
    assert failed == set(CPYTHON_ONLY)


def test_import_guard_allows_every_module_the_esp32_stubs_describe():
    # The stubs are generated from the real port: a module they list but the
    # guard refuses would fail tests for code that runs on the board.
    stubs = os.path.join(ROOT, ".venv", "stubs")
    modules = {e[:-4] for e in os.listdir(stubs) if e.endswith(".pyi")}
    modules |= {e for e in os.listdir(stubs) if os.path.isdir(os.path.join(stubs, e))
                and not e.endswith("-info") and e not in ("stdlib", "stubs", "_mpy_shed")}
    assert modules - {"__builtins__"} <= micropython.ESP32_MODULES
