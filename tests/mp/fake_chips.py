# Register-map models of the clip's I2C chips for the MicroPython tests, and a
# feeder that plays a trace CSV (DESIGN.md format) into them. Every register
# map is a bytearray made once; feeding a sample and answering a read copy
# bytes in place, so the chips add nothing to the allocation probe's figure
# (mp_probe checks that too).
#
#     tof = Vl53l1xChip(); imu = Mpu6050Chip("+z+x+y")
#     feeder = TraceFeeder("/tests_mp/probe_trace.csv", tof, imu, start_ms)
#     feeder.advance(now_ms)     # before each tick
from time import ticks_add, ticks_diff


class RegisterChip:
    """A chip that answers reads from a register map; writes land in it."""

    def __init__(self, size, reg_bytes):
        self.regs = bytearray(size)
        self.reg_bytes = reg_bytes
        self.pointer = 0

    def write(self, data):
        if not data:
            return  # an address-only probe: the chip ACKs and nothing changes
        # The register address comes first (big-endian), then the data.
        reg = data[0]
        if self.reg_bytes == 2:
            reg = (reg << 8) | data[1]
        n = len(data) - self.reg_bytes
        for i in range(n):
            self.regs[reg + i] = data[self.reg_bytes + i]
        self.pointer = reg
        if n:
            self.written(reg, n)

    def read_into(self, buf):
        reg = self.pointer
        for i in range(len(buf)):
            buf[i] = self.regs[reg + i]
        self.was_read(reg, len(buf))

    def mem_read_into(self, reg, buf):
        self.pointer = reg
        self.read_into(buf)

    def mem_write(self, reg, data):
        for i in range(len(data)):
            self.regs[reg + i] = data[i]
        self.written(reg, len(data))

    def put16(self, reg, value):
        value &= 0xFFFF
        self.regs[reg] = value >> 8
        self.regs[reg + 1] = value & 0xFF

    def written(self, reg, n):
        pass

    def was_read(self, reg, n):
        pass


# VL53L1X registers (ST ULD names).
_I2C_SLAVE_DEVICE_ADDRESS = 0x0001
_GPIO_HV_MUX_CTRL = 0x0030
_GPIO_TIO_HV_STATUS = 0x0031
_SYSTEM_INTERRUPT_CLEAR = 0x0086
_SYSTEM_MODE_START = 0x0087
_RESULT_RANGE_STATUS = 0x0089
_RESULT_SPADS = 0x008C
_RESULT_AMBIENT = 0x0090
_RESULT_DISTANCE = 0x0096
_RESULT_SIGNAL = 0x0098
_FIRMWARE_SYSTEM_STATUS = 0x00E5
_MODEL_ID = 0x010F

# ULD range status (trace CSV) -> the chip's raw status (RESULT__RANGE_STATUS),
# the inverse of the ULD's status_rtn table: 0 valid=9, 1 sigma=6, 2 signal=4,
# 3 min range=8, 4 out of bounds=5, 7 wraparound=7.
_RAW_STATUS = bytes((9, 6, 4, 8, 5, 255, 255, 7))


