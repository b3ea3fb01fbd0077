"""Stand-in for MicroPython's `machine` module on the virtual board.

The firmware imports this as `machine` inside the simulator. Every object
reaches the current `VirtualBoard` (sim.board), which owns the clock, the I2C
buses with their chip models, pin levels, the PWM timeline and the watchdog.
Errors match the ESP32 port: a missing I2C device raises OSError(ENODEV), a
hung bus OSError(ETIMEDOUT), a pin the chip does not have ValueError.
"""

import errno

_board = None


def _bind(board):
    global _board
    _board = board


def _b():
    if _board is None:
        raise RuntimeError("no virtual board is running")
    return _board


# --- resets ------------------------------------------------------------------
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


class BoardReset(BaseException):
    """Unwinds the running firmware like a reset would; the board reboots it.
    A BaseException so that the firmware's `except Exception` cannot swallow it."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause


def reset():
    raise BoardReset(HARD_RESET)


def soft_reset():
    raise BoardReset(SOFT_RESET)


def reset_cause():
    return _b().reset_cause


def unique_id():
    return _b().unique_id


def freq(hz=None):
    return 240_000_000 if hz is None else None


def idle():
    _b().clock.sleep_us(100)


def lightsleep(ms=None):
    _b().clock.sleep_ms(ms or 0)


def disable_irq():
    return 0


def enable_irq(state=0):
    return None


# --- pins ----------------------------------------------------------------------
class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self._id = _b().check_pin(id)
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None):
        state = _b().pin_state(self._id)
        if mode != -1:
            if mode in (Pin.OUT, Pin.OPEN_DRAIN):
                _b().check_output_pin(self._id)
            state["mode"] = mode
        if pull != -1:
            state["pull"] = pull
        if value is not None:
            state["out"] = 1 if value else 0

    def value(self, v=None):
        state = _b().pin_state(self._id)
        if v is None:
            return _b().pin_level(self._id)
        state["out"] = 1 if v else 0
        _b().pin_written(self._id, state["out"])
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3):
        _b().pin_state(self._id)["irq"] = (handler, trigger)

    def __repr__(self):
        return "Pin(%d)" % self._id


def _pin_id(pin):
    return pin._id if isinstance(pin, Pin) else pin


# --- I2C ------------------------------------------------------------------------
class I2C:
    def __init__(self, id, scl=None, sda=None, freq=400_000, timeout=50_000):
        self._bus = _b().i2c_bus(id)
        self._freq = freq
        for p in (scl, sda):
            if p is not None:
                _b().check_output_pin(_pin_id(p))

    def _device(self, addr, nbytes):
        return self._bus.transaction(addr, nbytes, self._freq)

    def scan(self):
        return self._bus.scan()

    def writeto(self, addr, buf, stop=True):
        self._device(addr, len(buf)).i2c_write(bytes(buf))
        return 1

    def readfrom_into(self, addr, buf, stop=True):
        data = self._device(addr, len(buf)).i2c_read(len(buf))
        buf[: len(data)] = data

    def readfrom(self, addr, nbytes, stop=True):
        return bytes(self._device(addr, nbytes).i2c_read(nbytes))

    def _mem_addr(self, memaddr, addrsize):
        return memaddr.to_bytes(addrsize // 8, "big")

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        dev = self._device(addr, addrsize // 8 + len(buf))
        dev.i2c_write(self._mem_addr(memaddr, addrsize))
        buf[:] = dev.i2c_read(len(buf))

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        dev = self._device(addr, addrsize // 8 + len(buf))
        dev.i2c_write(self._mem_addr(memaddr, addrsize) + bytes(buf))


SoftI2C = I2C


class I2CBus:
    """One virtual I2C bus: chip models by address, and the faults on it."""

    def __init__(self, board, bus_id):
        self.board = board
        self.bus_id = bus_id
        self.devices = {}
        self.hung = False  # SDA held low: every transaction times out

    def attach(self, addr, device):
        self.devices[addr] = device

    def detach(self, addr):
        self.devices.pop(addr, None)

    def scan(self):
        self.board.clock.sleep_us(5000)
        return sorted(a for a, d in self.devices.items() if getattr(d, "present", True))

    def transaction(self, addr, nbytes, freq):
        clock = self.board.clock
        if self.hung:
            clock.sleep_us(50_000)  # the ESP32 driver's default I2C timeout
            raise OSError(errno.ETIMEDOUT)
        # START + address + payload, 9 clocks a byte, plus a little driver overhead
        clock.sleep_us(20 + (nbytes + 1) * 9 * 1_000_000 // freq)
        dev = self.devices.get(addr)
        if dev is None or not getattr(dev, "present", True):
            raise OSError(errno.ENODEV)
        fault = dev.i2c_fault() if hasattr(dev, "i2c_fault") else 0
        if fault:
            raise OSError(fault)
        return dev


# --- PWM, ADC -------------------------------------------------------------------
class PWM:
    def __init__(self, dest, freq=None, duty_u16=None, duty_ns=None, invert=False):
        pin = _pin_id(dest)
        _b().check_output_pin(pin)
        self._pin = pin
        self._freq = freq or 5000
        self._duty = 0
        self._active = True
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
            _b().pwm_written(self._pin, value)

    def duty(self, value=None):
        if value is None:
            return self._duty >> 6
        self.duty_u16(min(1023, value) << 6)

    def deinit(self):
        self.duty_u16(0)
        self._active = False


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 3

    def __init__(self, pin, atten=ATTN_11DB):
        self._pin = _b().check_pin(_pin_id(pin))
        self._atten = atten

    def atten(self, value):
        self._atten = value

    def read_uv(self):
        return int(_b().adc_uv(self._pin))

    def read_u16(self):
        # 11 dB attenuation spans about 0..3.1 V on the ESP32
        return max(0, min(65535, self.read_uv() * 65535 // 3_100_000))

    def read(self):
        return self.read_u16() >> 4


# --- watchdog, RTC --------------------------------------------------------------
class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError("timeout")
        _b().watchdog_start(timeout)

    def feed(self):
        _b().watchdog_feed()


class RTC:
    def datetime(self, dt=None):
        return _b().rtc_datetime(dt)

    def seconds(self):
        return _b().rtc_seconds()

    def init(self, dt):
        self.datetime(dt)


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, **kwargs):
        self._id = id
        if kwargs:
            self.init(**kwargs)

    def init(self, mode=PERIODIC, period=-1, freq=-1, callback=None):
        if freq > 0:
            period = 1000 // freq
        _b().timer_start(self._id, mode, period, callback, self)

    def deinit(self):
        _b().timer_stop(self._id)
