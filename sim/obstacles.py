"""Obstacles in the world: walls, fences, poles, trees, people, runners, low
objects; where each one is, how it moves (waypoints, speed), how a ray meets
it, and when it touches the runner's body box (sim/world.py)."""

import math

from sim.geometry import cos_sin, path_point, path_velocity

BODY_HALF_WIDTH_MM = 250  # the runner's shoulders/hips either side of the clip
BODY_DEPTH_MM = 300  # from the clip (on the back) to the front of the body


class Obstacle:
    def __init__(self, spec):
        self.id = spec["id"]
        self.kind = spec["kind"]
        self.x0 = float(spec["x_mm"])
        self.y0 = float(spec.get("y_mm", 0))
        self.vx = float(spec.get("vx_mm_s", 0))
        self.vy = float(spec.get("vy_mm_s", 0))
        self.start_ms = spec.get("start_ms", 0)
        self.stop_ms = spec.get("stop_ms")
        self.path = spec.get("path")  # [[t_ms, x_mm, y_mm], ...]: waypoints instead of vx/vy
        self.ground = None  # the World's Ground: obstacles stand on it
        self.height = float(spec["height_mm"])
        self.reflectance = float(spec["reflectance"])
        self.fill = float(spec.get("fill", 1.0))
        self.radius = float(spec.get("radius_mm", 0))
        self.segment = self.kind in ("wall", "fence", "bench")  # docs/scenarios.md: solid segments
        if self.segment:
            length = float(spec.get("width_mm", spec.get("length_mm", 10000)))
            angle = math.radians(spec.get("angle_deg", 0))
            # angle 0: across the path, square to the beam; 90: along it
            self.half_dx = math.sin(angle) * length / 2
            self.half_dy = math.cos(angle) * length / 2

    def position(self, t_ms):
        if self.path is not None:
            return path_point(self.path, t_ms)
        t = t_ms
        if self.stop_ms is not None and t > self.stop_ms:
            t = self.stop_ms
        moving = t - self.start_ms if t > self.start_ms else 0
        return self.x0 + self.vx * moving / 1000.0, self.y0 + self.vy * moving / 1000.0

    def velocity(self, t_ms):
        if self.path is not None:
            return path_velocity(self.path, t_ms)
        if t_ms < self.start_ms or (self.stop_ms is not None and t_ms > self.stop_ms):
            return 0.0, 0.0
        return self.vx, self.vy

    def ray_hit(self, t_ms, ox, oy, oz, dx, dy, dz, ray_index):
        """(distance along the ray mm, cosine of the incidence) to this obstacle, or None."""
        cx, cy = self.position(t_ms)
        if self.segment:
            if self.fill < 1.0 and (ray_index * 0.618034) % 1.0 >= self.fill:
                return None  # a see-through fence: this ray passes between the slats
            ax, ay = cx - self.half_dx, cy - self.half_dy
            ex, ey = 2 * self.half_dx, 2 * self.half_dy
            den = dx * ey - dy * ex
            if abs(den) < 1e-9:
                return None
            wx, wy = ax - ox, ay - oy
            t = (wx * ey - wy * ex) / den
            u = (wx * dy - wy * dx) / den
            if t <= 0 or u < 0 or u > 1:
                return None
            # the face's normal in plan is (ey, -ex) / |e|
            cos_inc = abs(dx * ey - dy * ex) / math.hypot(ex, ey)
        else:
            px, py = ox - cx, oy - cy
            a = dx * dx + dy * dy
            if a < 1e-12:
                return None
            b = 2 * (px * dx + py * dy)
            c = px * px + py * py - self.radius * self.radius
            disc = b * b - 4 * a * c
            if disc < 0:
                return None
            t = (-b - math.sqrt(disc)) / (2 * a)
            if t <= 0:
                return None
            # the radial normal at the hit point
            cos_inc = abs((px + t * dx) * dx + (py + t * dy) * dy) / self.radius
        z = oz + t * dz
        base = self.ground.height(cx) if self.ground is not None else 0.0
        if z < base or z > base + self.height:
            return None
        return t, cos_inc

    def points(self, t_ms):
        """Plan-view points of the obstacle's outline near the path (segments sampled)."""
        cx, cy = self.position(t_ms)
        if not self.segment:
            return [(cx, cy)]
        n = 40
        return [(cx - self.half_dx + 2 * self.half_dx * i / n,
                 cy - self.half_dy + 2 * self.half_dy * i / n) for i in range(n + 1)]

    def gap_mm(self, t_ms, rx, ry, lateral_margin=0.0, heading=0.0, passed_mm=None):
        """Distance along the path (the runner's heading, deg) from the clip to this
        obstacle where it crosses the runner's body band, or None if it is not on
        the path now. Parts more than passed_mm behind the clip are left out (an
        oblique fence's part beside the runner's flank is behind them, its part
        on the path still ahead)."""
        band = BODY_HALF_WIDTH_MM + lateral_margin
        ch, sh = cos_sin(heading)
        best = None
        for px, py in self.points(t_ms):
            ax, ay = px - rx, py - ry
            along = ax * ch + ay * sh
            off = abs(ay * ch - ax * sh) - band
            if off > self.radius:
                continue
            depth = math.sqrt(self.radius * self.radius - off * off) if off > 0 else self.radius
            gap = along - depth
            if passed_mm is not None and gap < -passed_mm:
                continue
            if best is None or gap < best:
                best = gap
        return best

    def approach_mm_s(self, t_ms, heading=0.0):
        """Its own speed towards the runner along the path (+ = coming closer)."""
        vx, vy = self.velocity(t_ms)
        ch, sh = cos_sin(heading)
        return -(vx * ch + vy * sh)

    def touches(self, t_ms, rx, ry, heading=0.0):
        gap = self.gap_mm(t_ms, rx, ry, 0.0, heading)
        if gap is None:
            return False
        # Contact: some part of it is inside the body box behind the clip. (Not
        # beyond its front: a runner turning round on the spot 0.45 m from a
        # wall has the wall in front of the body, not in it.)
        return gap <= 0 and gap > -(BODY_DEPTH_MM + 2 * self.radius)
