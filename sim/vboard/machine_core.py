# The ESP32 port's `machine` API, written once for every virtual board: the
# CPython simulator (sim/machine.py), the WebAssembly board
# (sim/mpboard/device/machine.py) and the allocation probe
# (tests/mp/fake_machine.py). Each of those is this module plus a Board
# subclass: its runtime's glue (clock, logs, resets, serial line).
#
#     from vboard.machine_core import *       # (sim.vboard.machine_core under CPython)
#     bind(MyBoard((0,)))                      # the hardware every object reaches
#     i2c = I2C(0, scl=Pin(22), sda=Pin(21))
#     i2c.readfrom_mem(0x50, 0, 1)             # OSError(19): nobody at that address
#
# Runs under CPython and MicroPython; the paths a firmware tick uses (pin reads,
# PWM duty, I2C transactions, ADC reads) allocate nothing but what the ESP32
# port's own calls return (readfrom, readfrom_mem).
#
# Energy: every board keeps a ledger (vboard/energy.py) of the CPU's frequency
# and sleeps, PWM duties, output levels and the chips' modes over time; the
# power model (sim/power.py, docs/power.md) turns it into charge. The ESP32's
# `esp32` module's deep-sleep wake sources live here too (wake_on_ext0/ext1):
# each glue also answers `import esp32`.
try:
    from time import ticks_ms as _ticks_ms  # MicroPython: the glue's clock
except ImportError:  # CPython: the simulator's board overrides Board.now_ms

    def _ticks_ms():
        return 0


from .energy import CPU_DEEP_SLEEP, CPU_LIGHT_SLEEP, Ledger

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_ENODEV = 19
_PINS = 49  # GPIO0..48: the ESP32-S3's range, the ESP32's fits inside
_IN = 1
_OUT = 3
_OPEN_DRAIN = 7
_PULL_DOWN = 1
_PULL_UP = 2
_ADC_FULL_UV = 3_100_000  # 11 dB attenuation spans about 0..3.1 V
_FREQS_MHZ = (20, 40, 80, 160, 240)  # what the ESP32 port's machine.freq() accepts
_DEFAULT_MHZ = 240  # the port's frequency at boot
WAKEUP_ALL_LOW = False  # esp32.WAKEUP_ALL_LOW / WAKEUP_ANY_HIGH
WAKEUP_ANY_HIGH = True

_board = None  # the Board every machine object reaches: bind(board)


def bind(board):
    global _board
    _board = board


class Pins:
    # What the GPIO matrix holds per pin: mode (0 = never set), pull, output level.
    def __init__(self):
        self.mode = bytearray(_PINS)
        self.pull = bytearray(_PINS)
        self.out = bytearray(_PINS)
        self.held = bytearray(_PINS)  # Pin(..., hold=True): kept through deep sleep

    def level(self, pin):
        """What the pin reads when nothing outside drives it."""
        mode = self.mode[pin]
        if mode == _OUT or mode == _OPEN_DRAIN:
            return self.out[pin]
        return 1 if self.pull[pin] == _PULL_UP else 0

    def release(self, keep_held=False):
        """A reset: every pin an input again, without pull (deep sleep keeps
        the held ones)."""
        for i in range(_PINS):
            if keep_held and self.held[i]:
                continue
            self.mode[i] = 0
            self.pull[i] = 0
            self.out[i] = 0
            self.held[i] = 0


class I2CBus:
    # One I2C bus: the chip models on it by address. A chip answers
    # select/write_from/read_into/i2c_write (sim/vboard/chips.Registers).
    def __init__(self):
        self.devices = {}

    def attach(self, addr, chip):
        self.devices[addr] = chip

    def detach(self, addr):
        self.devices.pop(addr, None)

    def scan(self):
        devices = self.devices
        return sorted(a for a in devices if devices[a].answers())

    def begin(self, nbytes, freq):
        """A transaction starts: the glue's wire time, hung bus, serial line."""

    def device(self, addr, nbytes, freq):
        """The chip a transaction reaches; OSError as the ESP32 port raises it."""
        self.begin(nbytes, freq)
        dev = self.devices.get(addr)
        if dev is None or not dev.answers():
            raise OSError(_ENODEV)
        err = dev.i2c_fault()
        if err:
            raise OSError(err)
        return dev


