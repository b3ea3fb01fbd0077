"""The virtual board: one ESP32 with its clock, I2C buses, pins, motor PWM,
ADC and watchdog, running the unchanged firmware from firmware/main.py.

    vb = VirtualBoard("esp32_devkitc")
    vb.attach_i2c(0, 0x29, tof_model)       # sim.chips: the world physics over sim/vboard/chips.py
    result = vb.run(until_ms=10_000)        # boots main.py, Ctrl-C at the end
    result.console, vb.motor_timeline()

Chip models and the world are added by the scenario runner (sim.scenario);
this module only knows the board.
"""

import contextlib
import errno
import io

from sim import esp32_pins, loader, machine, vtime
from sim.flash import VirtualFlash
from sim.vclock import Clock


class SimulationEnd(BaseException):
    """Raised from the clock when a run reaches its end time."""


class RunResult:
    def __init__(self, console, resets, ended_by):
        self.console = console
        self.resets = resets  # [(t_ms, cause)]
        self.ended_by = ended_by  # "returned" (REPL), "interrupt" (unhandled), "time", "reboot loop"

    def __repr__(self):
        return "RunResult(ended_by=%r, resets=%r)" % (self.ended_by, self.resets)


class _Tee(io.TextIOBase):
    def __init__(self, sink, echo):
        self.sink = sink
        self.echo = echo

    def write(self, s):
        self.sink.append(s)
        if self.echo is not None:
            self.echo.write(s)
        return len(s)


