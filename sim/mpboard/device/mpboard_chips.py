# Register-level models of the clip's chips on the virtual board, fed by a
# trace (the CSV of docs/design.md). They answer I2C transactions the way the parts
# do, so the firmware's real drivers (the Adafruit VL53L1X driver, the IMU
# driver) run unchanged under real MicroPython. Plain MicroPython: no CPython.
#
#     world = World(load_trace(open("/_board/trace.csv")), time.ticks_ms, time.ticks_diff)
#     tof = Vl53l1x(world); tof.select(0x010F); tof.read_into(buf3)  # EA CC 10
#
# The trace plays from the first sensor access after each boot. After its last
# row the world holds still: the IMU repeats the last row and the ToF repeats
# its last sample at the trace's own sample period (or, with loop=True, as the
# allocation probe of tests/mp uses it, the trace plays again from its start).
# Without a trace the clip stands upright and still with nothing behind it
# within 3 m. Reading a chip allocates nothing, so the probe can count on it.

# --- the world: a trace read row by row as the board's clock passes ----------


_COLUMNS = 10  # t_ms, ax, ay, az, gx, gy, gz, range_mm, range_status, ambient
_EMPTY = -999_999  # an empty field (a row without a ToF sample); stays a small int
_IMU_HOLD_PERIOD_MS = 10


def load_trace(trace_file):
    """The whole trace as one flat array of ints, parsed once at boot (before
    main.py, where the port can still collect the garbage parsing leaves)."""
    from array import array

    rows = array("i")
    trace_file.readline()  # header
    for line in trace_file:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(",")
        for i in range(_COLUMNS):
            rows.append(int(fields[i]) if i < len(fields) and fields[i] else _EMPTY)
    return rows


class World:
    # Replays the trace as the board's clock passes; reads allocate nothing.
    def __init__(self, rows, clock_ms, ticks_diff, presses=(), loop=False):
        self._rows = rows if rows is not None else ()
        self._n_rows = len(self._rows) // _COLUMNS
        self._loop = loop and self._n_rows > 0
        self.loops = 0  # times the trace played to its end and started again (loop=True)
        self._looped_ms = 0  # trace time skipped back by those restarts
        self._next = 0  # index of the next row not yet reached
        self._presses = presses  # [(t_ms, hold_ms)]: a finger on the button, in trace time
        self._clock_ms = clock_ms
        self._ticks_diff = ticks_diff
        self._t0 = None  # board ms at the trace's first row
        self._first_t = self._rows[0] if self._n_rows else 0
        # device frame, docs/design.md units
        self.ax_mg = 0
        self.ay_mg = 0
        self.az_mg = 1000
        self.gx_mdps = 0
        self.gy_mdps = 0
        self.gz_mdps = 0
        self.imu_seq = 0
        # the latest ToF sample; tof_seq counts samples since boot
        self.range_mm = 3000
        self.range_status = 0  # ULD code, 0 = valid
        self.ambient_kcps = 1
        self.tof_seq = 0
        self._tof_last_t = -1
        self._tof_period_ms = 50
        self._tof_hold_t = -1  # trace time of the last ToF sample, once the trace has ended
        self._imu_hold_t = -1  # the same for the IMU, which keeps sampling at 100 Hz

    def _now(self):
        # trace time in ms for the current board time
        now = self._clock_ms()
        if self._t0 is None:
            self._t0 = now
        return self._first_t + self._ticks_diff(now, self._t0) - self._looped_ms

    def button_pressed(self):
        t = self._now()
        for at, hold in self._presses:
            if at <= t < at + hold:
                return True
        return False

    def update(self):
        t = self._now()
        rows = self._rows
        while self._next < self._n_rows and rows[self._next * _COLUMNS] <= t:
            self._apply(self._next * _COLUMNS)
            self._next += 1
            if self._next == self._n_rows and self._loop:
                self._restart()
                t = self._now()
        if self._next >= self._n_rows:
            self._hold(t)

    def _restart(self):
        # The first row again, one IMU period after the last one.
        last_t = self._rows[(self._n_rows - 1) * _COLUMNS]
        self._looped_ms += last_t - self._first_t + _IMU_HOLD_PERIOD_MS
        self._next = 0
        self.loops += 1

    def _apply(self, i):
        r = self._rows
        if r[i + 1] != _EMPTY:
            self.ax_mg, self.ay_mg, self.az_mg = r[i + 1], r[i + 2], r[i + 3]
            self.gx_mdps, self.gy_mdps, self.gz_mdps = r[i + 4], r[i + 5], r[i + 6]
            self.imu_seq += 1
        if r[i + 8] != _EMPTY:
            t = r[i]
            if self._tof_last_t >= 0 and t > self._tof_last_t:
                self._tof_period_ms = t - self._tof_last_t
            self._tof_last_t = t
            self.range_mm = r[i + 7] if r[i + 7] != _EMPTY else 0
            self.range_status = r[i + 8]
            self.ambient_kcps = r[i + 9] if r[i + 9] != _EMPTY else 0
            self.tof_seq += 1

    def _hold(self, t):
        # No trace, or past its end: the chips keep sampling what they last saw.
        if self._tof_hold_t < 0:
            self._tof_hold_t = self._tof_last_t if self._tof_last_t >= 0 else t
            self._imu_hold_t = t
        while t - self._tof_hold_t >= self._tof_period_ms:
            self._tof_hold_t += self._tof_period_ms
            self.tof_seq += 1
        while t - self._imu_hold_t >= _IMU_HOLD_PERIOD_MS:
            self._imu_hold_t += _IMU_HOLD_PERIOD_MS
            self.imu_seq += 1


