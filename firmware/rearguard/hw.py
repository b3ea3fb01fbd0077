# Builds the clip's hardware objects from a board config and the `machine`
# module, both injected: the ESP32's on the board, the simulator's in sim/.
# Nothing here talks to a chip at import time.
#
#     hw = build(board, machine, now_ms)
#     hw.tof.poll(now_ms); hw.imu.read(now_ms); hw.motor.set(80)
from rearguard.drivers.battery import Battery
from rearguard.drivers.button import Button
from rearguard.drivers.imu import Imu
from rearguard.drivers.motor import Motor
from rearguard.drivers.tof import RangeSensor


class Hardware:
    def __init__(self):
        self.buses = {}
        self.tof = None
        self.imu = None
        self.motor = None
        self.button = None
        self.battery = None
        self.led = None


def _bus(hw, board, machine, bus_id):
    if bus_id not in hw.buses:
        sda, scl, freq = board.I2C[bus_id]
        hw.buses[bus_id] = machine.I2C(bus_id, scl=machine.Pin(scl), sda=machine.Pin(sda), freq=freq)
    return hw.buses[bus_id]


def build(board, machine, now_ms):
    Pin = machine.Pin
    hw = Hardware()
    # The motor first: whatever else fails, the clip must be able to buzz.
    m = board.MOTOR
    hw.motor = Motor(machine.PWM(Pin(m["pin"]), freq=m["freq"], duty_u16=0), m["active_high"])
    t = board.TOF
    xshut = Pin(t["xshut"], Pin.OUT, value=1) if t.get("xshut") is not None else None
    hw.tof = RangeSensor(_bus(hw, board, machine, t["bus"]), t["addr"], xshut, now_ms, board.NAME)
    i = board.IMU
    hw.imu = Imu(_bus(hw, board, machine, i["bus"]), i["chip"], i["addr"], i["axes"], now_ms, board.NAME)
    b = board.BUTTON
    pull = Pin.PULL_UP if b["pull_up"] else Pin.PULL_DOWN
    hw.button = Button(Pin(b["pin"], Pin.IN, pull), b["active_low"])
    a = board.BATTERY
    hw.battery = Battery(machine.ADC(Pin(a["pin"]), atten=machine.ADC.ATTN_11DB), a["divider"])
    if board.LED is not None:
        hw.led = Pin(board.LED["pin"], Pin.OUT, value=0 if board.LED["active_high"] else 1)
    return hw
