"""The `rearguard` command: pull sessions from the clip over USB serial, list,
show, export and plot them, and edit the athlete profile.

    rearguard devices
    rearguard pull --port auto
    rearguard sessions [--json] | show ID | export --format csv --out runs.csv
    rearguard plot ID -o run.png | plot --trend -o trend.png
    rearguard config get | config set reaction_ms 600

The database is in the user's data directory (REARGUARD_HOME overrides it,
--db PATH picks another file); nothing is written anywhere else except the
output files the user names. docs/host.md is the user's guide.
"""

import argparse
import json
import os
import sys

from host_tools import db as dbm
from host_tools import export, ports, profile_help
from host_tools.link import DeviceLink, LinkError
from host_tools.pull import pull
from rearguard import profile as athlete

EXIT_USAGE = 2
EXIT_FAIL = 1


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped into a file or a CI log: no terminal to fit, so do not squeeze
        # the session table into 80 columns.
        console = Console(width=140)
    return console


def _open_db(args, create=False):
    return dbm.SessionDB.open(args.db or dbm.default_db_path(), create=create)


def _open_link(args):
    port = ports.resolve(args.port)
    return DeviceLink.open(port, baud=args.baud)


# --- commands -------------------------------------------------------------
def cmd_devices(args):
    found = ports.list_ports()
    if args.json:
        print(json.dumps(found, indent=1))
        return 0
    if not found:
        print("no serial ports found: plug the clip in with a data USB cable")
        return 0
    from rich.table import Table

    table = Table("port", "USB id", "description", "likely ESP32")
    for p in found:
        table.add_row(p["port"], p["usb_id"] or "-", p["description"], "yes" if p["esp32"] else "")
    _console().print(table)
    return 0


def cmd_pull(args):
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    database = _open_db(args, create=True)
    try:
        with _open_link(args) as link, Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), console=_console(), transient=not sys.stdout.isatty(),
        ) as bar:
            def progress(total):
                task = bar.add_task("sessions", total=total)
                return lambda n: bar.advance(task, n)

            report = pull(link, database, progress=progress)
    finally:
        database.close()
    info = report.info
    print("clip %s (%s, firmware %s, battery %s mV): %d new session(s), %d already here, %d acknowledged"
          % (info["uid"], info["board"], info["fw"], info.get("bat_mv", "?"), len(report.new),
             len(report.already), report.acked))
    for session_id, reason in report.bad:
        print("session %d on the clip failed verification (%s): left on the clip" % (session_id, reason))
    if info.get("low") == "1":
        print("the clip's flash is full: sessions it could not store are kept in RAM until pulled")
    return 0


def cmd_sessions(args):
    database = _open_db(args)
    rows = database.sessions()
    database.close()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    from rich.table import Table

    table = Table("id", "start", "duration", "distance", "steps", "alerts c/w/s", "closest",
                  "stumbles", "falls", "blind", "flags", title="%d session(s)" % len(rows))
    for r in rows:
        table.add_row(str(r["session_id"]), export.start_text(r), export.duration_text(r["duration_ms"]),
                      export.distance_text(r["distance_mm"]), str(r["steps"]),
                      "%d/%d/%d" % (r["alerts_caution"], r["alerts_warning"], r["alerts_stop"]),
                      "-" if r["closest_mm"] < 0 else "%d mm" % r["closest_mm"],
                      str(r["stumbles"]), str(r["falls"]), export.duration_text(r["blind_ms"]),
                      "recovered" if r["recovered"] else "")
    _console().print(table)
    return 0


def cmd_show(args):
    database = _open_db(args)
    rows = database.find(args.id)
    if not rows:
        database.close()
        print("no session %d in %s: `rearguard sessions` lists them" % (args.id, database.path))
        return EXIT_FAIL
    for r in rows:
        evs = database.events(r["device"], r["session_id"])
        print(export.describe(r, evs))
    database.close()
    return 0


def cmd_export(args):
    database = _open_db(args)
    rows = database.sessions()
    if args.format == "json":
        for r in rows:
            r["events"] = database.events(r["device"], r["session_id"])
        text = json.dumps(rows, indent=1)
    else:
        text = export.to_csv(rows)
    database.close()
    if args.out:
        with open(args.out, "w", newline="") as f:
            f.write(text)
        print("wrote %d session(s) to %s" % (len(rows), args.out))
    else:
        sys.stdout.write(text)
    return 0


