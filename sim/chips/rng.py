"""The one source of randomness for chip models and the world: a small
xorshift generator, so a seed gives the same numbers under CPython and
MicroPython alike (the `random` modules of the two differ).

    rng = Rng(42)
    rng.uniform()          # 0.0 <= x < 1.0
    rng.gauss(0.0, 10.0)   # approximately normal
"""


class Rng:
    def __init__(self, seed):
        # Spread small seeds over the state; xorshift must never hold 0.
        state = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF
        self.state = state or 0x6D2B79F5
        for _ in range(8):
            self.bits32()

    def bits32(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def uniform(self, lo=0.0, hi=1.0):
        return lo + (hi - lo) * (self.bits32() / 4294967296.0)

    def randint(self, lo, hi):
        """lo <= n <= hi"""
        return lo + self.bits32() % (hi - lo + 1)

    def chance(self, p):
        return p > 0 and self.uniform() < p

    def gauss(self, mean=0.0, sigma=1.0):
        # Irwin-Hall: the sum of 4 uniforms, scaled to unit variance; bounded
        # at about 3.5 sigma, which is what a sensor datasheet's "+-" means anyway.
        s = self.uniform() + self.uniform() + self.uniform() + self.uniform() - 2.0
        return mean + sigma * s * 1.7320508

    def fork(self, salt):
        """An independent generator for one part (chip, world) from this one."""
        return Rng((self.bits32() ^ (salt * 0x85EBCA6B)) & 0xFFFFFFFF)
