"""Core figures for `make bench`: the allocation probe and the heap under real
MicroPython (tests/mp/mp_probe.py), run on the deployed form of the firmware
(the .mpy build `make deploy` copies), and the build size; plus the heap each
firmware module costs.

    figures()   # {"alloc_bytes_per_tick": 0.0, "heap_after_boot_bytes": ..., ...}
    .venv/bin/python -m tools.bench_core      # heap per firmware module, largest first, then figures()

Heap figures: after boot (the App built, nothing run yet); running (after the
probe's ticks, a session under way); with a host (the sync server loaded, as
when `rearguard pull` talks to the clip). docs/architecture.md, Memory.
"""

import ast
import contextlib
import json
import os
import tempfile

from rearguard.drivers.axes import parse_axes
from sim import loader
from tools import build, micropython

PROBE_BOARD = "esp32_devkitc"

# The parts App.tick calls, measured one by one: (name, owner path from the app,
# method, number of arguments). Whatever App.tick does besides them is reported
# as REST; a part added to App.tick shows there until it is listed here.
STAGES = (
    ("imu.read", "hw.imu", "read", 1),
    ("body.update", "body", "update", 2),
    ("tof.poll", "hw.tof", "poll", 1),
    ("obstacle.update", "obstacle", "update", 4),
    ("session.update", "session", "update", 3),
    ("button.update", "hw.button", "update", 1),
    ("session_control.update", "session_control", "update", 3),
    ("arbiter.decide", "arbiter", "decide", 3),
    ("power.update", "power", "update", 4),
)
REST = "rest of App.tick"  # the name tests/mp/mp_probe.py reports it under


def _marked(label, code):
    # Read the heap first (the previous step's garbage is gone by then), then act.
    return "_marks.append((%r, gc.mem_alloc()))\n%s\ngc.collect()" % (label, code)


def imu_map(board=PROBE_BOARD):
    """The board's IMU mounting as the firmware parses it, for the probe's chips:
    read here so that the probe's harness does not load a firmware module."""
    index, sign = parse_axes(loader.load_board_config(board).IMU["axes"])
    return list(index), list(sign)


def probe_steps(warmup=600, ticks=1200, board=PROBE_BOARD):
    """The probe as runPython steps; the heap is collected between two of them."""
    return [
        "import gc\n_marks = []\ngc.collect()",
        _marked("board", "import board"),
        # The firmware before the harness: MicroPython doubles its interned-name
        # pool whenever one fills, and the step that fills it pays for the next
        # (~10 KB at this size); the harness's own names must not decide which.
        _marked("modules", "import rearguard.app"),
        _marked("test harness", "import mp_probe\nmp_probe.step_fakes(%r)" % (imu_map(board),)),
        _marked("boot", "mp_probe.step_boot()"),
        _marked("booted", "mp_probe.step_ticks(_marks, %d, %d, %r)" % (warmup, ticks, STAGES)),
        _marked("ran", "mp_probe.step_host()"),
        _marked("host", "mp_probe.report_heap(_marks)"),
    ]


def probe(warmup=600, ticks=1200, board=PROBE_BOARD, **kwargs):
    """Run the allocation probe; returns its record (see tests/mp/mp_probe.py),
    with the heap figures of its last steps merged in."""
    records = micropython.run(probe_steps(warmup, ticks, board), name="probe", board=board,
                              **kwargs).check().records()
    record = records[0]
    record.update(records[-1])
    return record


