# How a board mounts its IMU: the board config's axes string, "+z+x+y" (device
# x, y, z are chip +z, +x, +y), parsed once at boot. Plain Python with no
# MicroPython imports, so the simulator's chip models use this same parser.
#
#     index, sign = parse_axes("+z+x+y")     # bytearray([2, 0, 1]), [1, 1, 1]
#     device_x = sign[0] * chip[index[0]]


def parse_axes(axes):
    """'+z+x+y' -> (chip index, sign) for device x, y, z; ValueError if malformed."""
    if len(axes) != 6:
        raise ValueError("IMU axes must look like '+z+x+y', got %r" % (axes,))
    index = bytearray(3)
    sign = [1, 1, 1]
    seen = 0
    for i in range(3):
        s, a = axes[2 * i], axes[2 * i + 1]
        if s not in "+-" or a not in "xyz":
            raise ValueError("IMU axes must look like '+z+x+y', got %r" % (axes,))
        index[i] = "xyz".index(a)
        sign[i] = -1 if s == "-" else 1
        seen |= 1 << index[i]
    if seen != 7:
        raise ValueError("IMU axes %r must name each chip axis once" % (axes,))
    return index, sign
