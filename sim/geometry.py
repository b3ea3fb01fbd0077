"""Geometry shared by the world and its parts: rotations between the clip's
device frame and the world (R = Rz(yaw) Ry(pitch) Rx(roll)), body rates from
attitude rates, paths along waypoints, and the ray grid a ToF zone is traced
with. Frames: docs/simulator.md and sim/world.py."""

import math


def body_rates(pitch, roll, pitch_rate, roll_rate, yaw_rate):
    """Angular rate in the device frame (what a gyro measures) from the attitude
    angles of R = Rz(yaw) Ry(pitch) Rx(roll) and their time derivatives (deg, deg/s).
    Euler-angle rates are not body rates: at 35 deg of pitch the yaw swing of the
    gait shows on the gyro's x axis too."""
    p, r = math.radians(pitch), math.radians(roll)
    sp, cp, sr, cr = math.sin(p), math.cos(p), math.sin(r), math.cos(r)
    return (roll_rate - yaw_rate * sp,
            pitch_rate * cr + yaw_rate * sr * cp,
            -pitch_rate * sr + yaw_rate * cr * cp)


def cos_sin(heading_deg):
    """(cos, sin) of a heading; exact for the straight path's 0."""
    if heading_deg == 0.0:
        return 1.0, 0.0
    h = math.radians(heading_deg)
    return math.cos(h), math.sin(h)


def path_point(path, t_ms):
    """(x, y) along waypoints [[t_ms, x, y], ...]: linear between, held outside."""
    if t_ms <= path[0][0]:
        return float(path[0][1]), float(path[0][2])
    for i in range(1, len(path)):
        t1, x1, y1 = path[i]
        if t_ms <= t1:
            t0, x0, y0 = path[i - 1]
            u = (t_ms - t0) / (t1 - t0) if t1 > t0 else 1.0
            return x0 + (x1 - x0) * u, y0 + (y1 - y0) * u
    return float(path[-1][1]), float(path[-1][2])


def path_velocity(path, t_ms):
    """(vx, vy) in mm/s along the waypoints at t_ms; 0 outside them."""
    for i in range(1, len(path)):
        t1, x1, y1 = path[i]
        t0, x0, y0 = path[i - 1]
        if t0 <= t_ms < t1:
            return (x1 - x0) * 1000.0 / (t1 - t0), (y1 - y0) * 1000.0 / (t1 - t0)
    return 0.0, 0.0


_RAYS = {}
RAY_GRID = 7  # rays per side across the ROI's field of view
MAX_RAY_MM = 12000  # returns from farther are lost in the noise


def ray_grid(fov_deg, elevation_deg=0.0, azimuth_deg=0.0, fov_v_deg=None):
    """Unit ray directions (device frame) spread over a field of view fov_deg
    across and fov_v_deg high (default: square), its centre turned up by
    `elevation_deg` and right by `azimuth_deg`."""
    fov_v = fov_deg if fov_v_deg is None else fov_v_deg
    key = (int(fov_deg * 10), int(fov_v * 10), int(elevation_deg * 10), int(azimuth_deg * 10))
    rays = _RAYS.get(key)
    if rays is None:
        rays = []
        half = math.radians(fov_deg) / 2
        half_v = math.radians(fov_v) / 2
        el0, az0 = math.radians(elevation_deg), math.radians(azimuth_deg)
        for i in range(RAY_GRID):
            az = az0 - half + 2 * half * (i + 0.5) / RAY_GRID
            for j in range(RAY_GRID):
                el = el0 - half_v + 2 * half_v * (j + 0.5) / RAY_GRID
                x, y, z = 1.0, math.tan(az), math.tan(el)
                n = math.sqrt(x * x + y * y + z * z)
                rays.append((x / n, y / n, z / n))
        _RAYS[key] = rays
    return rays


def rotation(pitch_deg, roll_deg, yaw_deg):
    """Rows of R = Rz(yaw) Ry(pitch) Rx(roll): device -> world."""
    p, r, y = math.radians(pitch_deg), math.radians(roll_deg), math.radians(yaw_deg)
    cp, sp, cr, sr, cy, sy = math.cos(p), math.sin(p), math.cos(r), math.sin(r), math.cos(y), math.sin(y)
    return ((cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr),
            (sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr),
            (-sp, cp * sr, cp * cr))


def device_to_world(x, y, z, pitch, roll, yaw):
    m = rotation(pitch, roll, yaw)
    return (m[0][0] * x + m[0][1] * y + m[0][2] * z,
            m[1][0] * x + m[1][1] * y + m[1][2] * z,
            m[2][0] * x + m[2][1] * y + m[2][2] * z)


def world_to_device(x, y, z, pitch, roll, yaw):
    m = rotation(pitch, roll, yaw)
    return (m[0][0] * x + m[1][0] * y + m[2][0] * z,
            m[0][1] * x + m[1][1] * y + m[2][1] * z,
            m[0][2] * x + m[1][2] * y + m[2][2] * z)