@contextlib.contextmanager
def built(board=PROBE_BOARD):
    """A scratch build of the firmware (a developer's build/ is left alone);
    yields (build directory, tools.build result)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, board)
        yield out, build.build(board, out, quiet=True)


def figures():
    with built() as (tree, result):
        return _figures(probe(built=tree), result)


def _figures(record, result):
    return {
        "alloc_bytes_per_tick": round(record["alloc_bytes"] / record["ticks"], 2),
        "heap_after_boot_bytes": record["heap_after_boot_bytes"],
        "heap_running_bytes": record.get("heap_running_bytes"),
        "heap_with_host_bytes": record.get("heap_with_host_bytes"),
        "mpy_total_bytes": result.total_bytes,
    }


def _parents(name):
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _firmware_imports(host, name, known):
    """Firmware modules that module `name` (source file `host`) imports, statically."""
    with open(host) as f:
        tree = ast.parse(f.read())
    deps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            deps.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            deps.add(node.module)
            deps.update(node.module + "." + a.name for a in node.names)
    deps |= {p for d in deps for p in _parents(d)}  # importing a.b imports a first
    return (deps & known) - {name} - _parents(name)


def _module_sources():
    sources = {}
    for device, host in micropython.device_files():
        if device.endswith(".py") and device != "/board.py" and not device.startswith("/tests_mp"):
            rel = device[len("/lib/"):] if device.startswith("/lib/") else device[1:]
            sources[rel[: -len(".py")].replace("/", ".").removesuffix(".__init__")] = host
    return sources


def import_order():
    """Every firmware module (main.py aside), each after the modules it imports."""
    sources = _module_sources()
    names = sorted(set(sources) - {"main"})
    deps = {m: _firmware_imports(sources[m], m, set(names)) for m in names}
    order = []
    while len(order) < len(names):
        ready = sorted(m for m in names if m not in order and deps[m] <= set(order))
        order += ready or sorted(m for m in names if m not in order)[:1]  # a cycle: break it
    return order


def module_heap_bytes(tree=None):
    """{module: bytes its import leaves on the MicroPython heap}, dependencies
    imported first so that each figure is the module's own (bytecode, tables,
    the names it adds to the interned-string pools). `tree`: a build directory
    (the deployed .mpy files); None: the sources."""
    order = import_order()
    steps = ["import gc\n_marks = []\ngc.collect()"]
    steps += [_marked(m, "import " + m) for m in order]
    steps.append(_marked("end", "import json\nprint('MPJSON ' + json.dumps(_marks))"))
    (marks,) = micropython.run(steps, name="module_heap", built=tree).check().records()
    return {marks[i][0]: marks[i + 1][1] - marks[i][1] for i in range(len(marks) - 1)}


def heap_of_imports(modules, tree=None):
    """Bytes left on the heap by importing `modules` in one go."""
    steps = ["import gc\ngc.collect()",
             "_before = gc.mem_alloc()\n%s\ngc.collect()" % "\n".join("import " + m for m in modules),
             "import json\nprint('MPJSON ' + json.dumps(gc.mem_alloc() - _before))"]
    (size,) = micropython.run(steps, name="heap_of_imports", built=tree).check().records()
    return size


def interned_names(tree=None):
    """(names, bytes): what importing the firmware adds to MicroPython's
    interned-string pools (`micropython.qstr_info()`: the pools and their text)."""
    steps = ["import micropython\nimport board", "micropython.qstr_info()\nimport rearguard.app",
             "micropython.qstr_info()"]
    out = micropython.run(steps, name="interned_names", built=tree).check().stdout
    pools = [dict(kv.split("=") for kv in line.split(": ", 1)[1].split(", "))
             for line in out.splitlines() if line.startswith("qstr pool:")]
    before, after = pools
    return (int(after["n_qstr"]) - int(before["n_qstr"]),
            int(after["n_total_bytes"]) - int(before["n_total_bytes"]))


if __name__ == "__main__":
    with built() as (tree, result):
        sizes = module_heap_bytes(tree)
        names, names_bytes = interned_names(tree)
        record = probe(built=tree)
    parts = record["heap_parts_bytes"]
    for module, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print("%7d  %s" % (size, module))
    print("%7d  total, every module (the deployed .mpy files)" % sum(sizes.values()))
    print("heap after boot: %d interpreter and board config, %d the modules imported at boot "
          "(%d of it the pools of %d interned names), %d the objects the App builds"
          % (parts["interpreter"] + parts["board"], parts["modules"], names_bytes, names, parts["boot"]))
    print(json.dumps(_figures(record, result)))
