# The part of Adafruit's adafruit_bus_device that adafruit_vl53l1x uses, over
# MicroPython's machine.I2C, so the Adafruit driver runs unchanged on the ESP32.
# machine.I2C needs no locking, so the context manager only returns the device.


class I2CDevice:
    def __init__(self, i2c, device_address, probe=True):
        self.i2c = i2c
        self.device_address = device_address
        if probe:
            self.__probe_for_device()

    def readinto(self, buf, start=0, end=None):
        if end is None:
            end = len(buf)
        if start == 0 and end == len(buf):
            self.i2c.readfrom_into(self.device_address, buf)
        else:
            self.i2c.readfrom_into(self.device_address, memoryview(buf)[start:end])

    def write(self, buf, start=0, end=None):
        if end is None:
            end = len(buf)
        self.i2c.writeto(self.device_address, memoryview(buf)[start:end])

    def write_then_readinto(self, out_buffer, in_buffer, out_start=0, out_end=None, in_start=0, in_end=None):
        if out_end is None:
            out_end = len(out_buffer)
        if in_end is None:
            in_end = len(in_buffer)
        self.i2c.writeto(self.device_address, memoryview(out_buffer)[out_start:out_end], False)
        self.readinto(in_buffer, in_start, in_end)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        return False

    def __probe_for_device(self):
        # An empty write is the cheapest transaction a device must ACK.
        try:
            self.i2c.writeto(self.device_address, b"")
        except OSError:
            raise ValueError("No I2C device at address: 0x%x" % self.device_address) from None