def cmd_plot(args):
    from host_tools import plots

    database = _open_db(args)
    try:
        if args.trend:
            plots.trend(database.sessions(), args.out)
        else:
            if args.id is None:
                print("plot needs a session ID or --trend")
                return EXIT_USAGE
            rows = database.find(args.id)
            if not rows:
                print("no session %d: `rearguard sessions` lists them" % args.id)
                return EXIT_FAIL
            r = rows[-1]
            plots.timeline(r, database.events(r["device"], r["session_id"]), args.out)
    finally:
        database.close()
    print("wrote %s" % args.out)
    return 0


def cmd_config(args):
    fields = {f[0]: f for f in athlete.FIELDS}
    if args.action == "set":
        if args.name not in fields:
            print("unknown setting %r; settings: %s" % (args.name, ", ".join(fields)))
            return EXIT_USAGE
        _name, _default, lo, hi, unit = fields[args.name]
        if not lo <= args.value <= hi:
            print("%s must be %d..%d %s" % (args.name, lo, hi, unit))
            return EXIT_USAGE
    with _open_link(args) as link:
        link.hello()
        if args.action == "set":
            link.profile_set(args.name, args.value)
        values = link.profile_get()
    if args.json:
        print(json.dumps(values, indent=1))
        return 0
    from rich.table import Table

    table = Table("setting", "value", "unit", "range", "default", "meaning")
    for name, default, lo, hi, unit in athlete.FIELDS:
        value = values.get(name)
        table.add_row(name, "?" if value is None else str(value), unit, "%d..%d" % (lo, hi),
                      str(default), profile_help.MEANING[name])
    _console().print(table)
    return 0


# --- argument parsing -------------------------------------------------------
def build_parser():
    p = argparse.ArgumentParser(prog="rearguard", description="RearGuard clip: pull and review runs")
    p.add_argument("--db", help="database file (default: %s)" % dbm.default_db_path())
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, fn, help_text):
        sp = sub.add_parser(name, help=help_text)
        sp.add_argument("--db", dest="db_sub", metavar="PATH", help="database file")
        sp.set_defaults(fn=fn)
        return sp

    def with_port(sp):
        sp.add_argument("--port", default="auto", help="serial port, or auto (the one likely ESP32)")
        sp.add_argument("--baud", type=int, default=115200)

    sp = add("devices", cmd_devices, "serial ports; likely ESP32 boards marked")
    sp.add_argument("--json", action="store_true")
    sp = add("pull", cmd_pull, "fetch new sessions from the clip")
    with_port(sp)
    sp = add("sessions", cmd_sessions, "list the stored sessions")
    sp.add_argument("--json", action="store_true")
    sp = add("show", cmd_show, "one session in full")
    sp.add_argument("id", type=int)
    sp = add("export", cmd_export, "all sessions as CSV or JSON")
    sp.add_argument("--format", choices=("csv", "json"), default="csv")
    sp.add_argument("--out", help="file to write (default: standard output)")
    sp = add("plot", cmd_plot, "a session timeline, or --trend over weeks")
    sp.add_argument("id", type=int, nargs="?")
    sp.add_argument("--trend", action="store_true")
    sp.add_argument("-o", "--out", required=True, help="PNG file to write")
    sp = add("config", cmd_config, "the athlete profile on the clip")
    sp.add_argument("action", choices=("get", "set"))
    sp.add_argument("name", nargs="?")
    sp.add_argument("value", type=int, nargs="?")
    sp.add_argument("--json", action="store_true")
    with_port(sp)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "db_sub", None):
        args.db = args.db_sub
    if args.command == "config" and args.action == "set" and (args.name is None or args.value is None):
        parser.error("config set needs NAME VALUE")
    try:
        return args.fn(args)
    except (LinkError, dbm.DBError, ports.PortError) as e:
        print("rearguard: %s" % e, file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("rearguard: interrupted; nothing was acknowledged that is not stored", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
