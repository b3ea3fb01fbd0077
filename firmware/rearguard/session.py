# PLACEHOLDER (lead): replaced by the sessions work (issue 6). Interface:
#   SessionKeeper(store_or_None, profile, board_name, log)
#   .start(now_ms), .stop(now_ms), .active (bool), .update(now_ms, app)  every tick
#   .shutdown(now_ms): close the running session (Ctrl-C, low battery)
from rearguard import events


class SessionKeeper:
    def __init__(self, store, profile, board_name, log):
        self.log = log
        self.active = False

    def start(self, now_ms):
        if not self.active:
            self.active = True
            self.log.emit(now_ms, events.SESSION_START)

    def stop(self, now_ms):
        if self.active:
            self.active = False
            self.log.emit(now_ms, events.SESSION_END)

    def update(self, now_ms, app):
        pass

    def shutdown(self, now_ms):
        self.stop(now_ms)
