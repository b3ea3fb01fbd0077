"""The CPython simulator's source for the chip register models: the world's
physics (what the VL53L1X sees of the scene, the IMUs' bias and noise), with
floats. The register models themselves are sim/vboard/chips.py, shared with
the MicroPython boards; their other source is a trace (sim/vboard/trace_player.py).

    tof = VL53L1X(world, rng, now_us)     # sim.chips.vl53l1x
    board.attach_i2c(0, 0x29, tof)

Randomness only through sim.chips.rng (the same numbers under CPython and
MicroPython).
"""
