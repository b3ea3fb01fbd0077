# MicroPython-side checks that the firmware runs on the real interpreter:
# every module imports, and main.py boots on fake hardware and stops cleanly
# on Ctrl-C. Driven by tests/test_micropython_conformance.py; results are
# printed as MPJSON lines, and a failure ends the job with an exception.
#
#     import mp_conformance; mp_conformance.import_all(["rearguard.app", ...])
import json
import sys


def record(obj):
    print("MPJSON " + json.dumps(obj))


def import_all(names):
    failed = []
    for name in names:
        try:
            __import__(name)
            record({"module": name, "ok": True})
        except Exception as e:  # SyntaxError, ImportError, AttributeError...
            failed.append(name)
            record({"module": name, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    if failed:
        raise ImportError("not importable under MicroPython: " + ", ".join(failed))


def boot(ctrl_c_after_feeds=30, with_tof=True):
    """Run main.py as the board would, with Ctrl-C after some watchdog feeds."""
    import time

    import fake_machine
    import mp_probe

    from rearguard.drivers.axes import parse_axes

    sys.modules["machine"] = fake_machine  # the WebAssembly port has no machine module
    import board

    # the chips follow the port's clock
    mp_probe.rig(board, time.ticks_ms, time.ticks_us, parse_axes(board.IMU["axes"]), with_tof)
    fake_machine.hardware.ctrl_c_after_feeds = ctrl_c_after_feeds
    import main  # runs the tick loop until the fake WDT raises KeyboardInterrupt

    app = main.app  # what main.py leaves in the REPL's namespace
    record({
        "ticks": app.ticks,
        "motor_duty": app.hw.motor.pwm.duty_u16(),
        "motor_changes": fake_machine.hardware.pwm_changes,
        "tof_ok": app.hw.tof.ok,
        "imu_ok": app.hw.imu.ok,
    })