_ENODEV = 19


class I2CBus:
    # machine.I2C's transactions carried out on chip models, as the ESP32 port
    # answers them: an address nobody answers (or a chip powered down by its
    # XSHUT) raises OSError(ENODEV). The board's machine.I2C and the allocation
    # probe's (tests/mp/fake_machine.py) are this with their own _chips(): the
    # bus's {address: chip}. A transaction allocates nothing but the buffer
    # readfrom/readfrom_mem return.
    def _chips(self):
        raise NotImplementedError

    def _device(self, addr):
        dev = self._chips().get(addr)
        if dev is None or not getattr(dev, "present", True):
            raise OSError(_ENODEV)
        return dev

    def scan(self):
        chips = self._chips()
        return sorted(a for a in chips if getattr(chips[a], "present", True))

    def writeto(self, addr, buf, stop=True):
        self._device(addr).i2c_write(buf)
        return 1

    def readfrom_into(self, addr, buf, stop=True):
        self._device(addr).read_into(buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self._device(addr).read_into(buf)
        return bytes(buf)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        dev = self._device(addr)
        dev.select(memaddr)
        dev.read_into(buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        dev = self._device(addr)
        dev.select(memaddr)
        dev.write_from(buf)


class _Registers:
    # A chip reached by I2C: a write sets the register pointer (ADDR_BYTES
    # bytes) and stores the rest with auto-increment; a read returns bytes from
    # the pointer on. The machine module calls select/write_from/read_into so
    # that a transaction allocates nothing.
    ADDR_BYTES = 1
    SIZE = 256

    def __init__(self, world):
        self.world = world
        self.regs = bytearray(self.SIZE)
        self.ptr = 0

    def select(self, reg):
        self.ptr = reg

    def write_from(self, data, start=0):
        for i in range(start, len(data)):
            self.store(self.ptr, data[i])
            self.ptr += 1

    def i2c_write(self, data):
        # one raw write transaction: register address, then data
        n = self.ADDR_BYTES
        if len(data) < n:
            return  # an address probe
        self.ptr = data[0] if n == 1 else (data[0] << 8) | data[1]
        self.write_from(data, n)

    def read_into(self, buf):
        n = len(buf)
        self.world.update()
        self.refresh(self.ptr, n)
        regs = self.regs
        for i in range(n):
            at = self.ptr + i
            buf[i] = regs[at] if at < self.SIZE else 0
        self.ptr += n

    def i2c_read(self, nbytes):
        buf = bytearray(nbytes)
        self.read_into(buf)
        return bytes(buf)

    def store(self, reg, value):
        if reg < self.SIZE:
            self.regs[reg] = value

    def refresh(self, reg, nbytes):
        pass

    def _put16(self, reg, value):
        value = max(-32768, min(32767, value)) & 0xFFFF
        self.regs[reg] = value >> 8
        self.regs[reg + 1] = value & 0xFF


def imu_for(world, chip, axes):
    """The IMU model for a board config's IMU["chip"] and IMU["axes"]."""
    if chip == "lsm6dsox":
        return Lsm6dsox(world, chip, axes)
    return Mpu6050(world, chip, axes)


# --- VL53L1X (ST ULD register map) ----------------------------------------------
_TOF_SOFT_RESET = 0x0000  # 0 holds the chip in reset, 1 boots it
_TOF_GPIO_HV_MUX_CTRL = 0x0030  # bit 4: interrupt active low
_TOF_GPIO_TIO_HV_STATUS = 0x0031  # bit 0: interrupt line (data ready, by polarity)
_TOF_SYSTEM_INTERRUPT_CLEAR = 0x0086
_TOF_SYSTEM_MODE_START = 0x0087  # 0x40 start ranging, 0x00 stop
_TOF_RESULT_RANGE_STATUS = 0x0089  # raw status & 0x1F
_TOF_RESULT_SPADS = 0x008C  # effective SPADs, 8.8 fixed point
_TOF_RESULT_AMBIENT = 0x0090  # kcps / 8
_TOF_RESULT_DISTANCE = 0x0096  # mm
_TOF_RESULT_SIGNAL = 0x0098  # kcps / 8
_TOF_MODEL_ID = 0x010F  # EA CC 10: model, module type, mask revision
_TOF_FIRMWARE_SYSTEM_STATUS = 0x00E5  # bit 0: booted

# ULD range status -> the raw code the chip reports (inverse of ULD's status_rtn)
_RAW_STATUS = {0: 9, 1: 6, 2: 4, 3: 8, 4: 5, 5: 3, 6: 19, 7: 7, 9: 12, 10: 18, 11: 22, 12: 23, 13: 13}


class Vl53l1x(_Registers):
    ADDR_BYTES = 2
    SIZE = 0x0120

    def __init__(self, world):
        super().__init__(world)
        self.present = True  # XSHUT high: the chip answers on the bus
        self._power_on()

    def _power_on(self):
        for i in range(self.SIZE):
            self.regs[i] = 0
        self.regs[_TOF_MODEL_ID : _TOF_MODEL_ID + 3] = b"\xea\xcc\x10"
        self.regs[_TOF_FIRMWARE_SYSTEM_STATUS] = 0x01
        self.regs[_TOF_GPIO_HV_MUX_CTRL] = 0x01  # power-on: active high
        self.regs[_TOF_SOFT_RESET] = 0x01
        self.ranging = False
        self.cleared_seq = 0  # world.tof_seq when the interrupt was last cleared
        self.latched_seq = -1

    def xshut(self, level):
        # XSHUT low powers the chip down; high boots it with power-on registers.
        if level and not self.present:
            self._power_on()
        self.present = bool(level)

    def store(self, reg, value):
        if reg == _TOF_SOFT_RESET:
            if value & 0x01 and not self.regs[_TOF_SOFT_RESET] & 0x01:
                self._power_on()  # ULD soft reset: 0 then 1 reboots the chip
            self.regs[_TOF_SOFT_RESET] = value
            return
        super().store(reg, value)
        if reg == _TOF_SYSTEM_INTERRUPT_CLEAR and value & 0x01:
            self.world.update()
            self.cleared_seq = self.world.tof_seq
        elif reg == _TOF_SYSTEM_MODE_START:
            self.world.update()
            self.ranging = value & 0x40 != 0
            # a new measurement starts now: the next sample in the world is the first
            self.cleared_seq = self.world.tof_seq

    def refresh(self, reg, nbytes):
        w = self.world
        ready = self.ranging and w.tof_seq > self.cleared_seq
        active_low = self.regs[_TOF_GPIO_HV_MUX_CTRL] & 0x10
        level = (not ready) if active_low else ready
        self.regs[_TOF_GPIO_TIO_HV_STATUS] = (self.regs[_TOF_GPIO_TIO_HV_STATUS] & 0xFE) | (1 if level else 0)
        if self.ranging and w.tof_seq != self.latched_seq:
            self.latched_seq = w.tof_seq
            self._latch(w)

    def _latch(self, w):
        status = w.range_status
        self.regs[_TOF_RESULT_RANGE_STATUS] = _RAW_STATUS.get(status, 0) & 0x1F
        distance = w.range_mm if w.range_mm > 0 else 0
        self._put16(_TOF_RESULT_DISTANCE, distance)
        self._put16(_TOF_RESULT_AMBIENT, w.ambient_kcps // 8)
        # The trace has no signal rate: a white target's return falls with
        # distance squared; a failed sample returns little. Like the real
        # chip's, it is never exactly the same twice (the driver takes
        # identical result blocks in a row for a frozen chip).
        if status == 0 or status == 7:
            # 4e9 / (d^2 + 1e5) in cm: no int above 2^30, which would allocate
            cm = distance // 10
            signal_kcps = min(40000, 40_000_000 // (cm * cm + 1000))
        else:
            signal_kcps = 40
        self._put16(_TOF_RESULT_SIGNAL, signal_kcps // 8 + w.tof_seq % 7)
        self._put16(_TOF_RESULT_SPADS, 120 * 256)


# --- MPU6050 / MPU6886 (InvenSense register map) ---------------------------------
_IMU_SMPLRT_DIV = 0x19
_IMU_GYRO_CONFIG = 0x1B  # bits 4:3 full scale 250/500/1000/2000 dps
_IMU_ACCEL_CONFIG = 0x1C  # bits 4:3 full scale 2/4/8/16 g
_IMU_INT_STATUS = 0x3A  # bit 0: data ready
_IMU_ACCEL_XOUT_H = 0x3B  # ax, ay, az, temp, gx, gy, gz: 14 bytes big-endian
_IMU_TEMP_OUT_H = 0x41
_IMU_GYRO_XOUT_H = 0x43
_IMU_PWR_MGMT_1 = 0x6B  # bit 6: sleep (set at power-on), bit 7: reset
_IMU_WHO_AM_I = 0x75
_WHO_AM_I = {"mpu6050": 0x68, "mpu6886": 0x19, "mpu6500": 0x70, "mpu9250": 0x71}
_TEMP_30C = -2220  # (30 - 36.53) * 340


class Mpu6050(_Registers):
    SIZE = 128

    def __init__(self, world, chip="mpu6050", axes="+x+y+z"):
        super().__init__(world)
        self.who_am_i = _WHO_AM_I.get(chip, 0x68)
        self._power_on()
        # axes: the board's "device axis = signed chip axis" for device x, y, z;
        # a chip axis reads sign * the device axis it is mapped to.
        self.signs = [1, 1, 1]
        self.chip_axes = [0, 1, 2]
        for i in range(3):
            self.signs[i] = -1 if axes[2 * i] == "-" else 1
            self.chip_axes[i] = "xyz".index(axes[2 * i + 1])
        self.seen_seq = -1

    def _power_on(self):
        for i in range(self.SIZE):
            self.regs[i] = 0
        self.regs[_IMU_WHO_AM_I] = self.who_am_i
        self.regs[_IMU_PWR_MGMT_1] = 0x40

    def store(self, reg, value):
        if reg == _IMU_PWR_MGMT_1 and value & 0x80:
            self._power_on()
            return
        # (== rather than `in (...)`: that tuple of globals would be built per write)
        if reg == _IMU_WHO_AM_I or reg == _IMU_INT_STATUS or _IMU_ACCEL_XOUT_H <= reg < _IMU_ACCEL_XOUT_H + 14:
            return  # read-only
        super().store(reg, value)

    def refresh(self, reg, nbytes):
        w = self.world
        end = reg + nbytes
        if reg <= _IMU_INT_STATUS < end:
            self.regs[_IMU_INT_STATUS] = 1 if w.imu_seq != self.seen_seq else 0
        if end <= _IMU_ACCEL_XOUT_H or reg >= _IMU_ACCEL_XOUT_H + 14:
            return
        if self.regs[_IMU_PWR_MGMT_1] & 0x40:
            return  # asleep: the data registers keep what they had
        self.seen_seq = w.imu_seq
        a_lsb_per_g = 16384 >> ((self.regs[_IMU_ACCEL_CONFIG] >> 3) & 3)
        g_scale = 1000 << ((self.regs[_IMU_GYRO_CONFIG] >> 3) & 3)  # 131 LSB per dps at 250 dps
        self._axis(0, w.ax_mg, w.gx_mdps, a_lsb_per_g, g_scale)
        self._axis(1, w.ay_mg, w.gy_mdps, a_lsb_per_g, g_scale)
        self._axis(2, w.az_mg, w.gz_mdps, a_lsb_per_g, g_scale)
        self._put16(_IMU_TEMP_OUT_H, _TEMP_30C)

    def _axis(self, device_axis, accel_mg, gyro_mdps, a_lsb_per_g, g_scale):
        sign = self.signs[device_axis]
        chip_axis = self.chip_axes[device_axis]
        self._put16(_IMU_ACCEL_XOUT_H + 2 * chip_axis, sign * accel_mg * a_lsb_per_g // 1000)
        self._put16(_IMU_GYRO_XOUT_H + 2 * chip_axis, sign * gyro_mdps * 131 // g_scale)


# --- LSM6DSOX (ST DS13013) ------------------------------------------------------------
_LSM_WHO_AM_I = 0x0F  # 0x6C
_LSM_CTRL1_XL = 0x10  # ODR bits 7:4 (0 = power-down), FS bits 3:2
_LSM_CTRL2_G = 0x11  # ODR bits 7:4, FS bits 3:2, FS_125 bit 1
_LSM_CTRL3_C = 0x12  # bit 2 IF_INC (set at power-on), bit 0 SW_RESET
_LSM_STATUS = 0x1E  # bit 0 accel data ready, bit 1 gyro data ready
_LSM_OUT_TEMP_L = 0x20
_LSM_OUTX_L_G = 0x22  # gyro x, y, z then accel x, y, z: little-endian
_LSM_OUTX_L_A = 0x28
_LSM_UG_PER_LSB = (61, 488, 122, 244)  # FS_XL 2, 16, 4, 8 g
_LSM_UDPS_PER_LSB = (8750, 17500, 35000, 70000)  # FS_G 250, 500, 1000, 2000 dps


class Lsm6dsox(Mpu6050):
    SIZE = 128

    def _power_on(self):
        for i in range(self.SIZE):
            self.regs[i] = 0
        self.regs[_LSM_WHO_AM_I] = 0x6C
        self.regs[_LSM_CTRL3_C] = 0x04

    def store(self, reg, value):
        if reg == _LSM_CTRL3_C and value & 0x01:
            self._power_on()
            return
        if reg == _LSM_WHO_AM_I or reg == _LSM_STATUS or _LSM_OUT_TEMP_L <= reg < _LSM_OUTX_L_A + 6:
            return  # read-only
        _Registers.store(self, reg, value)

    def refresh(self, reg, nbytes):
        w = self.world
        end = reg + nbytes
        new = w.imu_seq != self.seen_seq
        if reg <= _LSM_STATUS < end:
            self.regs[_LSM_STATUS] = 3 if new else 0
        if end <= _LSM_OUT_TEMP_L or reg >= _LSM_OUTX_L_A + 6:
            return
        self.seen_seq = w.imu_seq
        xl, g = self.regs[_LSM_CTRL1_XL], self.regs[_LSM_CTRL2_G]
        if xl >> 4:
            ug = _LSM_UG_PER_LSB[(xl >> 2) & 3]
            self._put_le(_LSM_OUTX_L_A, 0, w.ax_mg * 1000, ug)
            self._put_le(_LSM_OUTX_L_A, 1, w.ay_mg * 1000, ug)
            self._put_le(_LSM_OUTX_L_A, 2, w.az_mg * 1000, ug)
        if g >> 4:
            udps = 4375 if g & 0x02 else _LSM_UDPS_PER_LSB[(g >> 2) & 3]
            self._put_le(_LSM_OUTX_L_G, 0, w.gx_mdps * 1000, udps)
            self._put_le(_LSM_OUTX_L_G, 1, w.gy_mdps * 1000, udps)
            self._put_le(_LSM_OUTX_L_G, 2, w.gz_mdps * 1000, udps)

    def _put_le(self, base, device_axis, micro_units, per_lsb):
        # device axis -> the chip axis the board maps it to, little-endian
        value = self.signs[device_axis] * micro_units // per_lsb
        value = max(-32768, min(32767, value)) & 0xFFFF
        at = base + 2 * self.chip_axes[device_axis]
        self.regs[at] = value & 0xFF
        self.regs[at + 1] = value >> 8
