# Parity cases for what every virtual board shares (sim/vboard): the machine
# API core and the chip register models answer a driver's transactions the
# same under real MicroPython (the WebAssembly board, the allocation probe) and
# under CPython (the simulator). `load("vboard.<module>")` is /tests_mp/vboard
# on MicroPython and sim.vboard under CPython. Each case also checks what the
# datasheets say, so that both runtimes agreeing on a wrong answer still fails.

_TRACE_HEADER = "t_ms,ax_mg,ay_mg,az_mg,gx_mdps,gy_mdps,gz_mdps,range_mm,range_status,ambient_kcps\n"
_SHORT_33MS = ((0x4B, 0x14), (0x60, 0x07), (0x63, 0x05), (0x69, 0x38), (0x78, 0x07), (0x79, 0x05),
               (0x7A, 0x06), (0x7B, 0x06), (0x5E, 0x00), (0x5F, 0xD6),  # ULD short mode, 33 ms
               (0x7F, 199), (0x80, 0xFF))  # 16x16 ROI at the optical centre


def _trace():
    # Upright, turning at 100 deg/s about device z; a range every 20 ms, closing.
    lines = [_TRACE_HEADER]
    for n in range(40):
        tof = "%d,0,%d" % (1000 - n, 400 + n) if n % 2 == 0 else ",,"
        lines.append("%d,0,0,1000,0,0,100000,%s\n" % (n * 10, tof))
    return "".join(lines)


class _Clock:
    def __init__(self):
        self.us = 0

    def now_us(self):
        return self.us

    def ms(self):
        return self.us // 1000


def _rig(load):
    core = load("vboard.machine_core")
    player = load("vboard.trace_player")
    clock = _Clock()
    trace = player.load_trace(load("io").StringIO(_trace()))
    return core, player, clock, player.TracePlayer(trace, clock.ms, load("time").ticks_diff)


def _s16(data, i, big_endian):
    v = (data[i] << 8) | data[i + 1] if big_endian else data[i] | (data[i + 1] << 8)
    return v - 65536 if v & 0x8000 else v


def _range_samples(i2c, clock, polls):
    one = bytearray(1)
    block = bytearray(17)
    samples = []
    for _ in range(polls):
        clock.us += 5000
        i2c.readfrom_mem_into(0x29, 0x0031, one, addrsize=16)
        if one[0] & 1:
            i2c.readfrom_mem_into(0x29, 0x0089, block, addrsize=16)
            i2c.writeto_mem(0x29, 0x0086, b"\x01", addrsize=16)
            samples.append([clock.ms(), block[0], (block[13] << 8) | block[14], block[3]])
    return samples


def case_vl53l1x_answers_a_driver_paced_by_the_trace(load):
    core, trace_player, clock, player = _rig(load)
    board = core.Board((0,))
    tof = trace_player.Vl53l1x(player, clock.now_us)
    board.attach_i2c(0, 0x29, tof)
    core.bind(board)
    try:
        i2c = core.I2C(0)
        out = {"id": list(i2c.readfrom_mem(0x29, 0x010F, 3, addrsize=16))}
        for reg, value in _SHORT_33MS:
            i2c.writeto_mem(0x29, reg, bytes([value]), addrsize=16)
        i2c.writeto_mem(0x29, 0x0030, b"\x01", addrsize=16)  # interrupt active high
        i2c.writeto_mem(0x29, 0x00F0, b"\x12", addrsize=16)  # nothing lives there
        i2c.writeto_mem(0x29, 0x0087, b"\x40", addrsize=16)  # start ranging
        out["config"] = [tof.config.mode, tof.config.budget_ms, tof.config.roi_w]
        out["samples"] = _range_samples(i2c, clock, 30)
        out["unknown"] = [[reg, list(data)] for reg, data in tof.unknown_writes]
        tof.xshut(0)
        out["scan"] = [i2c.scan()]
        tof.xshut(1)
        out["scan"].append(i2c.scan())  # tBOOT: not yet
        clock.us += 1300
        out["scan"].append(i2c.scan())
        try:
            i2c.readfrom_mem(0x50, 0, 1)
        except OSError as e:
            out["missing"] = e.args[0]
    finally:
        core.bind(None)
    assert out["id"] == [0xEA, 0xCC, 0x10]
    assert out["config"] == ["short", 33, 16]
    assert out["scan"] == [[], [], [0x29]] and out["missing"] == 19
    assert len(out["samples"]) >= 5 and all(s[1] == 9 for s in out["samples"])  # raw 9: valid
    return out


