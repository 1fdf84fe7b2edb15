"""The editor must survive a day of re-rendering: no binding may leak references to None.

PySide6 6.12.0 takes a reference from None on every QTextCharFormat setter returning nothing;
on Python 3.10/3.11 that ends in "Fatal Python error: none_dealloc" after a few re-renders of a
long transcript. The probes run in a subprocess so that such a crash fails this test instead of
killing the run. (Python 3.12+ makes None immortal, so there the probe cannot see the leak.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import DATA, ROOT

PROBE = Path(__file__).with_name("refcount_probe.py")


def probe(*args) -> int:
    proc = subprocess.run([sys.executable, str(PROBE), *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, f"the probe died: {proc.stderr[-800:]}"
    return int(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal on Python 3.12+: a leak is invisible")
def test_text_format_setters_keep_none_alive():
    assert abs(probe("setters")) < 50


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal on Python 3.12+: a leak is invisible")
def test_fifty_re_renders_and_a_hundred_redaction_toggles_of_a_long_consultation(tmp_path):
    transcript = DATA / "aws-samples" / "02-channel-identification.json"
    assert abs(probe("editor", transcript, tmp_path)) < 200
