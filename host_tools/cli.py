"""The `rearguard` command: pull sessions from the clips over USB serial, tell
clips and athletes apart, list, show, export and plot the runs, and edit the
athlete profile on a clip.

    rearguard devices
    rearguard pull [--port auto] [--all]
    rearguard clips | clips name 240ac45a1001 "Ana"
    rearguard sessions [--athlete Ana] [--since 2024-05-01] | show Ana/3
    rearguard export --out runs.csv [--events] | plot Ana/3 -o run.png | plot --trend -o trend.png
    rearguard config get [NAME] | config set reaction_ms 600 | config reset

The database is in the user's data directory (REARGUARD_HOME overrides it,
--db PATH picks another file); nothing is written anywhere else except the
output files the user names. Errors are one line on stderr; exit status 0
done, 1 failed (the message says why), 2 bad usage or a value refused.
docs/host.md is the user's guide.
"""

import argparse
import datetime
import json
import os
import sys

from host_tools import db as dbm
from host_tools import export, ports, profile_help
from host_tools.link import DeviceError, DeviceLink, LinkError
from host_tools.pull import battery_text, pull
from rearguard import profile as athlete
from rearguard import protocol

EXIT_USAGE = 2
EXIT_FAIL = 1


class Failure(Exception):
    """A one-line message for stderr and the exit status that goes with it."""

    def __init__(self, message, code=EXIT_FAIL):
        super().__init__(message)
        self.code = code


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped into a file or a CI log: no terminal to fit, so do not squeeze
        # the session table into 80 columns.
        console = Console(width=140)
    return console


_WHOLE = ("session", "clip", "uid", "start", "setting")  # what a row is known by: never wrapped


def _table(*columns, title=None):
    from rich.table import Column, Table

    return Table(*(Column(c, no_wrap=c in _WHOLE) for c in columns), title=title)


def _open_db(args, create=False):
    return dbm.SessionDB.open(args.db or dbm.default_db_path(), create=create)


def _open_link(args):
    return DeviceLink.open(ports.resolve(args.port), baud=args.baud)


def _write(path, text):
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise Failure("cannot write %s: %s" % (path, e.strerror or e)) from None


def _date(text, next_day=False):
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise Failure("%r is not a date: use YYYY-MM-DD, e.g. 2024-05-31" % text, EXIT_USAGE) from None
    day += datetime.timedelta(days=1 if next_day else 0)
    return int(datetime.datetime.combine(day, datetime.time()).timestamp())  # local midnight


def _filter(args, database):
    """The sessions the --clip, --athlete, --since and --until options pick."""
    uids = None
    if getattr(args, "clip", None):
        uids = database.find_clips(args.clip)
    if getattr(args, "athlete", None):
        named = database.find_clips(args.athlete, by_name_only=True)
        uids = named if uids is None else [u for u in uids if u in named]
    since = _date(args.since) if getattr(args, "since", None) else None
    until = _date(args.until, next_day=True) if getattr(args, "until", None) else None
    return dbm.Filter(uids, since, until)


def _left_out(database, where):
    n = database.undated_count(where) if where.dated_only() else 0
    return "%d undated run(s) left out by the date filter" % n if n else ""


# --- commands -------------------------------------------------------------
def cmd_devices(args):
    found = ports.list_ports()
    if args.json:
        print(json.dumps(found, indent=1))
        return 0
    if not found:
        print("no serial ports found: plug the clip in with a data USB cable")
        return 0
    table = _table("port", "USB id", "description", "likely ESP32")
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

            report = pull(link, database, progress=progress, everything=args.all)
        tag = {c["uid"]: c for c in database.clips()}[report.info["uid"]]
    finally:
        database.close()
    _pull_summary(report, tag)
    return 0


def _pull_summary(report, clip):
    info = report.info
    print("clip %s%s (%s, firmware %s, battery %s mV): %d new session(s), %d already here, %d acknowledged"
          % (info["uid"], " (%s)" % clip["name"] if clip["name"] else "", info["board"], info["fw"],
             info.get("bat_mv", "?"), len(report.new), len(report.already), report.acked))
    print(battery_text(info))
    if report.dated:
        print("%d run(s) recorded before the clock was set, dated from the clip's uptime" % report.dated)
    for session_id, reason in report.bad:
        print("session %d on the clip failed verification (%s): left on the clip" % (session_id, reason))
    for session_id in report.clashes:
        print("session %d on the clip differs from the session %d stored here (was the clip's flash "
              "erased?): left on the clip, the stored one kept" % (session_id, session_id))
    if report.left_on_clip:
        print("this database has no runs from this clip, but the clip still holds %d it gave before: "
              "`rearguard pull --all` fetches them" % report.left_on_clip)
    if info.get("low") == "1":
        print("the clip's flash is full: sessions it could not store are kept in RAM until pulled")