def case_imus_scale_and_signal_data_ready_in_chip_axes(load):
    core, trace_player, clock, player = _rig(load)
    parse_axes = load("rearguard.drivers.axes").parse_axes
    board = core.Board((0,))
    board.attach_i2c(0, 0x68, trace_player.imu_for(player, "mpu6050", parse_axes("+z+x+y"), clock.now_us))
    board.attach_i2c(0, 0x6A, trace_player.imu_for(player, "lsm6dsox", parse_axes("-y+z-x"), clock.now_us))
    core.bind(board)
    try:
        i2c = core.I2C(0)
        out = {"who": [i2c.readfrom_mem(0x68, 0x75, 1)[0], i2c.readfrom_mem(0x6A, 0x0F, 1)[0]]}
        out["asleep"] = list(i2c.readfrom_mem(0x68, 0x3B, 6))
        i2c.writeto_mem(0x68, 0x6B, b"\x00")  # wake: the gyro starts up for 30 ms
        clock.us += 10000
        out["starting"] = list(i2c.readfrom_mem(0x68, 0x3B, 6))
        clock.us += 40000
        ready = [i2c.readfrom_mem(0x68, 0x3A, 1)[0]]
        data = i2c.readfrom_mem(0x68, 0x3B, 14)
        ready.append(i2c.readfrom_mem(0x68, 0x3A, 1)[0])  # cleared on read
        out["mpu"] = [_s16(data, 2, True), _s16(data, 10, True), ready]
        i2c.writeto_mem(0x68, 0x1C, b"\x18")  # +-16 g
        clock.us += 10000
        out["mpu"].append(_s16(i2c.readfrom_mem(0x68, 0x3B, 2 * 2), 2, True))
        out["powered_down"] = list(i2c.readfrom_mem(0x6A, 0x22, 4))
        i2c.writeto_mem(0x6A, 0x10, b"\x54")  # accel 208 Hz, +-16 g
        i2c.writeto_mem(0x6A, 0x11, b"\x5c")  # gyro 208 Hz, 2000 dps
        clock.us += 10000
        status = [i2c.readfrom_mem(0x6A, 0x1E, 1)[0]]
        data = i2c.readfrom_mem(0x6A, 0x22, 12)
        status.append(i2c.readfrom_mem(0x6A, 0x1E, 1)[0])
        out["lsm"] = [_s16(data, 0, False), _s16(data, 6, False), status]
    finally:
        core.bind(None)
    assert out["who"] == [0x68, 0x6C] and out["asleep"] == [0] * 6 and out["starting"] == [0] * 6
    # device z (up, turning) is chip +y on the MPU: 16384 LSB/g at 2 g, 131 LSB/dps at 250 dps
    assert out["mpu"] == [16384, 13100, [1, 0], 2048]
    # ... and chip -x on the LSM6DSOX: 0.488 mg and 70 mdps per LSB
    assert out["powered_down"] == [0] * 4 and out["lsm"] == [-1428, -2049, [7, 4]]
    return out


def _recording_board(core):
    class Recording(core.Board):
        # keeps what the firmware drove, as each runtime's glue does
        def __init__(self):
            core.Board.__init__(self, (0,))
            self.pwm = []

        def pwm_written(self, pin, duty_u16):
            self.pwm.append([pin, duty_u16])

        def adc_uv(self, pin):
            return 1_950_000

    return Recording()


def _errors(calls):
    out = []
    for call in calls:
        try:
            call()
            out.append(None)
        except (ValueError, OSError) as e:
            out.append(str(e) if isinstance(e, ValueError) else e.args[0])
    return out


def case_machine_api_shapes(load):
    core = load("vboard.machine_core")
    rec = _recording_board(core)
    core.bind(rec)
    try:
        Pin = core.Pin
        led = Pin(2, Pin.OUT, value=1)
        levels = [led.value(), Pin(0, Pin.IN, Pin.PULL_UP).value(), Pin(4, Pin.IN).value()]
        led.off()
        levels.append(led())
        pwm = core.PWM(Pin(27), freq=200, duty_u16=0)
        for duty in (0, 30000, 30000, 0):
            pwm.duty_u16(duty)
        adc = core.ADC(Pin(35), atten=core.ADC.ATTN_11DB)
        i2c = core.I2C(0)
        errors = _errors((lambda: Pin(99), lambda: core.I2C(3), lambda: pwm.duty_u16(70000),
                          lambda: core.WDT(timeout=0), lambda: core.Timer(0, period=0),
                          lambda: i2c.writeto(0x50, b"\x00")))
        try:
            core.reset()
        except SystemExit as e:
            reset = e.args[0]
        out = {"levels": levels, "pwm": rec.pwm, "adc": [adc.read_uv(), adc.read_u16(), adc.read()],
               "errors": errors, "reset": [reset, core.reset_cause()], "rtc": list(core.RTC().datetime()),
               "freq": core.freq(), "uid": list(core.unique_id())}
    finally:
        core.bind(None)
    assert out["levels"] == [1, 1, 0, 0] and out["pwm"] == [[27, 30000], [27, 0]]
    assert out["errors"][-1] == 19 and out["reset"] == [core.HARD_RESET, core.PWRON_RESET]
    return out
