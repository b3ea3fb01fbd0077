"""`make build`: every firmware file compiles with mpy-cross for the ESP32, the
build tree holds an .mpy for every module (main.py as source), and that tree
boots under real MicroPython as it would on the board."""

import os
import subprocess
import sys

import pytest

from sim.loader import ROOT, known_boards
from tools import build, micropython

SOURCES = build.sources("esp32_devkitc")
# every board's config compiles too, not only the default board's
SOURCES += [(h, "boards/" + b + ".py") for b in known_boards() if b != "esp32_devkitc"
            for h, d in build.sources(b) if d == "board.py"]


@pytest.mark.parametrize("host,device", SOURCES, ids=[d for _h, d in SOURCES])
def test_mpy_cross_compiles_for_the_esp32(tmp_path, host, device):
    target = tmp_path / "out.mpy"
    build.compile_mpy(host, str(target), device)
    header = target.read_bytes()[:2]
    assert header == b"M\x06"  # .mpy version 6: MicroPython 1.20 and later


def test_mpy_cross_rejects_what_micropython_cannot_compile(tmp_path):
    # The compile test can fail: MicroPython's compiler refuses syntax CPython accepts.
    bad = tmp_path / "bad.py"
    bad.write_text("def f[T](x: T) -> T:\n    return x\n")  # PEP 695 generics
    with pytest.raises(build.BuildError, match="bad.py"):
        build.compile_mpy(str(bad), str(tmp_path / "bad.mpy"), "bad.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build.build("esp32_devkitc", str(tmp_path_factory.mktemp("build")), quiet=True)


def test_build_has_an_mpy_for_every_firmware_module(built):
    on_board = {path for path, _src, _size in built.files}
    for name in micropython.firmware_module_names():
        if name == "main":
            continue
        rel = name.replace(".", "/")
        package = rel + "/__init__.mpy"
        module = rel + ".mpy"
        candidates = {package, module, "lib/" + package, "lib/" + module}
        assert on_board & candidates, "no .mpy for " + name
    assert "main.py" in on_board  # the board boots main.py by name: kept as source
    assert {"board.mpy", "lib/adafruit_vl53l1x.mpy"} <= on_board
    assert not any(p.endswith(".py") for p in on_board - {"main.py"})
    for path in on_board:
        assert os.path.isfile(os.path.join(built.out_dir, path))
    assert built.total_bytes == sum(size for _p, _s, size in built.files) > 10_000


def test_built_tree_boots_under_micropython(built):
    boot = micropython.run(
        "import mp_conformance\nmp_conformance.boot(20)", built=built.out_dir
    ).check()
    assert "rearguard: stopped (Ctrl-C)" in boot.stdout


def test_build_of_an_unknown_board_lists_the_known_ones():
    proc = subprocess.run(
        [sys.executable, "-m", "tools.build", "nope"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "known boards: " + ", ".join(known_boards()) in proc.stderr
