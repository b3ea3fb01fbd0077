"""The power model: every part's current in each of its states, and a run's
average current from the virtual board's energy ledger (sim/vboard/energy.py).
docs/power.md has the source of every figure; those marked there as estimates
could not be looked up.

    model = PowerModel(board_config)
    span = window(start, snapshot(vb.ledger))      # snapshots: (totals, event counts)
    model.average_ma(span)                         # mA drawn from the cell over it
    model.breakdown_ma(span)                       # {part: mA}
    hours(400, ma), days(400, ma)                  # a cell's life at that current

Currents are at the cell: the clip's 3.3 V rail is fed by a linear regulator,
so the cell gives what the rail draws plus the board's quiescent current.
"""

from sim.vboard.energy import CPU_DEEP_SLEEP, CPU_LIGHT_SLEEP

TICK_MS = 10  # the firmware's tick (rearguard/app.py)

# --- the CPU (mA) -----------------------------------------------------------------------
# idle: WAITI between ticks; busy: one core running Python. ESP32: its
# datasheet gives a range per frequency (low end: idle); busy is placed in that
# range where the ESP32-S3's table puts a single running core (estimate).
CPU_MA = {
    "esp32": {"idle": {80: 20.0, 160: 27.0, 240: 30.0}, "busy": {80: 23.6, 160: 32.4, 240: 41.8},
              "light": 0.8, "deep": 0.010},
    "esp32s3": {"idle": {80: 22.0, 160: 27.6, 240: 32.9}, "busy": {80: 28.4, 160: 39.9, 240: 51.2},
                "light": 0.24, "deep": 0.008},
}
# A tick's Python work takes no virtual time: the bench counts the firmware's
# bytecode operations per tick under CPython (tools/bench_power.py), and one
# operation costs this long on MicroPython at 240 MHz: calibrated by
# tools/calibrate_cpu.py on pystone_lowmem's published ESP32 speed (docs/power.md).
PYSTONES_ESP32_240 = 1661  # MicroPython v1.12, ESP32 at 240 MHz (micropython issue 5673)
US_PER_OP_240 = 1.0  # 0.96-1.08 over six calibrations
TICK_OPS = 4800  # when no count is given: running with a target in view (counted)
LIGHT_SLEEP_WAKE_US = 500  # entry and exit of one light sleep, at the idle current (estimate)

# --- the range sensor (mA): power_state codes of sim/vboard/chips.Vl53l1x ---------------
VL53L1X_MA = {0: 0.0, 1: 0.005, 2: 0.006}  # unpowered, hardware standby, software standby
VL53L1X_RANGING_MA = 21.6  # while the VCSEL ranges (20 mW at 10 Hz, 33 ms, 2.8 V)
VL53L1X_BETWEEN_MA = 0.016  # timed ranging, between two measurements
VL53L1X_OVERHEAD_MS = 4  # a back-to-back measurement's period beyond its budget

# --- the IMUs (mA): power_state codes of sim/vboard/chips --------------------------------
MPU_MA = {
    "mpu6050": {"sleep": 0.005, "lp": (0.010, 0.020, 0.070, 0.140), "accel": 0.5, "gyro": 3.6,
                "both": 3.8},
    "mpu6886": {"sleep": 0.006, "lp": (0.010, 0.020, 0.070, 0.140), "accel": 0.45, "gyro": 2.6,
                "both": 2.8},
}
LSM6DSOX_MA = {"off": 0.003, "accel_hp": 0.17, "gyro": 0.38,
               "accel_lp": {1: 0.009, 2: 0.014, 3: 0.026}}  # low power by ODR code (12.5..52 Hz)

# --- the rest (mA) ------------------------------------------------------------------------
MOTOR_MA = 80.0  # coin vibration motor at full duty (estimate)
LED_MA = 2.0  # status LED when lit (estimate)
# The board's own draw from the cell whatever the chips do: regulator, USB
# bridge, resistor dividers, breakout regulators (docs/power.md, per board).
BOARD_QUIESCENT_MA = {"esp32_devkitc": 0.085, "xiao_esp32s3": 0.090, "m5stack_atoms3": 0.300}


def hours(capacity_mah, ma):
    return capacity_mah / ma


def days(capacity_mah, ma):
    return capacity_mah / ma / 24.0


