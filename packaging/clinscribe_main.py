"""The frozen bundle's entry point: the same ``clinscribe`` command (no arguments: the desktop app)."""

import sys

# the modules kept as files (python-docx, hl7apy, blis.py) must not leave __pycache__ in the install
# folder when root runs the app: files no package owns (and /opt is read-only to everyone else)
sys.dont_write_bytecode = True

from app.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