class Board:
    # The hardware behind the API. These defaults are a board on which only the
    # chips answer: pins keep what they are set to, PWM and the watchdog do
    # nothing, the ADC reads 0 V, the RTC stands at 2000-01-01. Each runtime
    # overrides what its board does beyond that.
    unique_id = b"\x24\x0a\xc4\x00\x00\x01"
    reset_cause = PWRON_RESET
    name = "virtual ESP32"

    def __init__(self, bus_ids=()):
        self.pins = Pins()
        self.buses = {}
        for bus_id in bus_ids:
            self.buses[bus_id] = self.new_bus(bus_id)
        self.ledger = Ledger(self.now_ms)
        self.cpu_mhz = _DEFAULT_MHZ
        self.ledger.set("cpu", _DEFAULT_MHZ)
        self.wake_ext0 = None  # (pin, level): esp32.wake_on_ext0
        self.wake_ext1 = None  # (pins, level): esp32.wake_on_ext1

    def new_bus(self, bus_id):
        return I2CBus()

    def attach_i2c(self, bus_id, addr, chip):
        self.buses[bus_id].attach(addr, chip)
        if hasattr(chip, "report_power"):
            chip.ledger = self.ledger
            chip.report_power()

    def i2c_bus(self, bus_id):
        bus = self.buses.get(bus_id)
        if bus is None:
            raise ValueError("I2C(%r) is not wired on board %s" % (bus_id, self.name))
        return bus

    def check_pin(self, pin, output=False):
        """ValueError (TypeError) for a pin the chip does not have."""
        if not isinstance(pin, int) or not 0 <= pin < _PINS:
            raise ValueError("invalid pin")

    def pin_level(self, pin):
        return self.pins.level(pin)

    def pin_written(self, pin, level):
        """An output pin was driven (before Pins holds the new level)."""

    def pwm_written(self, pin, duty_u16):
        """A PWM duty changed."""

    def adc_uv(self, pin):
        return 0

    def wdt_start(self, timeout_ms):
        pass

    def wdt_feed(self):
        pass

    def timer_start(self, timer):
        """timer.mode, period_ms, callback are set: run it from now on."""

    def timer_stop(self, timer):
        pass

    def rtc_datetime(self, dt=None):
        return (2000, 1, 1, 5, 0, 0, 0, 0) if dt is None else None

    def sleep_ms(self, ms):
        pass

    def idle(self):
        pass

    def reset(self, cause):
        raise SystemExit(cause)

    def now_ms(self):
        """The board's clock for the energy ledger."""
        return _ticks_ms()

    # --- the CPU's power states (recorded in the ledger) ------------------------
    def set_freq(self, mhz):
        if mhz not in _FREQS_MHZ:
            raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
        self.cpu_mhz = mhz
        self.ledger.set("cpu", mhz)

    def light_sleep(self, ms):
        ledger = self.ledger
        ledger.set("cpu", CPU_LIGHT_SLEEP)
        self.sleep_ms(ms)
        ledger.set("cpu", self.cpu_mhz)
        ledger.count("light_sleep_wakes")

    def deep_sleep(self, ms):
        self.ledger.set("cpu", CPU_DEEP_SLEEP)
        self.sleep_until_wake(ms)
        self.cpu_mhz = _DEFAULT_MHZ  # the chip boots again at its default
        self.reset(DEEPSLEEP_RESET)

    def sleep_until_wake(self, ms):
        """Deep sleep: until a wake source fires or `ms` pass (0: no timer)."""
        self.sleep_ms(ms)

    def set_wake(self, ext1, pins, level):
        """esp32.wake_on_ext0/ext1: the glue may refuse a pin (ValueError)."""
        if ext1:
            self.wake_ext1 = (pins, level) if pins else None
        else:
            self.wake_ext0 = (pins[0], level) if pins else None

    def woken(self):
        """True while a configured wake source is at its waking level."""
        ext0 = self.wake_ext0
        if ext0 is not None and self.pin_level(ext0[0]) == (1 if ext0[1] else 0):
            return True
        ext1 = self.wake_ext1
        if ext1 is None:
            return False
        levels = [self.pin_level(p) for p in ext1[0]]
        return any(levels) if ext1[1] else not any(levels)


# --- resets and the CPU ------------------------------------------------------
def reset():
    _board.reset(HARD_RESET)


def soft_reset():
    _board.reset(SOFT_RESET)


def reset_cause():
    return _board.reset_cause


def unique_id():
    return _board.unique_id


