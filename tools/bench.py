"""`make bench`: collect the project's figures from every provider module
tools/bench_*.py (each exposes `figures() -> dict`), print them as a table and,
as the very last line, one JSON object of all figures.

    .venv/bin/python -m tools.bench            # or: make bench
    .venv/bin/python -m tools.bench core       # only tools/bench_core.py

A provider that raises is shown with its error in the table (and under
"bench_errors" in the JSON); the others still run; the exit status is then 1.
Providers' own prints are kept off stdout so that the last line stays JSON.
"""

import contextlib
import glob
import importlib
import io
import json
import os
import sys
import time
import traceback

TOOLS = os.path.dirname(os.path.abspath(__file__))


def providers():
    """Names of the provider modules: tools/bench_<name>.py, sorted."""
    return sorted(os.path.basename(p)[len("bench_"):-3]
                  for p in glob.glob(os.path.join(TOOLS, "bench_*.py")))


def collect(names):
    """[(provider, figures or None, error or None, seconds)] in order."""
    rows = []
    for name in names:
        started = time.monotonic()
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                module = importlib.import_module("tools.bench_" + name)
                figures = dict(module.figures())
            rows.append((name, figures, None, time.monotonic() - started))
        except Exception as e:  # one provider's failure must not hide the others' figures
            error = "%s: %s" % (type(e).__name__, e)
            traceback.print_exc(file=sys.stderr)
            rows.append((name, None, error, time.monotonic() - started))
    return rows


def print_table(rows):
    from rich.console import Console
    from rich.table import Table

    table = Table(title="RearGuard bench")
    table.add_column("provider")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, figures, error, seconds in rows:
        if error is not None:
            table.add_row(name, "[red]FAILED[/red] (%.1f s)" % seconds, error.splitlines()[0][:80])
            continue
        for key, value in figures.items():
            table.add_row(name, key, str(value))
    Console(stderr=False).print(table)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    names = argv or providers()
    unknown = sorted(set(names) - set(providers()))
    if unknown:
        print("unknown provider(s) %s; known: %s" % (", ".join(unknown), ", ".join(providers())))
        return 2
    rows = collect(names)
    print_table(rows)
    merged = {}
    errors = {}
    for name, figures, error, _seconds in rows:
        if error is not None:
            errors[name] = error
            continue
        clash = set(merged) & set(figures)
        if clash:
            errors[name] = "figure names already used by another provider: %s" % sorted(clash)
        merged.update(figures)
    if errors:
        merged["bench_errors"] = errors
    print(json.dumps(merged, sort_keys=True))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
