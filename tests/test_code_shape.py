"""The firmware reads as a MicroPython maintainer would merge it: short
functions with few parameters, and no file outside this repository cited as
the design (docs/design.md is the project's own)."""

import ast
import os
import re

import pytest

from sim.loader import ROOT

MAX_LINES = 40
MAX_PARAMETERS = 6  # self included
# Functions whose signature is an outside API the Adafruit driver calls.
EXTERNAL_API = {("firmware/lib/adafruit_bus_device/i2c_device.py", "write_then_readinto")}


def _python_files(*tops):
    for top in tops:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)


def _functions(path, root=ROOT):
    with open(os.path.join(root, path)) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            a = node.args
            params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
            params += (a.vararg is not None) + (a.kwarg is not None)
            yield node.name, node.end_lineno - node.lineno + 1, params


def test_no_firmware_function_is_long_or_takes_many_parameters():
    offenders = []
    for path in _python_files("firmware", "boards"):
        for name, lines, params in _functions(path):
            if (path, name) in EXTERNAL_API:
                continue
            if lines > MAX_LINES or params > MAX_PARAMETERS:
                offenders.append("%s %s: %d lines, %d parameters" % (path, name, lines, params))
    assert not offenders, "\n".join(offenders)


def test_the_checker_sees_a_long_function(tmp_path):
    # The rule above can fail: a 41-line function with seven parameters is caught.
    body = "\n".join("    x%d = %d" % (i, i) for i in range(39))
    (tmp_path / "long.py").write_text("def f(a, b, c, d, e, f, g):\n%s\n    return 0\n" % body)
    assert list(_functions("long.py", str(tmp_path))) == [("f", 41, 7)]


@pytest.mark.parametrize("top", ["firmware", "boards", "sim", "host_tools", "tools", "tests", "docs"])
def test_nothing_cites_a_design_file_outside_the_repository(top):
    # The shared design brief and style notes are not in a clone; real data
    # under ../shared/data is optional and skipped without (docs/testing.md).
    pattern = re.compile(r"(?<![\w/])(DESIGN|STYLE)\.md")
    found = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
        for name in files:
            if name.endswith((".py", ".md", ".mjs", ".json")) and name != "test_code_shape.py":
                path = os.path.join(folder, name)
                with open(path, errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        if pattern.search(line):
                            found.append("%s:%d" % (os.path.relpath(path, ROOT), number))
    assert not found, found
