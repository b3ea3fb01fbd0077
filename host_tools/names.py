"""Event kind and level names for the host, from the firmware's one table
(rearguard.events). That module imports MicroPython's `const`; on the host a
stand-in with the same meaning is provided before it is imported.

    kind(4) -> "stumble"; level(3) -> "stop"
"""

import sys
import types

if "micropython" not in sys.modules:
    try:
        import micropython  # noqa: F401  (a real one, if someone installed it)
    except ImportError:
        _shim = types.ModuleType("micropython")
        _shim.const = lambda value: value
        sys.modules["micropython"] = _shim

from rearguard import events  # noqa: E402


def kind(code):
    return events.KIND_NAMES[code] if 0 < code < len(events.KIND_NAMES) else "kind%d" % code


def level(code):
    return events.LEVEL_NAMES[code] if 0 <= code < len(events.LEVEL_NAMES) else "level%d" % code
