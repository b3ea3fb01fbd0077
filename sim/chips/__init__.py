"""Register-level chip models for the virtual I2C bus.

Each model answers `i2c_write(data)` / `i2c_read(n)` the way the real chip
does: a register pointer, auto-increment, power-on defaults, and the quirks
the datasheets and field reports describe. Their values come from a source
(the simulated world, or a recorded trace), never from the firmware.

    tof = VL53L1X(source)                 # sim.chips.vl53l1x
    board.attach_i2c(0, 0x29, tof)

The modules keep to the subset of Python that MicroPython also runs (no
f-strings with format specs, dataclasses, typing or enum; randomness only
through sim.chips.rng), so a later step can run the same models on a board.
"""