class WiredBus(machine.I2CBus):
    """One I2C bus of the virtual board: transactions take their wire time on
    the board's clock; a hung bus (SDA held low, a fault) times out."""

    def __init__(self, board, bus_id):
        machine.I2CBus.__init__(self)
        self.board = board
        self.bus_id = bus_id
        self.hung = False

    def scan(self):
        self.board.clock.sleep_us(5000)
        return machine.I2CBus.scan(self)

    def begin(self, nbytes, freq):
        clock = self.board.clock
        if self.hung:
            clock.sleep_us(50_000)  # the ESP32 driver's default I2C timeout
            raise OSError(errno.ETIMEDOUT)
        # START + address + payload, 9 clocks a byte, plus a little driver overhead
        clock.sleep_us(20 + (nbytes + 1) * 9 * 1_000_000 // freq)


class VirtualBoard(machine.Board):
    """The CPython runtime's glue for the shared machine API (sim/machine.py):
    the virtual clock, logs of what the firmware drove, resets, deep sleep.
    `usb_powered`: a USB cable (and host) on the clip's port; the board's
    VBUS sense pin reads it."""

    MAX_REBOOTS = 20
    DEEP_SLEEP_STEP_MS = 50  # how often a sleeping board looks at its wake pins

    def __init__(self, board_name="esp32_devkitc", start_ms=0, unique_id=b"\x24\x0a\xc4\x5a\x10\x01",
                 flash=None):
        self.config = loader.load_board_config(board_name)
        self.name = self.config.NAME
        self.chip = self.config.CHIP
        self.clock = Clock(start_ms)
        machine.Board.__init__(self, self.config.I2C)
        self.unique_id = unique_id
        self.pin_inputs = {}  # pin -> fn(t_ms) -> level, for buttons and the like
        self.adc_sources = {}  # pin -> fn(t_ms) -> microvolts
        self.pwm_log = []  # (t_ms, pin, duty_u16), one row per change
        self.pin_log = []  # (t_ms, pin, level) for outputs
        # fn(pin, level) per output write; level None: a reset let the pin go
        # (the VL53L1X's XSHUT, sim.scenario.wire_xshut)
        self.pin_listeners = []
        self.reset_cause = machine.PWRON_RESET
        self.resets = []
        self.rtc_base_s = None  # RTC seconds at clock.us == rtc_set_us
        self.rtc_set_us = 0
        # The board's LittleFS partition; survives reboots and, when passed in, runs.
        self.flash = flash if flash is not None else VirtualFlash()
        # Extra modules the firmware imports by name (the pty's console streams).
        self.overrides = {}
        self._wdt_timeout_ms = None
        self._wdt_fed_us = 0
        self._interrupt_at_ms = None
        self._end_at_ms = None
        self.timers = {}  # id -> [next_us, period_us, mode, callback, timer]
        self.clock.add_listener(self._on_time)
        self.usb_powered = False
        if getattr(self.config, "VBUS", None) is not None:
            self.pin_inputs[self.config.VBUS] = lambda _t_ms: 1 if self.usb_powered else 0

    def now_ms(self):
        return self.clock.ms

    def new_bus(self, bus_id):
        return WiredBus(self, bus_id)

    def attach_i2c(self, bus_id, addr, chip):
        """A chip on a bus; the board's IMU also drives its interrupt pin
        (IMU["int"]), which can wake the board from deep sleep."""
        machine.Board.attach_i2c(self, bus_id, addr, chip)
        imu = self.config.IMU
        if imu.get("int") is not None and (bus_id, addr) == (imu["bus"], imu["addr"]):
            self.pin_inputs[imu["int"]] = lambda _t_ms: chip.int_level()

    # --- pins, PWM, ADC -----------------------------------------------------
    def check_pin(self, pin, output=False):
        if not isinstance(pin, int):
            raise TypeError("pin must be an int, got %r" % (pin,))
        reason = esp32_pins.check_pin(self.chip, pin, output=output)
        if reason:
            raise ValueError("invalid pin: " + reason)

    def pin_level(self, pin):
        source = self.pin_inputs.get(pin)
        if source is not None:
            return source(self.clock.ms)
        return self.pins.level(pin)

    def pin_written(self, pin, level):
        self.pin_log.append((self.clock.ms, pin, level))
        for fn in self.pin_listeners:
            fn(pin, level)

    def release_pins(self, keep_held=False):
        """What a reset does: every pin an input again; the outputs are let go
        (deep sleep keeps the pins held with Pin(..., hold=True))."""
        pins = self.pins
        driven = [p for p in range(len(pins.mode)) if pins.mode[p] in (machine.Pin.OUT, machine.Pin.OPEN_DRAIN)
                  and not (keep_held and pins.held[p])]
        pins.release(keep_held)
        for pin in driven:
            self.ledger.set("gpio%d" % pin, -1)  # not driven (the power model's LED is off)
            for fn in self.pin_listeners:
                fn(pin, None)

    def pwm_written(self, pin, duty):
        self.pwm_log.append((self.clock.ms, pin, duty))

    def adc_uv(self, pin):
        source = self.adc_sources.get(pin)
        return int(source(self.clock.ms)) if source else 0

    def motor_timeline(self):
        """[(t_ms, duty_u16)] of the motor pin, one row per change."""
        pin = self.config.MOTOR["pin"]
        return [(t, d) for t, p, d in self.pwm_log if p == pin]

    # --- RTC --------------------------------------------------------------
    def rtc_seconds(self):
        if self.rtc_base_s is None:
            return (self.clock.us // 1_000_000)  # unset: counts from 2000-01-01 at boot
        return self.rtc_base_s + (self.clock.us - self.rtc_set_us) // 1_000_000

    def rtc_datetime(self, dt=None):
        if dt is None:
            y, mo, d, h, mi, s, wd, _ = vtime.gmtime(self.rtc_seconds())
            return (y, mo, d, wd, h, mi, s, 0)
        y, mo, d, _wd, h, mi, s = dt[:7]
        self.rtc_base_s = vtime.mktime((y, mo, d, h, mi, s, 0, 0))
        self.rtc_set_us = self.clock.us
        return None

    # --- the CPU: sleeps and resets ------------------------------------------
    def sleep_ms(self, ms):
        self.clock.sleep_ms(ms)

    def set_wake(self, ext1, pins, level):
        for pin in pins:
            reason = esp32_pins.check_pin(self.chip, pin, wake=True)
            if reason:
                raise ValueError("invalid pin: " + reason)
        machine.Board.set_wake(self, ext1, pins, level)

    def sleep_until_wake(self, ms):
        """Deep sleep: the digital pins and the PWM let go (held pins stay),
        the clock runs on until a wake pin is at its level or `ms` pass."""
        self.release_pins(keep_held=True)
        self._release_pwm()
        self._wdt_timeout_ms = None  # the watchdog is off with the CPU
        self.timers.clear()
        end_us = self.clock.us + ms * 1000 if ms else None
        while not self.woken():
            if end_us is not None and self.clock.us >= end_us:
                break
            self.clock.sleep_ms(self.DEEP_SLEEP_STEP_MS)

    def _release_pwm(self):
        pin = self.config.MOTOR["pin"]
        if self.ledger.state.get("pwm%d" % pin):
            self.pwm_written(pin, 0)
        self.ledger.set("pwm%d" % pin, 0)

    def idle(self):
        self.clock.sleep_us(100)

    def reset(self, cause):
        raise machine.BoardReset(cause)

    # --- watchdog, interrupts, end of run ---------------------------------
    def wdt_start(self, timeout_ms):
        self._wdt_timeout_ms = timeout_ms
        self._wdt_fed_us = self.clock.us

    def wdt_feed(self):
        self._wdt_fed_us = self.clock.us

    def interrupt_at(self, t_ms):
        """Deliver Ctrl-C (KeyboardInterrupt) to the firmware at board time t_ms."""
        self._interrupt_at_ms = t_ms

    def timer_start(self, timer):
        period_us = timer.period_ms * 1000
        self.timers[timer.id] = [self.clock.us + period_us, period_us, timer.mode, timer.callback, timer]

    def timer_stop(self, timer):
        self.timers.pop(timer.id, None)

    def _run_timers(self, now_us):
        for timer_id, t in list(self.timers.items()):
            while t[3] is not None and now_us >= t[0]:
                t[0] += t[1]
                if t[2] == machine.Timer.ONE_SHOT:
                    self.timers.pop(timer_id, None)
                t[3](t[4])
                if t[2] == machine.Timer.ONE_SHOT:
                    break

    def _on_time(self, now_us):
        self._run_timers(now_us)
        if self._wdt_timeout_ms is not None and now_us - self._wdt_fed_us > self._wdt_timeout_ms * 1000:
            self._wdt_timeout_ms = None
            raise machine.BoardReset(machine.WDT_RESET)
        if self._interrupt_at_ms is not None and now_us >= self._interrupt_at_ms * 1000:
            self._interrupt_at_ms = None
            raise KeyboardInterrupt
        if self._end_at_ms is not None and now_us >= self._end_at_ms * 1000:
            raise SimulationEnd

    # --- running ------------------------------------------------------------
    @contextlib.contextmanager
    def active(self):
        """Bind the simulator's machine and time modules to this board."""
        machine.bind(self)
        vtime.bind(self.clock, self.rtc_seconds)
        try:
            yield self
        finally:
            machine.bind(None)
            vtime.bind(None)

    def run(self, until_ms, interrupt_at_ms=None, echo=None, grace_ms=2000, on_boot=None):
        """Boot the firmware (as main.py does) and run until board time `until_ms`.

        By default Ctrl-C arrives at `until_ms` and the firmware gets `grace_ms`
        to shut down cleanly; resets (watchdog, machine.reset) reboot main.py.
        `on_boot(app)` runs after each boot once the firmware's App is built.
        """
        self._interrupt_at_ms = until_ms if interrupt_at_ms is None else interrupt_at_ms
        self._end_at_ms = max(until_ms, self._interrupt_at_ms) + grace_ms
        console = []
        ended_by = "returned"
        with self.active(), contextlib.redirect_stdout(_Tee(console, echo)):
            for _ in range(self.MAX_REBOOTS):
                try:
                    try:
                        loader.run_main(self.config, self.flash, self.overrides, on_boot)
                        ended_by = "returned"
                        break
                    except machine.BoardReset as reset:
                        self._reboot(reset.cause, console)
                except KeyboardInterrupt:
                    ended_by = "interrupt"  # unhandled: the REPL prints it, board stays up
                    console.append("KeyboardInterrupt\n")
                    break
                except SimulationEnd:
                    ended_by = "time"
                    break
            else:
                ended_by = "reboot loop"
        self._end_at_ms = None
        return RunResult("".join(console), list(self.resets), ended_by)

    def _reboot(self, cause, console):
        self.resets.append((self.clock.ms, cause))
        self.reset_cause = cause
        self._wdt_timeout_ms = None
        self.timers.clear()
        self.release_pins()
        pin = self.config.MOTOR["pin"]
        self.pwm_written(pin, 0)  # a reset releases the PWM peripheral
        self.ledger.set("pwm%d" % pin, 0)
        self.cpu_mhz = 240  # the ROM and MicroPython start at the default frequency
        self.ledger.set("cpu", 240)
        self.ledger.count("boots")
        self.wake_ext0 = self.wake_ext1 = None  # the ESP32 forgets its wake sources at boot
        console.append("\n[reset: cause %d]\n" % cause)
        self.clock.sleep_ms(300)  # ROM boot + MicroPython start-up


