# `machine` on the virtual board (real MicroPython): the counterpart of
# sim/machine.py for the WebAssembly board. I2C reaches register models of the
# board's chips (mpboard_chips) fed by the trace; PWM duty changes are logged
# (the motor pattern); ADC reads a charged battery; WDT resets a hung board;
# Timer callbacks run between firmware steps and while the REPL is idle; RTC
# follows what the host set. Errors match the ESP32 port: a missing I2C device
# raises OSError(ENODEV).
#
#     i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21))
#     i2c.readfrom_mem(0x68, 0x75, 1)          # b'h': the MPU6050 answers
import binascii
import json
import sys

import js
import mpboard_chips
import mpboard_time as _time

_board = js.mpboard
_poll_js = _board.poll
_log_js = _board.log
_config = json.loads(_board.config)
_BOARD = _config["board"]

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_POLL_EVERY_MS = 5


class _State:
    # What the board's hardware holds while MicroPython runs: made on first use.
    def __init__(self):
        self.world = None
        self.devices = None  # bus -> {addr: chip model}
        self.pins = {}  # pin -> output level
        self.wdt_timeout_ms = 0
        self.wdt_fed_ms = 0
        self.timers = {}  # id -> Timer
        self.last_poll_ms = _time.ticks_ms()

    def chips(self):
        if self.devices is None:
            presses = [tuple(p) for p in _config.get("presses", ())]
            self.world = mpboard_chips.World(trace_rows(), _time.ticks_ms, _time.ticks_diff, presses)
            tof, imu = _BOARD["TOF"], _BOARD["IMU"]
            self.devices = {bus: {} for bus in _BOARD["I2C_IDS"]}
            self.devices[tof["bus"]][tof["addr"]] = mpboard_chips.Vl53l1x(self.world)
            self.devices[imu["bus"]][imu["addr"]] = mpboard_chips.imu_for(self.world, imu["chip"], imu["axes"])
        return self.devices

    # the watchdog, as mpboard_time.sleep_ms sees it
    def left_ms(self):
        return self.wdt_timeout_ms - _time.ticks_diff(_time.ticks_ms(), self.wdt_fed_ms)

    def check(self):
        _service()

    def tof(self):
        tof = _BOARD["TOF"]
        return self.chips()[tof["bus"]][tof["addr"]]


_state = _State()
_trace_rows = None


def trace_rows():
    """The trace, parsed once per boot (mpboard_boot.setup calls this early)."""
    global _trace_rows
    if _trace_rows is None and _config.get("trace"):
        with open("/_board/trace.csv") as f:
            _trace_rows = mpboard_chips.load_trace(f)
    return _trace_rows


def _service():
    # Between firmware steps: serial line (Ctrl-C), timers, watchdog.
    now = _time.ticks_ms()
    _state.last_poll_ms = now
    _poll_js()
    if _state.timers:
        for timer in list(_state.timers.values()):
            timer._due(now)
    if _state.wdt_timeout_ms and _time.ticks_diff(now, _state.wdt_fed_ms) > _state.wdt_timeout_ms:
        _log_js("%d,wdt,reset,0" % now)
        _state.wdt_timeout_ms = 0
        _time.watchdog = None
        _board.reset("wdt")
        raise SystemExit  # unwinds the firmware; the board then resets


def _step():
    if _time.ticks_diff(_time.ticks_ms(), _state.last_poll_ms) >= _POLL_EVERY_MS:
        _service()


# --- resets and the CPU ------------------------------------------------------------
def reset():
    _board.reset("hard")
    raise SystemExit


def soft_reset():
    _board.reset("soft")
    raise SystemExit


def reset_cause():
    return _board.resetCause


def unique_id():
    # Each board its own (the launcher's --uid, or one made per board).
    return binascii.unhexlify(_config.get("uid") or "240ac45a1001")


def freq(hz=None):
    return 240_000_000 if hz is None else None


def idle():
    _service()


def lightsleep(ms=0):
    _time.sleep_ms(ms)


def deepsleep(ms=0):
    _time.sleep_ms(ms)
    reset()


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


