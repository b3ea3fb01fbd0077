# A `machine` module for running the firmware under real MicroPython in tests
# (the WebAssembly port has none). It behaves like the ESP32 port where the
# firmware can tell: I2C routes to chip models by address and raises
# OSError(ENODEV) for an address nobody answers; PWM keeps its duty; WDT and
# Timer exist. Nothing here allocates on the paths a tick uses.
#
# The chip models are the virtual board's (sim/mpboard/device/mpboard_chips.py,
# written under /tests_mp by tools/micropython.py). The board's own machine.py
# is not used here: it talks to its pty host (js.mpboard), logs every pin and
# PWM change as a line of text and serves the serial line from I2C calls, all of
# which allocate inside the tick this module exists to measure.
#
#     import sys, fake_machine
#     fake_machine.attach(0, 0x29, mpboard_chips.Vl53l1x(world))
#     sys.modules["machine"] = fake_machine      # before `import main`
#     fake_machine.WDT.ctrl_c_after_feeds = 20   # main's loop then sees Ctrl-C

import mpboard_chips

# bus id -> {address: chip model} (mpboard_chips), filled by attach().
buses = {}


def attach(bus_id, addr, chip):
    if bus_id not in buses:
        buses[bus_id] = {}
    buses[bus_id][addr] = chip


def detach_all():
    buses.clear()


def reset():
    raise SystemExit("machine.reset()")


def reset_cause():
    return 1


def unique_id():
    return b"\x24\x0a\xc4\x00\x00\x01"


def freq(hz=None):
    return 240000000 if hz is None else None


def idle():
    pass


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.level = 1 if pull == Pin.PULL_UP else 0
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        if value is not None:
            self.level = 1 if value else 0

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.level = 1

    def off(self):
        self.level = 0

    def irq(self, handler=None, trigger=3):
        self.handler = handler


class I2C(mpboard_chips.I2CBus):
    # the transactions themselves: mpboard_chips.I2CBus
    def __init__(self, id, scl=None, sda=None, freq=400000, timeout=50000):
        if id not in buses:
            buses[id] = {}
        self.devices = buses[id]

    def _chips(self):
        return self.devices


SoftI2C = I2C


class PWM:
    def __init__(self, dest, freq=None, duty_u16=None, duty_ns=None, invert=False):
        self.pin = dest
        self._freq = freq or 5000
        self.duty = 0
        self.changes = 0  # how often the duty changed: alerts that reached the motor
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value

    def duty_u16(self, value=None):
        if value is None:
            return self.duty
        if value != self.duty:
            self.changes += 1
        self.duty = value

    def deinit(self):
        self.duty = 0


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 3

    def __init__(self, pin, atten=3):
        self.pin = pin
        self.uv = 1950000  # 3.9 V behind a 2:1 divider

    def atten(self, value):
        pass

    def read_uv(self):
        return self.uv

    def read_u16(self):
        return self.uv * 65535 // 3300000


class WDT:
    # Tests set this to end main's loop the way a developer does: Ctrl-C.
    ctrl_c_after_feeds = 0

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1
        if self.feeds == WDT.ctrl_c_after_feeds:
            raise KeyboardInterrupt


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kwargs):
        self.callback = None

    def init(self, mode=1, period=-1, callback=None, **kwargs):
        self.callback = callback
        self.period = period

    def deinit(self):
        self.callback = None


class RTC:
    def datetime(self, dt=None):
        return (2000, 1, 1, 5, 0, 0, 0, 0) if dt is None else None
