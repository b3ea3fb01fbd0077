"""Serial ports on this computer, with the likely ESP32 boards marked by their
USB bridge's VID:PID, and `--port auto` resolved to the one likely board.

    list_ports() -> [{"port": "/dev/ttyUSB0", "usb_id": "10C4:EA60", "esp32": True, ...}]
    resolve("auto") -> "/dev/ttyUSB0"   (PortError if none or several)
"""

from serial.tools import list_ports as _list_ports

# USB VID:PID of ESP32 boards: the chip's own USB, and the usual USB-UART bridges.
ESP32_USB = {
    (0x303A, None): "Espressif native USB (ESP32-S2/S3/C3/C6)",
    (0x10C4, 0xEA60): "Silicon Labs CP210x (ESP32-DevKitC)",
    (0x1A86, 0x7523): "WCH CH340",
    (0x1A86, 0x55D4): "WCH CH9102 (M5Stack)",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6010): "FTDI FT2232 (ESP-Prog)",
}


class PortError(Exception):
    pass


def likely_esp32(vid, pid):
    return vid is not None and ((vid, pid) in ESP32_USB or (vid, None) in ESP32_USB)


def list_ports():
    found = []
    for p in sorted(_list_ports.comports(), key=lambda p: p.device):
        usb_id = "%04X:%04X" % (p.vid, p.pid) if p.vid is not None else ""
        found.append({"port": p.device, "usb_id": usb_id, "description": p.description or "",
                      "esp32": likely_esp32(p.vid, p.pid)})
    return found


def resolve(port):
    if port and port != "auto":
        return port
    boards = [p["port"] for p in list_ports() if p["esp32"]]
    if not boards:
        raise PortError("no ESP32 board found on USB: plug the clip in, then check `rearguard devices`")
    if len(boards) > 1:
        raise PortError("several boards found (%s): pick one with --port" % ", ".join(boards))
    return boards[0]