def cmd_clips(args):
    database = _open_db(args)
    try:
        if args.action == "name":
            (uid,) = _one_clip(database, args.clip)
            database.name_clip(uid, args.name)
            print("clip %s is now %s" % (uid, repr(args.name.strip()) if args.name.strip() else "unnamed"))
            return 0
        clips = database.clips()
    finally:
        database.close()
    if args.json:
        print(json.dumps(clips, indent=1))
        return 0
    table = _table("clip", "uid", "athlete", "board", "firmware", "runs", "distance", "last run",
                   "last pull", title="%d clip(s)" % len(clips))
    for c in clips:
        table.add_row(c["tag"], c["uid"], c["name"] or "-", c["board"] or "?", c["firmware"] or "?",
                      str(c["sessions"]), export.distance_text(c["distance_mm"]),
                      export.local_time(c["last_run_s"]) if c["last_run_s"] else "-",
                      export.local_time(c["last_pull_s"]) if c["last_pull_s"] else "-")
    _console().print(table)
    return 0


def _one_clip(database, text):
    uids = database.find_clips(text)
    if len(uids) > 1:
        raise Failure("%r names %d clips (%s): use a uid" % (text, len(uids), ", ".join(uids)), EXIT_USAGE)
    return uids


def cmd_sessions(args):
    database = _open_db(args)
    try:
        where = _filter(args, database)
        rows = database.sessions(where)
        note = _left_out(database, where)
    finally:
        database.close()
    if args.json:
        print(json.dumps([export.session_record(r) for r in rows], indent=1))
        return 0
    table = _table("session", "start", "time", "distance", "pace", "alerts c/w/s", "closest",
                   "stumbles/falls", "too fast", "blind", title="%d session(s)" % len(rows))
    for r in rows:
        table.add_row(r["ref"], export.start_text(r, short=True) + (" recovered" if r["recovered"] else ""),
                      export.duration_text(r["duration_ms"]), export.distance_text(r["distance_mm"]),
                      export.pace_text(r["distance_mm"], r["moving_ms"]),
                      "%d/%d/%d" % (r["alerts_caution"], r["alerts_warning"], r["alerts_stop"]),
                      "-" if r["closest_mm"] < 0 else "%.2f m" % (r["closest_mm"] / 1000),
                      "%d/%d" % (r["stumbles"], r["falls"]), export.duration_text(r["too_fast_ms"]),
                      export.duration_text(r["blind_ms"]))
    _console().print(table)
    if note:
        print(note)
    return 0


def cmd_show(args):
    database = _open_db(args)
    try:
        r = database.find(args.session, _filter(args, database))
        print(export.describe(r, database.events(r["device"], r["session_id"]),
                              database.track(r["device"], r["session_id"])))
    finally:
        database.close()
    return 0


EXPORTS = {("csv", False): export.to_csv, ("json", False): export.to_json,
           ("csv", True): export.events_csv, ("json", True): export.events_json}


def export_format(fmt, out):
    """--format if given, else the output file's extension, else CSV."""
    if fmt:
        return fmt
    return "json" if out and out.lower().endswith(".json") else "csv"


def cmd_export(args):
    fmt = export_format(args.format, args.out)
    database = _open_db(args)
    try:
        rows = database.sessions(_filter(args, database))
        write = EXPORTS[(fmt, args.events)]
        text = write(rows) if write is export.to_csv else write(
            rows, lambda r: database.events(r["device"], r["session_id"]))
    finally:
        database.close()
    if args.out:
        _write(args.out, text)
        print("wrote %d %s as %s to %s" % (len(rows), "sessions' events" if args.events else "session(s)",
                                          fmt.upper(), args.out))
    else:
        sys.stdout.write(text)
    return 0


def cmd_plot(args):
    from host_tools import plots

    if args.session is None and not args.trend:
        raise Failure("plot needs a session (e.g. `plot Ana/3 -o run.png`) or --trend", EXIT_USAGE)
    database = _open_db(args)
    try:
        where = _filter(args, database)
        if args.trend:
            rows = database.sessions(where)
            draw = lambda: plots.trend(rows, args.out)  # noqa: E731
        else:
            r = database.find(args.session, where)
            evs, samples = database.events(r["device"], r["session_id"]), database.track(r["device"], r["session_id"])
            draw = lambda: plots.timeline(r, evs, samples, args.out)  # noqa: E731
    finally:
        database.close()
    try:
        draw()
    except OSError as e:
        raise Failure("cannot write %s: %s" % (args.out, e.strerror or e)) from None
    print("wrote %s" % args.out)
    return 0


# --- config -------------------------------------------------------------------------
FIELDS = {f[0]: f for f in athlete.FIELDS}


def _known_setting(name):
    if name not in FIELDS:
        raise Failure("unknown setting %r; settings: %s" % (name, ", ".join(FIELDS)), EXIT_USAGE)
    return FIELDS[name]


def _clip_profile(values):
    """The clip's profile as a firmware Profile, so the clip's own rules check a change."""
    p = athlete.Profile()
    for name, value in values.items():
        if name in FIELDS and value is not None:
            setattr(p, name, value)
    return p


