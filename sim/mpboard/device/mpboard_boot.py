# What the virtual board's ROM does around the user's files: mount the flash,
# put the board's `time` in place, run boot.py / main.py the way pyexec does,
# and serve timers and the watchdog while the REPL is idle. Called by board.mjs.
#
#     mpboard_boot.setup(); mpboard_boot.run_file("main.py"); mpboard_boot.idle()
import os
import sys

import js

_board = js.mpboard


def setup():
    import json

    import mpboard_time
    import mpboard_vfs

    os.umount("/")
    os.mount(mpboard_vfs.FlashVfs(), "/")
    os.chdir("/")
    sys.path[:] = ["/_board", "", ".frozen", "/lib"]
    mpboard_time.set_speed(json.loads(_board.config)["speed"])
    sys.modules["time"] = mpboard_time
    sys.modules["utime"] = mpboard_time
    import machine

    machine.trace_rows()  # parse the trace now: main.py's run never collects garbage


def run_file(name):
    """Runs boot.py or main.py like pyexec_file_if_exists: in __main__'s
    globals, printing any uncaught exception. True asks for a soft reset."""
    try:
        os.stat(name)
    except OSError:
        return False
    import micropython

    import __main__

    micropython.kbd_intr(3)  # pyexec lets Ctrl-C interrupt the file it runs
    try:
        with open(name) as f:
            code = compile(f.read(), name, "exec")
        exec(code, __main__.__dict__)
    except SystemExit:
        return True
    except BaseException as e:  # noqa: BLE001 - pyexec prints everything, KeyboardInterrupt too
        _print_exception(e)
    finally:
        micropython.kbd_intr(-1)
    return False


def _print_exception(e):
    # As the ESP32 prints it: without this board's own frames (time.sleep_ms,
    # machine) in between the firmware's.
    import io

    text = io.StringIO()
    sys.print_exception(e, text)
    for line in text.getvalue().split("\n"):
        if line and '"/_board/' not in line:
            print(line)


def idle():
    """The REPL is waiting: run due timers, check the watchdog. 1 = reset now."""
    machine = sys.modules.get("machine")
    if machine is None:
        return 0
    try:
        machine._idle_service()
    except SystemExit:
        return 1
    except BaseException as e:  # noqa: BLE001 - a timer callback's error, as the ESP32 prints it
        _print_exception(e)
    return 0
