# Shared pytest set-up. The repository root goes on sys.path so that tests can
# import the developer tools (tools/), which are not part of the installed
# package, whichever way pytest was started (.venv/bin/pytest or python -m pytest).
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