def _change(name, old, new):
    unit = FIELDS[name][4]
    return "%s: %s -> %s %s" % (name, old, new, unit) if old != new else "%s: already %s %s" % (name, new, unit)


def cmd_config(args):
    if args.action in ("get", "set") and args.name is not None:
        _known_setting(args.name)
    if args.action == "set":
        try:
            athlete.Profile().set(args.name, args.value, False)  # its range, before the clip is asked
        except ValueError as e:
            raise Failure(str(e), EXIT_USAGE) from None
    with _open_link(args) as link:
        link.hello()
        before = link.profile_get()
        if args.action == "set":
            _set_on_clip(link, before, args.name, args.value)
        after = link.profile_reset() if args.action == "reset" else link.profile_get()
    if args.json:
        print(json.dumps({args.name: after.get(args.name)} if args.action == "get" and args.name else after, indent=1))
    elif args.action == "set":
        print(_change(args.name, before.get(args.name), after.get(args.name)))
    elif args.action == "reset":
        changed = [_change(n, before.get(n), after.get(n)) for n in FIELDS if before.get(n) != after.get(n)]
        print("\n".join(changed) if changed else "every setting was already at its default")
    else:
        _config_table([args.name] if args.name else list(FIELDS), after)
    return 0


def _set_on_clip(link, values, name, value):
    try:
        _clip_profile(values).set(name, value)
    except ValueError as e:
        raise Failure("refused: %s (the alert thresholds keep caution > warning > stop)" % e, EXIT_USAGE) from None
    try:
        link.profile_set(name, value)
    except DeviceError as e:
        if e.code == protocol.E_VALUE:
            raise Failure("the clip refused: %s" % str(e).split(": ", 1)[-1], EXIT_USAGE) from None
        raise


def _config_table(names, values):
    table = _table("setting", "value", "unit", "range", "default", "meaning")
    for name in names:
        _name, default, lo, hi, unit = FIELDS[name]
        value = values.get(name)
        table.add_row(name, "?" if value is None else str(value), unit, "%d..%d" % (lo, hi),
                      str(default), profile_help.MEANING[name])
    _console().print(table)


# --- argument parsing -------------------------------------------------------
def _with_filters(sp):
    sp.add_argument("--clip", help="only this clip: its name, uid or the start of its uid")
    sp.add_argument("--athlete", help="only the clips named so (an athlete may have several)")
    sp.add_argument("--since", metavar="YYYY-MM-DD", help="only runs from this day on (local time)")
    sp.add_argument("--until", metavar="YYYY-MM-DD", help="only runs up to this day, included")


def build_parser():
    p = argparse.ArgumentParser(prog="rearguard", description="RearGuard clips: pull and review runs")
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
    sp = add("pull", cmd_pull, "fetch new sessions from a clip")
    sp.add_argument("--all", action="store_true",
                    help="also the sessions the clip gave before (a new or lost database)")
    with_port(sp)
    sp = add("clips", cmd_clips, "the clips seen, or `clips name CLIP NAME` to name one")
    sp.add_argument("action", nargs="?", choices=("name",))
    sp.add_argument("clip", nargs="?", help="uid, start of a uid, or current name")
    sp.add_argument("name", nargs="?", help="the athlete's name ('' to clear it)")
    sp.add_argument("--json", action="store_true")
    sp = add("sessions", cmd_sessions, "list the stored sessions")
    _with_filters(sp)
    sp.add_argument("--json", action="store_true")
    sp = add("show", cmd_show, "one session in full: pace, track highlights, events")
    sp.add_argument("session", help="as listed: Ana/3, 240ac45a1001/3, or 3 if only one clip has it")
    _with_filters(sp)
    sp = add("export", cmd_export, "sessions (or --events) as CSV or JSON")
    sp.add_argument("--format", choices=("csv", "json"), help="default: from --out's extension, else csv")
    sp.add_argument("--out", help="file to write (default: standard output)")
    sp.add_argument("--events", action="store_true", help="one row per event instead of per session")
    _with_filters(sp)
    sp = add("plot", cmd_plot, "one run's timeline, or --trend over weeks")
    sp.add_argument("session", nargs="?")
    sp.add_argument("--trend", action="store_true")
    sp.add_argument("-o", "--out", required=True, help="PNG file to write")
    _with_filters(sp)
    sp = add("config", cmd_config, "the athlete profile on the clip: get [NAME], set NAME VALUE, reset")
    sp.add_argument("action", choices=("get", "set", "reset"))
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
    if args.command == "clips" and args.action == "name" and (args.clip is None or args.name is None):
        parser.error("clips name needs CLIP NAME")
    try:
        return args.fn(args)
    except Failure as e:
        return _fail(e, e.code)
    except (LinkError, dbm.DBError, dbm.NotFound, ports.PortError) as e:
        return _fail(e, EXIT_FAIL)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was acknowledged that is not stored", EXIT_FAIL)


def _fail(message, code):
    print("rearguard: %s" % message, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
