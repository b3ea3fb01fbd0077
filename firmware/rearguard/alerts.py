# The alert arbiter: one haptic pattern at a time, by the priorities of
# docs/design.md. A higher-priority pattern starts in the same tick as the
# decision; a lower one waits until the current pattern has been held long
# enough to be recognised (haptics.PATTERNS hold_ms).
#
#     arbiter = Arbiter(player)
#     arbiter.decide(now_ms, obstacle, body)    # every tick, after sensing
from micropython import const

from rearguard import events, haptics

# WARNING's pulse period follows TTC: _SLOWEST_CYCLE_MS at _SLOW_TTC_MS and
# beyond, _FASTEST_CYCLE_MS at _FAST_TTC_MS and below, linear between.
_SLOWEST_CYCLE_MS = const(300)
_FASTEST_CYCLE_MS = const(160)
_SLOW_TTC_MS = const(2400)
_FAST_TTC_MS = const(1200)


class Arbiter:
    def __init__(self, player):
        self.player = player
        self.blip = haptics.OFF  # one pending one-shot (session start/stop, low battery)
        self.balance_until_done = False
        self.notices_felt = 0  # the obstacle monitor's "too fast" notices played to the end

    def request_blip(self, pattern):
        self.blip = pattern

    def _wanted(self, now_ms, obstacle, body):
        level = obstacle.level
        if level == events.STOP:
            return haptics.STOP
        if body.fallen:
            return haptics.FALL
        if body.stumble:
            self.balance_until_done = True
            return haptics.BALANCE
        if self.balance_until_done:
            if self.player.pattern == haptics.BALANCE and not self.player.finished(now_ms):
                return haptics.BALANCE
            self.balance_until_done = False
        if level == events.WARNING:
            return haptics.WARNING
        if level == events.CAUTION:
            return haptics.CAUTION
        if obstacle.blind:
            return haptics.BLIND
        if obstacle.too_fast_notices != self.notices_felt:
            player = self.player
            if player.pattern != haptics.TOO_FAST or not player.finished(now_ms):
                return haptics.TOO_FAST  # a notice plays once, to the end
            self.notices_felt = obstacle.too_fast_notices
        return self.blip

    def decide(self, now_ms, obstacle, body):
        wanted = self._wanted(now_ms, obstacle, body)
        player = self.player
        current = player.pattern
        if current != haptics.OFF and current < haptics.BLIP_START and player.finished(now_ms):
            current = haptics.OFF
        # "Off" is the least urgent of all: a pattern whose cause has gone still
        # plays until it has been held long enough to be recognised.
        if (haptics.OFF < wanted < current) or current == haptics.OFF or player.held(now_ms):
            if wanted == haptics.OFF and current >= haptics.BLIP_START and not player.finished(now_ms):
                wanted = current  # let a blip finish
            cycle = 0
            if wanted == haptics.WARNING:
                cycle = self.warning_cycle_ms(obstacle.ttc_ms)
            player.play(wanted, now_ms, cycle)
            if wanted == self.blip and wanted != haptics.OFF:
                self.blip = haptics.OFF
        else:
            player.update(now_ms)
        return player.pattern

    @staticmethod
    def warning_cycle_ms(ttc_ms):
        """WARNING's pulse period for this TTC; 0 (the pattern's own) without one."""
        if ttc_ms < 0:
            return 0
        span = _SLOWEST_CYCLE_MS - _FASTEST_CYCLE_MS
        cycle = _FASTEST_CYCLE_MS + (ttc_ms - _FAST_TTC_MS) * span // (_SLOW_TTC_MS - _FAST_TTC_MS)
        return max(_FASTEST_CYCLE_MS, min(_SLOWEST_CYCLE_MS, cycle))
