# Setting the VL53L1X up through Adafruit's driver: its annotated init table,
# the sensor-id check, and the register writes of its distance-mode and
# timing-budget setters. drivers/tof.py imports this while the sensor starts
# (at boot, and again when it recovers from a fault) and drops it once the
# sensor ranges: during a run neither this nor Adafruit's driver holds RAM.
#
#     setup = ChipSetup(i2c, 0x29)
#     if not setup.start():           # init table written, first ranging running
#         ...until data ready...; setup.finish()
#     recipe = setup.recipe(LONG, 50)  # (register, bytes, register, bytes, ...)
#     unload()
import sys

from adafruit_bus_device import i2c_device
from adafruit_vl53l1x import VL53L1X
from micropython import const

_VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND = const(0x0008)
_VHV_CONFIG__INIT = const(0x000B)
_GPIO__TIO_HV_STATUS = const(0x0031)
_VHV_LOOP_BOUND = b"\x09"  # ULD SensorInit tail: two VHV loops after the first ranging
_VHV_FROM_LAST = b"\x00"  # ULD SensorInit tail: start VHV from the last temperature
_REGISTER_TRIES = const(3)
_MODEL_ID = const(0xEA)
_MODULE_TYPE = const(0xCC)
_MASK_REVISION = const(0x10)


class _Pending(Exception):
    # Raised from data_ready inside Adafruit's _sensor_init to leave its
    # unbounded wait; the first ranging is then awaited across ticks.
    pass


class _Recorder:
    # Stands in for the I2C device while Adafruit's setters run, keeping
    # their register writes (and answering their read-back of the mode).
    def __init__(self):
        self.writes = []
        self.regs = {}
        self.pointer = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, buf, start=0, end=None):
        data = bytes(buf[start:end])
        self.pointer = (data[0] << 8) | data[1]
        payload = data[2:]
        if payload:
            self.writes.append(self.pointer)
            self.writes.append(payload)
            for i in range(len(payload)):
                self.regs[self.pointer + i] = payload[i]

    def readinto(self, buf, start=0, end=None):
        for i in range(start, len(buf) if end is None else end):
            buf[i] = self.regs.get(self.pointer + i - start, 0)


class ChipSetup(VL53L1X):
    def __init__(self, i2c, addr):
        # Not VL53L1X.__init__: it waits on data_ready with no bound; start()
        # runs the same steps and leaves the wait to the caller.
        self.i2c_device = i2c_device.I2CDevice(i2c, addr, probe=False)
        self._i2c = i2c
        self._timing_budget = None
        self._stepping = False

    def start(self):
        """Check the id, write the init table and start the first ranging (VHV
        calibration). True if it finished at once; else wait for data ready,
        then finish(). RuntimeError: not a VL53L1X; OSError: the bus."""
        model_id, module_type, mask_rev = self.model_info
        if model_id != _MODEL_ID or module_type != _MODULE_TYPE or mask_rev != _MASK_REVISION:
            raise RuntimeError("wrong sensor id")
        self._stepping = True
        try:
            self._sensor_init()  # Adafruit: init table, start, wait -> _Pending
            return True
        except _Pending:
            return False
        finally:
            self._stepping = False

    def finish(self):
        # The tail of Adafruit's _sensor_init after its wait (ULD SensorInit).
        self.clear_interrupt()
        self.stop_ranging()
        self._write_register(_VHV_CONFIG__TIMEOUT_MACROP_LOOP_BOUND, _VHV_LOOP_BOUND)
        self._write_register(_VHV_CONFIG__INIT, _VHV_FROM_LAST)

    def ready_level(self):
        """The GPIO level that means "data ready" (the interrupt's polarity)."""
        return self._interrupt_polarity

    def recipe(self, mode, budget_ms):
        """Adafruit's writes for this mode and budget, as (register, bytes, ...).
        ValueError or RuntimeError: not a budget of that mode."""
        recorder = _Recorder()
        device = self.i2c_device
        self.i2c_device = recorder
        try:
            self._timing_budget = budget_ms
            self.distance_mode = mode
        finally:
            self.i2c_device = device
        return tuple(recorder.writes)

    # Init and mode changes are a few dozen transactions; on a noisy bus each
    # is retried so that one glitch does not throw the whole sequence away.
    def _write_register(self, address, data, length=None):
        for _ in range(_REGISTER_TRIES - 1):
            try:
                return VL53L1X._write_register(self, address, data, length)
            except OSError:
                pass
        return VL53L1X._write_register(self, address, data, length)

    def _read_register(self, address, length=1):
        for _ in range(_REGISTER_TRIES - 1):
            try:
                return VL53L1X._read_register(self, address, length)
            except OSError:
                pass
        return VL53L1X._read_register(self, address, length)

    @property
    def data_ready(self):
        ready = self._read_register(_GPIO__TIO_HV_STATUS)[0] & 1 == self._interrupt_polarity
        if not ready and self._stepping:
            raise _Pending()
        return ready


def unload():
    """Drop this module and Adafruit's from memory (the caller holds no
    ChipSetup any more); the next import loads them again."""
    package = sys.modules.get("rearguard.drivers")
    if package is not None and hasattr(package, "tof_setup"):
        delattr(package, "tof_setup")
    for name in ("rearguard.drivers.tof_setup", "adafruit_vl53l1x",
                 "adafruit_bus_device.i2c_device", "adafruit_bus_device"):
        sys.modules.pop(name, None)
