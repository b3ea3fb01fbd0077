# Runs the parity cases of one tests/mp/parity_*.py file under MicroPython and
# prints each result as an MPJSON line; tests/test_micropython_parity.py runs
# the same cases under CPython (on the simulator's modules) and compares.
#
#     import mp_parity; mp_parity.run("parity_core")
import json
import sys


def load(name):
    """A firmware module by dotted name, as the case functions expect."""
    __import__(name)
    return sys.modules[name]


def _forget_firmware():
    # Each case starts from freshly imported firmware modules (like a reset).
    for name in list(sys.modules):
        if name.split(".")[0] in ("rearguard", "board"):
            del sys.modules[name]


def run(module_name):
    cases = load(module_name)
    for name in sorted(dir(cases)):
        if not name.startswith("case_"):
            continue
        _forget_firmware()
        try:
            result = getattr(cases, name)(load)
            print("MPJSON " + json.dumps({"case": name, "result": result}))
        except Exception as e:
            print("MPJSON " + json.dumps({"case": name, "error": "%s: %s" % (type(e).__name__, e)}))