# --- pins ---------------------------------------------------------------------------
class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        if not isinstance(id, int) or not 0 <= id <= 48:
            raise ValueError("invalid pin")
        self._id = id
        self._mode = -1
        self._pull = -1
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        if mode != -1:
            self._mode = mode
        if pull != -1:
            self._pull = pull
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            if self._mode in (Pin.OUT, Pin.OPEN_DRAIN):
                return _state.pins.get(self._id, 0)
            button = _BOARD["BUTTON"]
            if self._id == button["pin"]:
                _state.chips()
                pressed = _state.world.button_pressed()
                return 0 if pressed == button["active_low"] else 1
            # nothing else drives the board's inputs: the pull decides
            return 0 if self._pull == Pin.PULL_DOWN else 1
        level = 1 if v else 0
        if _state.pins.get(self._id) != level:
            _state.pins[self._id] = level
            _log_js("%d,pin,%d,%d" % (_time.ticks_ms(), self._id, level))
            if self._id == _BOARD["TOF"].get("xshut"):
                _state.tof().xshut(level)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3):
        return None

    def __repr__(self):
        return "Pin(%d)" % self._id


def _pin_id(pin):
    return pin._id if isinstance(pin, Pin) else pin


# --- I2C -----------------------------------------------------------------------------
class I2C(mpboard_chips.I2CBus):
    # the transactions themselves: mpboard_chips.I2CBus
    def __init__(self, id, scl=None, sda=None, freq=400_000, timeout=50_000):
        if id not in _BOARD["I2C_IDS"]:
            raise ValueError("I2C(%r) is not wired on board %s" % (id, _BOARD["NAME"]))
        self._id = id
        self._freq = freq

    def _chips(self):
        _step()  # serve the serial line and timers between the firmware's transactions
        return _state.chips()[self._id]


SoftI2C = I2C


# --- PWM (the motor), ADC (the battery) ----------------------------------------------------
class PWM:
    def __init__(self, dest, freq=5000, duty_u16=None, duty_ns=None, invert=False):
        self._pin = _pin_id(dest)
        self._freq = freq
        self._duty = -1
        self.duty_u16(duty_u16 or 0)

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        if not 0 <= value <= 65535:
            raise ValueError("duty must be 0-65535")
        if value != self._duty:
            self._duty = value
            _log_js("%d,pwm,%d,%d" % (_time.ticks_ms(), self._pin, value))
        _step()

    def duty(self, value=None):
        if value is None:
            return self._duty >> 6
        self.duty_u16(min(1023, value) << 6)

    def deinit(self):
        self.duty_u16(0)


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 3

    def __init__(self, pin, atten=ATTN_11DB):
        self._pin = _pin_id(pin)
        self._atten = atten

    def atten(self, value):
        self._atten = value

    def read_uv(self):
        # the battery (--battery-mv) through the board's divider
        top, bottom = _BOARD["BATTERY_DIVIDER"]
        return _config["battery_mv"] * 1000 * bottom // top

    def read_u16(self):
        return max(0, min(65535, self.read_uv() * 65535 // 3_100_000))

    def read(self):
        return self.read_u16() >> 4


# --- watchdog, timers, RTC -------------------------------------------------------------------
class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError("timeout")
        _state.wdt_timeout_ms = timeout
        _state.wdt_fed_ms = _time.ticks_ms()
        _time.watchdog = _state

    def feed(self):
        _state.wdt_fed_ms = _time.ticks_ms()
        _step()


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kwargs):
        self._id = id
        self._callback = None
        if kwargs:
            self.init(**kwargs)

    def init(self, mode=PERIODIC, period=-1, freq=-1, callback=None):
        if freq > 0:
            period = 1000 // freq
        self._mode = mode
        self._period = max(1, period)
        self._callback = callback
        self._next = _time.ticks_add(_time.ticks_ms(), self._period)
        _state.timers[self._id] = self

    def deinit(self):
        _state.timers.pop(self._id, None)

    def _due(self, now):
        if _time.ticks_diff(now, self._next) < 0:
            return
        if self._mode == Timer.PERIODIC:
            self._next = _time.ticks_add(now, self._period)
        else:
            self.deinit()
        if self._callback is not None:
            self._callback(self)


class RTC:
    def datetime(self, dt=None):
        if dt is None:
            y, mo, d, h, mi, s, wd, _ = _time.gmtime()
            return (y, mo, d, wd, h, mi, s, 0)
        y, mo, d, _wd, h, mi, s = dt[:7]
        _board.rtcOffset(_time.mktime((y, mo, d, h, mi, s, 0, 0)) - _board.uptimeMs() // 1000)
        return None

    def init(self, dt):
        self.datetime(dt)


def _idle_service():
    # Called by mpboard_boot.idle while the REPL waits for input.
    _service()


sys.modules.setdefault("umachine", sys.modules[__name__])
