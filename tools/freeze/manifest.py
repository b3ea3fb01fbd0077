# ruff: noqa: F821  (include, package, module are given by MicroPython's manifest tool)
# MicroPython freeze manifest: builds RearGuard's firmware package into a
# custom ESP32 MicroPython image, so its bytecode runs from flash instead of
# being copied into the heap at import (see docs/architecture.md, Memory).
#
#   make -C <micropython>/ports/esp32 BOARD=ESP32_GENERIC \
#        FROZEN_MANIFEST=<this repo>/tools/freeze/manifest.py
#
# Then deploy only main.py and board.mpy (make build BOARD=<name>, copy those
# two). Not built in this repo's CI: it needs ESP-IDF, which no package
# registry carries. Relative paths are relative to this file.
include("$(PORT_DIR)/boards/manifest.py")
package("rearguard", base_path="../../firmware")
package("adafruit_bus_device", base_path="../../firmware/lib")
module("adafruit_vl53l1x.py", base_path="../../.venv/lib/python3.11/site-packages")
