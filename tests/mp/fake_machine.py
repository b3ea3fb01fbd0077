# A `machine` module for running the firmware under real MicroPython in tests
# (the WebAssembly port has none): the shared core (vboard/machine_core.py,
# the ESP32 port's API written once for every virtual board, copied to
# /tests_mp/vboard by tools/micropython.py) on a board with no glue but what
# the tests read back. Nothing here allocates on the paths a tick uses.
#
#     import sys, fake_machine
#     fake_machine.hardware.wire(board.I2C)                # the board config's buses
#     fake_machine.hardware.attach_i2c(0, 0x29, tof_chip)  # vboard.trace_player models
#     sys.modules["machine"] = fake_machine                # before `import main`
#     fake_machine.hardware.ctrl_c_after_feeds = 20        # main's loop then sees Ctrl-C
from vboard import machine_core as _core
from vboard.machine_core import *  # noqa: F403 - the API, as the firmware sees it


class _NoLedger:
    # The probe measures the firmware's allocation per tick: the energy ledger,
    # which allocates the first time it meets a state, is left out here.
    def set(self, part, state):
        pass

    def count(self, name):
        pass


class FakeBoard(_core.Board):
    # The core's quiet board, counting what the tests ask about.
    def __init__(self):
        _core.Board.__init__(self)
        self.ledger = _NoLedger()
        self.pwm_changes = 0  # duty changes: alerts that reached the motor
        self.wdt_feeds = 0
        self.ctrl_c_after_feeds = 0  # the feed at which main's loop sees Ctrl-C (0: never)
        self.battery_uv = 1_950_000  # 3.9 V behind a 2:1 divider

    def wire(self, bus_ids):
        for bus_id in bus_ids:
            if bus_id not in self.buses:
                self.buses[bus_id] = self.new_bus(bus_id)

    def pwm_written(self, pin, duty_u16):
        self.pwm_changes += 1

    def adc_uv(self, pin):
        return self.battery_uv

    def wdt_feed(self):
        self.wdt_feeds += 1
        if self.wdt_feeds == self.ctrl_c_after_feeds:
            raise KeyboardInterrupt  # a developer's Ctrl-C, as mpremote sends it

    def reset(self, cause):
        raise SystemExit("machine.reset()")


hardware = FakeBoard()
_core.bind(hardware)
