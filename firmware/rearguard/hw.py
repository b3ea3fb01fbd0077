# Builds the clip's hardware objects from a board config and the `machine`
# module, both injected: the ESP32's on the board, the simulator's in sim/.
# Nothing here talks to a chip at import time.
#
#     hw = build(board, machine, now_ms)
#     hw.tof.poll(now_ms); hw.imu.read(now_ms); hw.motor.set(80)
from rearguard.drivers.battery import Battery
from rearguard.drivers.button import Button
from rearguard.drivers.imu import Imu
from rearguard.drivers.led import Led
from rearguard.drivers.motor import Motor
from rearguard.drivers.tof import RangeSensor


class Hardware:
    def __init__(self, buses, motor, tof, imu, button, battery, led):
        self.buses = buses
        self.motor = motor
        self.tof = tof
        self.imu = imu
        self.button = button
        self.battery = battery
        self.led = led


def build(board, machine, now_ms):
    Pin = machine.Pin
    buses = {}

    def bus(bus_id):
        if bus_id not in buses:
            sda, scl, freq = board.I2C[bus_id]
            buses[bus_id] = machine.I2C(bus_id, scl=Pin(scl), sda=Pin(sda), freq=freq)
        return buses[bus_id]

    # The motor first: whatever else fails, the clip must be able to buzz.
    m = board.MOTOR
    motor = Motor(machine.PWM(Pin(m["pin"]), freq=m["freq"], duty_u16=0), m["active_high"])
    t = board.TOF
    xshut = Pin(t["xshut"], Pin.OUT, value=1) if t.get("xshut") is not None else None
    tof = RangeSensor(bus(t["bus"]), t["addr"], xshut, now_ms, board.NAME)
    i = board.IMU
    imu = Imu(bus(i["bus"]), i["chip"], i["addr"], i["axes"], now_ms, board.NAME)
    b = board.BUTTON
    button = Button(Pin(b["pin"], Pin.IN, Pin.PULL_UP if b["pull_up"] else Pin.PULL_DOWN),
                    b["active_low"])
    a = board.BATTERY
    battery = Battery(machine.ADC(Pin(a["pin"]), atten=machine.ADC.ATTN_11DB), a["divider"])
    led = None
    if board.LED is not None:
        led = Led(Pin(board.LED["pin"], Pin.OUT), board.LED["active_high"])
    return Hardware(buses, motor, tof, imu, button, battery, led)
