"""Base of the register-level chip models: a register file with a pointer,
auto-increment, a table of which registers a write may touch, and a record of
writes the model does not understand (tests read `unknown_writes`).

    class Chip(RegisterDevice):
        ADDR_BYTES = 1
        def __init__(self):
            RegisterDevice.__init__(self, 256)
"""


class RegisterDevice:
    ADDR_BYTES = 1  # register pointer width on the bus: 1 (IMUs) or 2 (VL53L1X)
    AUTO_INCREMENT = True

    def __init__(self, size):
        self.regs = bytearray(size)
        self.pointer = 0
        self.present = True
        self.unknown_writes = []  # (register, bytes) the model did not understand
        self.problems = []  # understood registers written with values that make no sense
        self.fault_errno = 0  # set by the world's fault timeline
        self.fault_rate = 0.0
        self.rng = None

    # --- the bus side --------------------------------------------------------
    def i2c_fault(self):
        if self.fault_errno and (self.fault_rate >= 1.0 or self.rng.chance(self.fault_rate)):
            return self.fault_errno
        return 0

    def i2c_write(self, data):
        n = self.ADDR_BYTES
        if len(data) < n:
            return  # an address-only probe
        reg = data[0] if n == 1 else (data[0] << 8) | data[1]
        self.pointer = reg
        payload = data[n:]
        if payload:
            self.write_registers(reg, payload)
            if self.AUTO_INCREMENT:
                self.pointer = reg + len(payload)

    def i2c_read(self, n):
        reg = self.pointer
        self.before_read(reg, n)
        out = bytearray(n)
        size = len(self.regs)
        for i in range(n):
            r = reg + i if self.AUTO_INCREMENT else reg
            out[i] = self.regs[r] if r < size else 0
        if self.AUTO_INCREMENT:
            self.pointer = reg + n
        self.after_read(reg, n)
        return bytes(out)

    # --- what a model overrides ---------------------------------------------
    def write_registers(self, reg, payload):
        """Store bytes from `reg` on; models check and react per register."""
        for i in range(len(payload)):
            r = reg + i
            if not self.writable(r):
                self.unknown_writes.append((reg, bytes(payload)))
                return
        for i in range(len(payload)):
            self.regs[reg + i] = payload[i]
        self.written(reg, len(payload))

    def writable(self, reg):
        return False

    def written(self, reg, n):
        pass

    def before_read(self, reg, n):
        pass

    def after_read(self, reg, n):
        pass

    # --- helpers ---------------------------------------------------------------
    def covers(self, reg, n, target):
        return reg <= target < reg + n

    def u16be(self, reg):
        return (self.regs[reg] << 8) | self.regs[reg + 1]

    def put_u16be(self, reg, value):
        self.regs[reg] = (value >> 8) & 0xFF
        self.regs[reg + 1] = value & 0xFF

    def put_s16(self, reg, value, big_endian):
        if value > 32767:
            value = 32767
        elif value < -32768:
            value = -32768
        value &= 0xFFFF
        hi = value >> 8
        lo = value & 0xFF
        if big_endian:
            self.regs[reg] = hi
            self.regs[reg + 1] = lo
        else:
            self.regs[reg] = lo
            self.regs[reg + 1] = hi
