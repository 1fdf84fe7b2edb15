"""Issue 13: the bundle's ICU data keeps English and root only (packaging/trim_icu.py). Qt, loading the
trimmed library, must still collate, convert legacy encodings and name time zones in English as with
the whole data, from a library under a third of the size."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import trim_icu  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("cc") or not shutil.which("readelf"),
                                reason="needs a C compiler and readelf (as packaging/build.sh does)")

QT_ICU = textwrap.dedent("""
    from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone
    c = QCollator(QLocale("en_US"))
    c.setNumericMode(True)
    print("apple<Banana", c.compare("apple", "Banana") < 0)     # code-point order says no
    print("e<\\u00e9<f", c.compare("e", "\\u00e9") < 0 < c.compare("f", "\\u00e9"))
    print("room2<room10", c.compare("room 2", "room 10") < 0)
    print("Shift_JIS", QStringDecoder("Shift_JIS").isValid())
    print("windows-1252", QStringDecoder("windows-1252").isValid())
    tz = QTimeZone(b"Europe/Berlin")
    print("zone", tz.displayName(QTimeZone.StandardTime, QTimeZone.LongName, QLocale("en_US")))
    print("upper", QLocale("de_DE").toUpper("stra\\u00dfe"))
""")


def _qt_icu(preload: Path | None) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if preload:
        env["LD_PRELOAD"] = str(preload)  # same SONAME: Qt's libicuuc then finds this one loaded
    run = subprocess.run([sys.executable, "-c", QT_ICU], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    return dict(line.split(" ", 1) for line in run.stdout.splitlines())


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory):
    import PySide6

    src = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.[0-9]*"))
    dest = tmp_path_factory.mktemp("icu") / src.name
    total, kept = trim_icu.trim(src, dest)
    return src, dest, total, kept


def test_qt_works_the_same_in_english_with_the_trimmed_data(trimmed):
    src, dest, total, kept = trimmed
    assert dest.stat().st_size < src.stat().st_size / 3 and 0 < kept < total / 2
    whole, trim = _qt_icu(None), _qt_icu(dest)
    assert trim == whole
    assert trim["apple<Banana"] == trim["e<\u00e9<f"] == trim["room2<room10"] == "True"
    assert trim["Shift_JIS"] == trim["windows-1252"] == "True"
    assert trim["zone"] == "Central European Standard Time" and trim["upper"] == "STRASSE"


def test_the_package_keeps_what_icu_needs_and_rewrites_losslessly(trimmed):
    src, _, _, _ = trimmed
    name, offset, size = trim_icu._symbol(src)
    header, items = trim_icu.read_package(src.read_bytes()[offset:offset + size])
    again = trim_icu.read_package(trim_icu.write_package(header, items))
    assert [n for n, _ in again[1]] == [n for n, _ in items]
    assert all(b.startswith(a) for (_, a), (_, b) in zip(items, again[1]))  # items only padded to 16 bytes
    prefix = items[0][0].split("/")[0]  # icudt73l
    for kept in ["root.res", "en.res", "en_GB.res", "pool.res", "res_index.res", "supplementalData.res",
                 "zoneinfo64.res", "coll/root.res", "coll/en.res", "coll/ucadata.icu", "cnvalias.icu",
                 "brkitr/word.brk", "nfkc.nrm"]:
        assert trim_icu.keep(f"{prefix}/{kept}"), kept
    for dropped in ["de.res", "zh_Hant_TW.res", "coll/zh.res", "lang/fr.res", "brkitr/cjdict.dict",
                    "translit/root.res", "yue.res"]:
        assert not trim_icu.keep(f"{prefix}/{dropped}"), dropped