class PowerModel:
    def __init__(self, board, tick_ops=TICK_OPS, us_per_op=US_PER_OP_240, wake_us=LIGHT_SLEEP_WAKE_US):
        """`tick_ops`: the firmware's operations per tick (counted over the run);
        `us_per_op`, `wake_us`: the estimates, for a sensitivity check."""
        self.board = board
        self.tick_busy_us_240 = tick_ops * us_per_op
        self.wake_us = wake_us
        self.cpu = CPU_MA[board.CHIP]
        self.quiescent_ma = BOARD_QUIESCENT_MA[board.NAME]
        self.motor_part = "pwm%d" % board.MOTOR["pin"]
        led = board.LED
        self.led = None if led is None else ("gpio%d" % led["pin"], 1 if led["active_high"] else 0)

    # --- parts -------------------------------------------------------------------------
    def vl53l1x_ma(self, state):
        if state in VL53L1X_MA:
            return VL53L1X_MA[state]
        budget, imp = divmod(state, 100000)
        period = max(budget + VL53L1X_OVERHEAD_MS, imp)
        duty = budget / period
        return duty * VL53L1X_RANGING_MA + (1 - duty) * VL53L1X_BETWEEN_MA

    def mpu_ma(self, chip, state):
        f = MPU_MA[chip]
        if state < 100:
            return f["sleep"]
        if state < 200:
            return f["lp"][state - 100]
        return {0: f["sleep"], 1: f["accel"], 2: f["gyro"], 3: f["both"]}[state - 200]

    def lsm6dsox_ma(self, state):
        xl, rest = divmod(state, 1000)
        g, low_power = divmod(rest, 10)
        ma = 0.0
        if xl:
            ma += LSM6DSOX_MA["accel_lp"].get(xl, LSM6DSOX_MA["accel_hp"]) if low_power else \
                LSM6DSOX_MA["accel_hp"]
        if g:
            ma += LSM6DSOX_MA["gyro"]
        return ma or LSM6DSOX_MA["off"]

    def part_ma(self, part, state):
        """Current of one part in one state (the CPU is handled apart)."""
        if part == "vl53l1x":
            return self.vl53l1x_ma(state)
        if part in MPU_MA:
            return self.mpu_ma(part, state)
        if part == "lsm6dsox":
            return self.lsm6dsox_ma(state)
        if part == self.motor_part:
            return MOTOR_MA * state / 65535
        if self.led is not None and part == self.led[0]:
            return LED_MA if state == self.led[1] else 0.0
        return 0.0

    # --- the CPU ----------------------------------------------------------------------------
    def cpu_charge(self, spent, light_wakes):
        """mA*ms the CPU drew: the sim's awake time per frequency and its light
        and deep sleeps, with each tick's Python work (which takes no virtual
        time) carved out of the sleep that followed it."""
        cpu = self.cpu
        awake = {f: ms for f, ms in spent.items() if f > 0}
        light = spent.get(CPU_LIGHT_SLEEP, 0)
        charge = spent.get(CPU_DEEP_SLEEP, 0) * cpu["deep"]
        total_awake = sum(awake.values())
        for f, ms in awake.items() if total_awake else ():
            share = ms / total_awake
            light_f = light * share
            busy = min((ms + light_f) / TICK_MS * self.tick_busy_us_240 * 240 / f / 1000, ms + light_f)
            from_light = min(busy, light_f)
            idle = ms - (busy - from_light)
            charge += busy * cpu["busy"][f] + idle * cpu["idle"][f] + (light_f - from_light) * cpu["light"]
            charge += light_wakes * share * self.wake_us / 1000 * (cpu["idle"][f] - cpu["light"])
        return charge

    # --- a run -------------------------------------------------------------------------------
    def breakdown_ma(self, span):
        """{part: average mA} over a span (see window), the board's own included."""
        totals, events = span
        ms = sum(totals["cpu"].values())
        out = {"cpu": self.cpu_charge(totals["cpu"], events.get("light_sleep_wakes", 0)) / ms,
               "board": self.quiescent_ma}
        for part, spent in totals.items():
            if part != "cpu":
                ma = sum(self.part_ma(part, state) * t for state, t in spent.items()) / ms
                if ma:
                    out[part] = ma
        return out

    def average_ma(self, span):
        return sum(self.breakdown_ma(span).values())

    def now_ma(self, ledger):
        """What the board draws this instant, the CPU awake and busy (as when
        the firmware reads its battery)."""
        ma = self.quiescent_ma
        for part, state in ledger.state.items():
            if part != "cpu":
                ma += self.part_ma(part, state)
        cpu = ledger.state["cpu"]
        if cpu == CPU_LIGHT_SLEEP:
            return ma + self.cpu["light"]
        if cpu == CPU_DEEP_SLEEP:
            return ma + self.cpu["deep"]
        return ma + self.cpu["busy"][cpu]


def board_load(vb, tick_ops=TICK_OPS):
    """The cell's load on a virtual board, from its ledger: (now_ma, average_ma),
    each fn(t_ms), for sim.chips.battery.Battery (the sag a reading sees, and the
    charge drawn since the last call)."""
    model = PowerModel(vb.config, tick_ops)
    last = [None]

    def now_ma(_t_ms):
        return model.now_ma(vb.ledger)

    def average_ma(t_ms):
        taken = snapshot(vb.ledger)
        span = window(last[0], taken)
        last[0] = taken
        if not sum(span[0].get("cpu", {}).values()):
            return now_ma(t_ms)
        return model.average_ma(span)

    return now_ma, average_ma


def snapshot(ledger):
    """What the ledger holds now: (totals, event counts)."""
    return ledger.totals(), dict(ledger.events)


def window(before, after):
    """The span between two snapshots; before=None: from the start."""
    if before is None:
        return after
    totals = {}
    for part, spent in after[0].items():
        old = before[0].get(part, {})
        diff = {state: ms - old.get(state, 0) for state, ms in spent.items()}
        totals[part] = {state: ms for state, ms in diff.items() if ms > 0}
    events = {name: n - before[1].get(name, 0) for name, n in after[1].items()}
    return totals, events
