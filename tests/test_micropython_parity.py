"""Pure firmware logic, and what the virtual boards share (sim/vboard), give
the same results under real MicroPython and under CPython (the simulator's
modules). Cases live in tests/mp/parity_*.py."""

import glob
import importlib
import importlib.util
import json
import os

import pytest

from sim import loader, vclock, vgc, vtime
from sim import micropython as sim_micropython
from tools import micropython

CASE_FILES = sorted(glob.glob(os.path.join(micropython.TESTS_MP, "parity_*.py")))


def case_module(path):
    name = "mp_case_" + os.path.basename(path)[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_cases():
    for path in CASE_FILES:
        module = case_module(path)
        for name in sorted(dir(module)):
            if name.startswith("case_"):
                yield os.path.basename(path)[:-3], name


CASES = list(all_cases())


@pytest.fixture(scope="module")
def micropython_results():
    jobs = {stem: "import mp_parity\nmp_parity.run(%r)" % stem for stem in {s for s, _ in CASES}}
    results = {}
    for stem, run in micropython.run_batch(jobs).items():
        for record in run.check().records():
            results[stem, record["case"]] = record
    return results


def cpython_result(stem, case):
    fn = getattr(case_module(os.path.join(micropython.TESTS_MP, stem + ".py")), case)
    stand_ins = {"time": vtime, "micropython": sim_micropython, "gc": vgc}
    saved = vtime._clock
    vtime.bind(vclock.Clock())

    def load_cpython(load, name):
        if name.split(".")[0] == "vboard":  # /tests_mp/vboard on MicroPython
            return importlib.import_module("sim." + name)
        return stand_ins.get(name) or load(name)

    try:
        with loader.firmware_modules(loader.load_board_config("esp32_devkitc")) as load:
            result = fn(lambda name: load_cpython(load, name))
    finally:
        vtime.bind(saved)
    return json.loads(json.dumps(result))


@pytest.mark.parametrize("stem,case", CASES, ids=["%s.%s" % c for c in CASES])
def test_same_result_under_micropython_and_cpython(micropython_results, stem, case):
    record = micropython_results.get((stem, case))
    assert record is not None, "the case did not run under MicroPython"
    assert "error" not in record, "under MicroPython: " + record["error"]
    assert record["result"] == cpython_result(stem, case)
