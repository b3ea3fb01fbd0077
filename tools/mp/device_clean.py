# Runs ON THE BOARD (mpremote run, from tools/deploy.py) before a build is
# copied: removes the files an earlier deploy put there, and only those.
# MicroPython imports x.py in preference to x.mpy, so a stale source file left
# by a developer's quick copy would shadow the new build. Session data and
# anything else in flash stay untouched.
import os

OWNED = ("main.py", "board.py", "board.mpy", "rearguard", "lib/adafruit_bus_device",
         "lib/adafruit_vl53l1x.py", "lib/adafruit_vl53l1x.mpy")


def remove(path):
    try:
        mode = os.stat(path)[0]
    except OSError:
        return  # not there: nothing to clean
    if mode & 0x4000:  # a directory
        for name in os.listdir(path):
            remove(path + "/" + name)
        os.rmdir(path)
    else:
        os.remove(path)
    print("removed", path)


for owned in OWNED:
    remove("/" + owned)
