"""The path's surface: a height profile along the path with steps, kerbs and
bumps, and where a ray from the clip meets it (sim/world.py's ground)."""

import bisect
import math


class Ground:
    """The path's surface: flat at z = 0, or a height profile along world x
    ([[x_mm, z_mm], ...], linear between points, level beyond the ends; two
    points at one x make a step) with optional bumps. Obstacles and the runner
    stand on it."""

    BUMP_STEP_MM = 250

    def __init__(self, spec, rng=None, extent_mm=0.0):
        self.reflectance = float(spec.get("reflectance", 0.3))
        points = [(float(x), float(z)) for x, z in spec.get("profile", [])]
        bumps = float(spec.get("bumps_mm", 0))
        if bumps > 0 and rng is not None:
            points = _with_bumps(points, bumps, rng, extent_mm, self.BUMP_STEP_MM)
        # knots: unique x, the height arriving from the left and leaving to the right
        self.xs, self.z_left, self.z_right = [], [], []
        for x, z in points:
            if self.xs and self.xs[-1] == x:
                self.z_right[-1] = z
            else:
                self.xs.append(x)
                self.z_left.append(z)
                self.z_right.append(z)
        self.flat = not points

    def height(self, x):
        if self.flat:
            return 0.0
        xs = self.xs
        if x < xs[0]:
            return self.z_left[0]
        if x >= xs[-1]:
            return self.z_right[-1]
        i = bisect.bisect_right(xs, x)  # xs[i - 1] <= x < xs[i]
        x0, x1 = xs[i - 1], xs[i]
        z0, z1 = self.z_right[i - 1], self.z_left[i]
        return z0 + (z1 - z0) * (x - x0) / (x1 - x0)

    def ray_hit(self, ox, oz, dx, dz, max_t):
        """(distance along the ray, cosine of the incidence) where a ray from
        (ox, oz) heading (dx, dz) (x along the path, z up: parts of a unit
        vector) meets the surface within max_t, or None."""
        if self.flat:
            return (oz / -dz, -dz) if dz < -1e-6 else None
        if abs(dx) < 1e-9:
            g = self.height(ox)
            return ((oz - g) / -dz, -dz) if dz < -1e-6 and oz > g else None
        xs = self.xs
        if dx > 0:
            order = range(bisect.bisect_right(xs, ox), len(xs))
            arrive, leave = self.z_left, self.z_right
        else:
            order = range(bisect.bisect_left(xs, ox) - 1, -1, -1)
            arrive, leave = self.z_right, self.z_left
        xa, za, ta = ox, self.height(ox), 0.0
        for k in list(order) + [None]:
            if k is None:  # level beyond the last knot
                xb = ox + dx * max_t
                zb = za
            else:
                xb, zb = xs[k], arrive[k]
            tb = (xb - ox) / dx
            gap_a, gap_b = oz + ta * dz - za, oz + tb * dz - zb
            if gap_b <= 0 < gap_a:
                t = ta + (tb - ta) * gap_a / (gap_a - gap_b)
                m = (zb - za) / (xb - xa)
                return t, max(0.0, (m * dx - dz) / math.sqrt(1 + m * m))
            if k is None or tb > max_t:
                return None
            z_next = leave[k]
            ray_z = oz + tb * dz
            if zb < ray_z <= z_next:  # the face of a step up
                return tb, abs(dx)
            xa, za, ta = xb, z_next, tb
        return None


def _with_bumps(points, amp, rng, extent_mm, step_mm):
    """The profile's points (steps kept) plus a smooth random undulation of
    about +-amp (standard deviation), a new value every step_mm."""
    base = Ground({"profile": [[x, z] for x, z in points]}) if points else Ground({})
    grid = {}
    level = 0.0
    x = -5000.0
    while x <= extent_mm:
        level = 0.6 * level + rng.gauss(0.0, 0.8 * amp)
        grid[x] = level
        x += step_mm

    def bump(x):
        g = -5000.0 + (x + 5000.0) // step_mm * step_mm
        z0, z1 = grid.get(g, 0.0), grid.get(g + step_mm, 0.0)
        return z0 + (z1 - z0) * (x - g) / step_mm

    out = [(x, base.height(x) + z) for x, z in grid.items() if x not in base.xs]
    for x, zl, zr in zip(base.xs, base.z_left, base.z_right):
        out.append((x, zl + bump(x)))
        out.append((x, zr + bump(x)))
    out.sort(key=lambda p: p[0])  # stable: a step keeps its left before its right
    return out
