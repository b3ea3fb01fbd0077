# The clip's hardware objects, built from a board config and the `machine`
# module, both injected: the ESP32's on the board, the simulator's in sim/.
# Nothing here talks to a chip at import time.
#
#     hw = Hardware(board, machine, now_ms)
#     hw.tof.poll(now_ms); hw.imu.read(now_ms); hw.motor.set(80)
import binascii

from rearguard.drivers.board_io import Battery, Led, Motor
from rearguard.drivers.button import Button
from rearguard.drivers.imu import open_imu
from rearguard.drivers.tof import RangeSensor


class Hardware:
    """The parts: motor, tof, imu, button, battery, led (None on boards
    without one), rtc, vbus (the USB power sense pin, None if not wired);
    the clip's identity: board_name, uid; and for power management and deep
    sleep: board (the config), machine (its freq, lightsleep, deepsleep)."""

    def __init__(self, board, machine, now_ms):
        self.board = board
        self.machine = machine
        self.board_name = board.NAME
        self.uid = binascii.hexlify(machine.unique_id()).decode()
        self.rtc = machine.RTC()
        self.buses = {}
        Pin = machine.Pin
        # The motor first: whatever else fails, the clip must be able to buzz.
        m = board.MOTOR
        self.motor = Motor(machine.PWM(Pin(m["pin"]), freq=m["freq"], duty_u16=0), m["active_high"])
        t = board.TOF
        # hold=False: deep sleep holds XSHUT low (drivers/tof.py standby); the boot lets go
        xshut = Pin(t["xshut"], Pin.OUT, value=1, hold=False) if t.get("xshut") is not None else None
        self.tof = RangeSensor(self._bus(board, machine, t["bus"]), t["addr"], xshut, now_ms, board.NAME)
        self.imu = open_imu(self._bus(board, machine, board.IMU["bus"]), board, now_ms)
        if machine.reset_cause() == machine.DEEPSLEEP_RESET:
            self.imu.resting = None  # still in its wake-on-motion mode: the first tick restores it
        b = board.BUTTON
        self.button = Button(Pin(b["pin"], Pin.IN, Pin.PULL_UP if b["pull_up"] else Pin.PULL_DOWN,
                                 hold=False), b["active_low"])
        a = board.BATTERY
        self.battery = Battery(machine.ADC(Pin(a["pin"]), atten=machine.ADC.ATTN_11DB), a["divider"])
        led = board.LED
        self.led = Led(Pin(led["pin"], Pin.OUT), led["active_high"]) if led is not None else None
        vbus = getattr(board, "VBUS", None)
        self.vbus = Pin(vbus, Pin.IN) if vbus is not None else None

    def _bus(self, board, machine, bus_id):
        # One machine.I2C per bus of the board config, however many parts share it.
        if bus_id not in self.buses:
            sda, scl, freq = board.I2C[bus_id]
            Pin = machine.Pin
            self.buses[bus_id] = machine.I2C(bus_id, scl=Pin(scl), sda=Pin(sda), freq=freq)
        return self.buses[bus_id]
