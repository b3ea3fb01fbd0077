# The virtual board's flash for the firmware's session store (rearguard/flash.py
# looks for this module before it requires sys.platform == "esp32", which this
# port cannot claim). It is the board's own filesystem through `os` and `open`,
# exactly what the store uses on an ESP32's LittleFS.
#
#     import rearguard_flash; rearguard_flash.mkdir("/rg")
from os import listdir, mkdir, remove, rename, stat, statvfs  # noqa: F401 - re-exported

open = open  # noqa: A001 - the builtin, as flash.Flash expects `fs.open`
