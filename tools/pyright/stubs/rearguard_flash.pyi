# The simulator's virtual flash, injected under this name (sim VirtualBoard
# overrides); rearguard/flash.py falls back to LittleFS when the import fails.
# Typed loosely on purpose: it exists only off the board.
from typing import Any

def open(path: str, mode: str = "r") -> Any: ...
def __getattr__(name: str) -> Any: ...