def freq(hz=None):
    if hz is None:
        return _board.cpu_mhz * 1_000_000
    _board.set_freq(hz // 1_000_000)
    return None


def idle():
    _board.idle()


def lightsleep(ms=0):
    _board.light_sleep(ms or 0)


def deepsleep(ms=0):
    _board.deep_sleep(ms or 0)


# --- the esp32 module's wake sources ---------------------------------------------
def wake_on_ext0(pin, level):
    _board.set_wake(False, () if pin is None else (_pin_id(pin),), level)


def wake_on_ext1(pins, level):
    _board.set_wake(True, tuple(_pin_id(p) for p in pins or ()), level)


def disable_irq():
    return 0


def enable_irq(state=0):
    return None


# --- pins ----------------------------------------------------------------------
class Pin:
    IN = _IN
    OUT = _OUT
    OPEN_DRAIN = _OPEN_DRAIN
    PULL_UP = _PULL_UP
    PULL_DOWN = _PULL_DOWN
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None, hold=None):
        _board.check_pin(id)
        self._id = id
        self._part = "gpio%d" % id  # its name in the energy ledger
        self.init(mode, pull, value, hold)

    def init(self, mode=-1, pull=-1, value=None, hold=None):
        if mode == _OUT or mode == _OPEN_DRAIN:
            _board.check_pin(self._id, True)
        if value is not None:
            self.value(value)  # the ESP32 port sets the level before the mode
        pins = _board.pins
        if mode != -1:
            pins.mode[self._id] = mode
        if pull != -1:
            pins.pull[self._id] = pull
        if hold is not None:
            pins.held[self._id] = 1 if hold else 0

    def value(self, v=None):
        if v is None:
            return _board.pin_level(self._id)
        level = 1 if v else 0
        _board.pin_written(self._id, level)
        _board.pins.out[self._id] = level
        _board.ledger.set(self._part, level)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3):
        self._irq = handler
        return None

    def __repr__(self):
        return "Pin(%d)" % self._id


def _pin_id(pin):
    return pin._id if isinstance(pin, Pin) else pin


# --- I2C ------------------------------------------------------------------------
class I2C:
    def __init__(self, id, scl=None, sda=None, freq=400_000, timeout=50_000):
        self._bus = _board.i2c_bus(id)
        self._freq = freq
        for p in (scl, sda):
            if p is not None:
                _board.check_pin(_pin_id(p), True)

    def scan(self):
        return self._bus.scan()

    def writeto(self, addr, buf, stop=True):
        self._bus.device(addr, len(buf), self._freq).i2c_write(buf)
        return 1

    def readfrom_into(self, addr, buf, stop=True):
        self._bus.device(addr, len(buf), self._freq).read_into(buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf)
        return bytes(buf)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        dev = self._bus.device(addr, addrsize // 8 + len(buf), self._freq)
        dev.select(memaddr)
        dev.read_into(buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        dev = self._bus.device(addr, addrsize // 8 + len(buf), self._freq)
        dev.select(memaddr)
        dev.write_from(buf)


SoftI2C = I2C


# --- PWM, ADC -------------------------------------------------------------------
class PWM:
    def __init__(self, dest, freq=None, duty_u16=None, duty_ns=None, invert=False):
        pin = _pin_id(dest)
        _board.check_pin(pin, True)
        self._pin = pin
        self._part = "pwm%d" % pin  # its name in the energy ledger
        self._freq = freq or 5000
        self._duty = 0
        _board.ledger.set(self._part, 0)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

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
            _board.pwm_written(self._pin, value)
            _board.ledger.set(self._part, value)

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
        _board.check_pin(self._pin)
        self._atten = atten

    def atten(self, value):
        self._atten = value

    def read_uv(self):
        return _board.adc_uv(self._pin)

    def read_u16(self):
        return max(0, min(65535, self.read_uv() * 65535 // _ADC_FULL_UV))

    def read(self):
        return self.read_u16() >> 4


# --- watchdog, timers, RTC --------------------------------------------------------
class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError("timeout")
        _board.wdt_start(timeout)

    def feed(self):
        _board.wdt_feed()


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kwargs):
        self.id = id
        self.callback = None
        if kwargs:
            self.init(**kwargs)

    def init(self, mode=PERIODIC, period=-1, freq=-1, callback=None):
        if freq > 0:
            period = 1000 // freq
        if period <= 0:
            raise ValueError("period")
        self.mode = mode
        self.period_ms = period
        self.callback = callback
        _board.timer_start(self)

    def deinit(self):
        _board.timer_stop(self)


class RTC:
    def datetime(self, dt=None):
        return _board.rtc_datetime(dt)

    def init(self, dt):
        self.datetime(dt)
