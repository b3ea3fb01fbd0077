# `machine` on the virtual board (real MicroPython): the shared core
# (vboard/machine_core.py, the ESP32 port's API written once for every virtual
# board) with this board's glue to its pty host (js.mpboard). It is on its USB
# cable (the VBUS pin reads 1), so the firmware never sleeps on it; a deep
# sleep would wait for the button. The chips are the
# shared register models fed by the trace (vboard/trace_player.py), wired as
# the launcher describes the board; pin and PWM changes, boots and watchdog
# resets go to the hardware log; I2C, PWM and WDT calls serve the serial line;
# the watchdog resets a hung board; timers run between firmware steps and while
# the REPL is idle; the RTC follows what the host set.
#
#     i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21))
#     i2c.readfrom_mem(0x68, 0x75, 1)          # b'h': the MPU6050 answers
import binascii
import json
import sys

import js
import mpboard_time as _time
from vboard import machine_core as _core
from vboard import trace_player as _trace
from vboard.machine_core import *  # noqa: F403 - the API, as the firmware sees it

_js = js.mpboard
_poll_js = _js.poll
_log_js = _js.log
_config = json.loads(_js.config)
_BOARD = _config["board"]
_RESET_NAMES = {_core.HARD_RESET: "hard", _core.SOFT_RESET: "soft", _core.WDT_RESET: "wdt",
                _core.DEEPSLEEP_RESET: "hard"}
_POLL_EVERY_MS = 5
_trace_rows = None


def trace_rows():
    """The trace, parsed once per boot (mpboard_boot.setup calls this early)."""
    global _trace_rows
    if _trace_rows is None and _config.get("trace"):
        with open("/_board/trace.csv") as f:
            _trace_rows = _trace.load_trace(f)
    return _trace_rows


def _ticks_us():
    return _time.ticks_us()


class _Bus(_core.I2CBus):
    def begin(self, nbytes, freq):
        _step()  # serve the serial line and timers between the firmware's transactions


class _Board(_core.Board):
    # Each board its own (the launcher's --uid, or one made per board).
    unique_id = binascii.unhexlify(_config.get("uid") or "240ac45a1001")
    name = _BOARD["NAME"]

    def __init__(self):
        _core.Board.__init__(self, _BOARD["I2C_IDS"])
        self.reset_cause = _js.resetCause
        presses = [tuple(p) for p in _config.get("presses", ())]
        self.player = _trace.TracePlayer(trace_rows(), _time.ticks_ms, _time.ticks_diff, presses)
        tof, imu = _BOARD["TOF"], _BOARD["IMU"]
        self.tof = _trace.Vl53l1x(self.player, _ticks_us)
        self.attach_i2c(tof["bus"], tof["addr"], self.tof)
        self.attach_i2c(imu["bus"], imu["addr"],
                        _trace.imu_for(self.player, imu["chip"], imu["map"], _ticks_us))
        self.driven = bytearray(len(self.pins.out))  # pins written since boot (logged)
        self.wdt_timeout_ms = 0
        self.wdt_fed_ms = 0
        self.timers = {}  # id -> [Timer, when it is next due]
        self.last_poll_ms = _time.ticks_ms()

    def new_bus(self, bus_id):
        return _Bus()

    def pin_level(self, pin):
        button = _BOARD["BUTTON"]
        if pin == button["pin"] and self.pins.mode[pin] != _core.Pin.OUT:
            return 0 if self.player.button_pressed() == button["active_low"] else 1
        if pin == _BOARD.get("VBUS"):
            return 1  # on its USB cable, as mpremote talks to it
        return self.pins.level(pin)

    def pin_written(self, pin, level):
        if self.pins.out[pin] != level or not self.driven[pin]:
            self.driven[pin] = 1
            _log_js("%d,pin,%d,%d" % (_time.ticks_ms(), pin, level))
        if pin == _BOARD["TOF"].get("xshut"):
            self.tof.xshut(level)

    def pwm_written(self, pin, duty_u16):
        _log_js("%d,pwm,%d,%d" % (_time.ticks_ms(), pin, duty_u16))
        _step()

    def adc_uv(self, pin):
        # the battery (--battery-mv) through the board's divider
        top, bottom = _BOARD["BATTERY_DIVIDER"]
        return _config["battery_mv"] * 1000 * bottom // top

    # the watchdog; mpboard_time.sleep_ms asks it too (left_ms, check)
    def wdt_start(self, timeout_ms):
        self.wdt_timeout_ms = timeout_ms
        self.wdt_fed_ms = _time.ticks_ms()
        _time.watchdog = self

    def wdt_feed(self):
        self.wdt_fed_ms = _time.ticks_ms()
        _step()

    def left_ms(self):
        return self.wdt_timeout_ms - _time.ticks_diff(_time.ticks_ms(), self.wdt_fed_ms)

    def check(self):
        _service()

    def timer_start(self, timer):
        self.timers[timer.id] = [timer, _time.ticks_add(_time.ticks_ms(), timer.period_ms)]

    def timer_stop(self, timer):
        self.timers.pop(timer.id, None)

    def run_timers(self, now):
        for entry in list(self.timers.values()):
            timer, due = entry
            if _time.ticks_diff(now, due) < 0:
                continue
            if timer.mode == _core.Timer.PERIODIC:
                entry[1] = _time.ticks_add(now, timer.period_ms)
            else:
                self.timer_stop(timer)
            if timer.callback is not None:
                timer.callback(timer)

    def rtc_datetime(self, dt=None):
        if dt is None:
            y, mo, d, h, mi, s, wd, _ = _time.gmtime()
            return (y, mo, d, wd, h, mi, s, 0)
        y, mo, d, _wd, h, mi, s = dt[:7]
        _js.rtcOffset(_time.mktime((y, mo, d, h, mi, s, 0, 0)) - _js.uptimeMs() // 1000)
        return None

    def sleep_ms(self, ms):
        _time.sleep_ms(ms)

    def sleep_until_wake(self, ms):
        # Deep sleep: the serial line still served, until a wake pin (the
        # button) or the timer; the watchdog sleeps with the CPU.
        self.wdt_timeout_ms = 0
        _time.watchdog = None
        start = _time.ticks_ms()
        while not self.woken():
            if ms and _time.ticks_diff(_time.ticks_ms(), start) >= ms:
                break
            _time.sleep_ms(50)

    def idle(self):
        _service()

    def reset(self, cause):
        _js.reset(_RESET_NAMES.get(cause, "hard"))
        raise SystemExit  # unwinds the firmware; the board then resets


def _service():
    # Between firmware steps: serial line (Ctrl-C), timers, watchdog.
    board = _hardware
    now = _time.ticks_ms()
    board.last_poll_ms = now
    _poll_js()
    if board.timers:
        board.run_timers(now)
    if board.wdt_timeout_ms and _time.ticks_diff(now, board.wdt_fed_ms) > board.wdt_timeout_ms:
        _log_js("%d,wdt,reset,0" % now)
        board.wdt_timeout_ms = 0
        _time.watchdog = None
        board.reset(_core.WDT_RESET)


def _step():
    if _time.ticks_diff(_time.ticks_ms(), _hardware.last_poll_ms) >= _POLL_EVERY_MS:
        _service()


def _idle_service():
    # Called by mpboard_boot.idle while the REPL waits for input.
    _service()


_hardware = _Board()
_core.bind(_hardware)
sys.modules.setdefault("umachine", sys.modules[__name__])