class Vl53l1xChip(RegisterChip):
    def __init__(self):
        super().__init__(0x200, 2)
        r = self.regs
        r[_I2C_SLAVE_DEVICE_ADDRESS] = 0x29
        r[_GPIO_HV_MUX_CTRL] = 0x01  # interrupt active high
        r[_FIRMWARE_SYSTEM_STATUS] = 0x03  # booted
        r[_MODEL_ID] = 0xEA
        r[_MODEL_ID + 1] = 0xCC
        r[_MODEL_ID + 2] = 0x10
        self.ranging = False
        self.ready = False
        self.samples = 0  # measurements delivered
        self.load(1000, 0, 300)
        self._signal_ready(False)

    def _signal_ready(self, ready):
        self.ready = ready
        # GPIO__TIO_HV_STATUS bit 0 equals the polarity (GPIO_HV_MUX bit 4 clear = high) when ready.
        active = 0 if self.regs[_GPIO_HV_MUX_CTRL] & 0x10 else 1
        self.regs[_GPIO_TIO_HV_STATUS] = active if ready else 1 - active

    def load(self, range_mm, uld_status, ambient_kcps):
        """A new measurement in the result block, as the ULD reads it (17 bytes from 0x89)."""
        r = self.regs
        r[_RESULT_RANGE_STATUS] = _RAW_STATUS[uld_status] if uld_status < 8 else 255
        valid = uld_status == 0
        r[_RESULT_SPADS] = 180 if valid else 12
        r[_RESULT_SPADS + 1] = 0
        self.put16(_RESULT_AMBIENT, ambient_kcps // 8)
        self.put16(_RESULT_DISTANCE, range_mm)
        # Return signal falls with the square of range (white target).
        signal = 20000 if range_mm < 60 else 72000000 // (range_mm * range_mm // 100 + 1)
        self.put16(_RESULT_SIGNAL, (signal if valid else 40) // 8)
        self.samples += 1
        if self.ranging:
            self._signal_ready(True)

    def written(self, reg, n):
        end = reg + n
        if reg <= _SYSTEM_MODE_START < end:
            self.ranging = self.regs[_SYSTEM_MODE_START] == 0x40
            # The first measurement of a start is there at once (the Adafruit
            # driver waits for it inside its constructor).
            self._signal_ready(self.ranging)
        if reg <= _SYSTEM_INTERRUPT_CLEAR < end and self.regs[_SYSTEM_INTERRUPT_CLEAR] & 1:
            self.regs[_SYSTEM_INTERRUPT_CLEAR] = 0
            self._signal_ready(False)


# MPU6050 registers.
_GYRO_CONFIG = 0x1B
_ACCEL_CONFIG = 0x1C
_INT_STATUS = 0x3A
_ACCEL_XOUT_H = 0x3B
_TEMP_OUT_H = 0x41
_GYRO_XOUT_H = 0x43
_PWR_MGMT_1 = 0x6B
_WHO_AM_I = 0x75


class Mpu6050Chip(RegisterChip):
    """MPU6050 (also MPU6886: who_am_i=0x19). Samples come in the device frame and
    are written in chip axes through the board's mapping (e.g. "+z+x+y")."""

    def __init__(self, axes, who_am_i=0x68):
        super().__init__(0x80, 1)
        self.regs[_WHO_AM_I] = who_am_i
        self.regs[_PWR_MGMT_1] = 0x40  # asleep after power-on
        # device axis i comes from chip axis index[i] times sign[i]
        self.index = bytearray(3)
        self.sign = [1, 1, 1]
        for i in range(3):
            self.sign[i] = -1 if axes[2 * i] == "-" else 1
            self.index[i] = "xyz".index(axes[2 * i + 1])
        self.samples = 0

    def load(self, ax, ay, az, gx, gy, gz):
        accel_fs = (self.regs[_ACCEL_CONFIG] >> 3) & 3  # +-2, 4, 8, 16 g
        gyro_fs = (self.regs[_GYRO_CONFIG] >> 3) & 3  # +-250, 500, 1000, 2000 dps
        self._axis(_ACCEL_XOUT_H, 0, ax * (16384 >> accel_fs) // 1000)
        self._axis(_ACCEL_XOUT_H, 1, ay * (16384 >> accel_fs) // 1000)
        self._axis(_ACCEL_XOUT_H, 2, az * (16384 >> accel_fs) // 1000)
        # 131 LSB per deg/s at +-250 (131.07; kept integer so that nothing is boxed)
        self._axis(_GYRO_XOUT_H, 0, gx * 131 // (1000 << gyro_fs))
        self._axis(_GYRO_XOUT_H, 1, gy * 131 // (1000 << gyro_fs))
        self._axis(_GYRO_XOUT_H, 2, gz * 131 // (1000 << gyro_fs))
        self.put16(_TEMP_OUT_H, -3920)  # 25 degC
        self.regs[_INT_STATUS] |= 1  # DATA_RDY_INT
        self.samples += 1

    def _axis(self, base, device_axis, raw):
        raw = raw * self.sign[device_axis]
        raw = 32767 if raw > 32767 else -32768 if raw < -32768 else raw
        self.put16(base + 2 * self.index[device_axis], raw)

    def written(self, reg, n):
        if reg <= _PWR_MGMT_1 < reg + n and self.regs[_PWR_MGMT_1] & 0x80:
            self.regs[_PWR_MGMT_1] = 0x40  # DEVICE_RESET: done at once, back asleep

    def was_read(self, reg, n):
        if reg <= _INT_STATUS < reg + n:
            self.regs[_INT_STATUS] = 0  # cleared by reading it


class TraceFeeder:
    """Plays a trace CSV into the chips by time, looping at its end."""

    def __init__(self, path, tof, imu, start_ms):
        self.tof = tof
        self.imu = imu
        with open(path) as f:
            n = -1  # the header
            for _line in f:
                n += 1
        self.count = n
        self.t_ms = [0] * n
        self.imu_rows = [0] * (6 * n)
        self.tof_rows = [-1] * (3 * n)  # range_mm, status, ambient; -1 = no ToF sample
        with open(path) as f:
            f.readline()
            for i in range(n):
                row = f.readline().strip().split(",")
                self.t_ms[i] = int(row[0])
                for k in range(6):
                    self.imu_rows[6 * i + k] = int(row[1 + k])
                if row[7] != "":
                    for k in range(3):
                        self.tof_rows[3 * i + k] = int(row[7 + k])
        self.duration_ms = self.t_ms[n - 1] + 10
        self.start_ms = start_ms
        self.next = 0
        self.loops = 0

    def advance(self, now_ms):
        """Load every sample due by now_ms into the chips."""
        while True:
            i = self.next
            if ticks_diff(now_ms, self.start_ms) < self.t_ms[i]:
                return
            b = 6 * i
            m = self.imu_rows
            self.imu.load(m[b], m[b + 1], m[b + 2], m[b + 3], m[b + 4], m[b + 5])
            c = 3 * i
            if self.tof_rows[c] >= 0:
                self.tof.load(self.tof_rows[c], self.tof_rows[c + 1], self.tof_rows[c + 2])
            self.next = i + 1
            if self.next == self.count:
                self.next = 0
                self.loops += 1
                self.start_ms = ticks_add(self.start_ms, self.duration_ms)
