"""Bench provider `sync`: a 150-session pull from the real firmware on the
virtual board, through a pseudo-terminal throttled to 115200 baud. (150: what
the virtual clip's 1.4 MB flash holds of these short sessions, a block for
the file and one for the track each, so none waits in RAM, which the board's
restart would lose.)

    .venv/bin/python -m tools.bench sync
    figures(): sync_efficiency = session payload bytes / bytes on the wire (both ways),
               sync_wall_s vs sync_wire_min_s (the payload alone at 10 bits a byte), and
               vs the time the bytes actually sent need (1.0 = the link never idles)
"""

import os
import tempfile
import time

from host_tools.db import SessionDB
from host_tools.link import DeviceLink
from host_tools.pull import pull
from sim.pty import board_process

SESSIONS = 150
BAUD = 115200


def figures(sessions=SESSIONS, baud=BAUD):
    args = ["--sessions", str(sessions), "--no-default-run", "--baud", str(baud)]
    with board_process(args) as path:
        with tempfile.TemporaryDirectory() as tmp:
            db = SessionDB.open(os.path.join(tmp, "bench.db"))
            with DeviceLink.open(path, baud=baud, timeout_s=3.0) as link:
                started = time.monotonic()
                report = pull(link, db)
                wall_s = time.monotonic() - started
                wire = link.bytes_in + link.bytes_out
            payload = sum(r["size"] for r in db.sessions())
            db.close()
    if len(report.new) != sessions:
        raise RuntimeError("pulled %d of %d sessions" % (len(report.new), sessions))
    wire_min_s = payload * 10 / baud
    return {
        "sync_efficiency": round(payload / wire, 3),
        "sync_sessions": sessions,
        "sync_payload_bytes": payload,
        "sync_wire_bytes": wire,
        "sync_wall_s": round(wall_s, 2),
        "sync_wire_min_s": round(wire_min_s, 2),
        "sync_wall_vs_wire_min": round(wall_s / wire_min_s, 2),
        "sync_wall_vs_wire_bytes_time": round(wall_s / (wire * 10 / baud), 2),
        "sync_retries": link.retried,
    }


if __name__ == "__main__":
    print(figures())
