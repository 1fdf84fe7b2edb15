"""The .deb leaves to Debian the libraries PyInstaller copied from the system
(installers/deb/system_libs.py): such a copy is removed from the staged package and its Debian
package declared, as dpkg-shlibdeps would (the owner's shlibs line, alternatives included); the
bundle's own Python, wheel libraries and look-alikes stay. Needs dpkg (Debian/Ubuntu, as CI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "installers" / "deb"))

pytestmark = pytest.mark.skipif(shutil.which("dpkg-query") is None or shutil.which("readelf") is None,
                                reason="needs dpkg-query and readelf (Debian/Ubuntu)")


def _system(name: str) -> Path:
    import system_libs

    found = system_libs.system_copy(name)
    if found is None:
        pytest.skip(f"{name} is not installed here")
    return found


def test_system_copies_go_to_depends_and_the_bundles_own_libraries_stay(tmp_path):
    import system_libs

    internal = tmp_path / "_internal"
    internal.mkdir()
    zlib = _system("libz.so.1")
    shutil.copy2(zlib, internal / "libz.so.1")                         # PyInstaller's copy of the system's
    shutil.copy2(zlib, internal / "libz-1a2b3c4d.so.1.3")              # a wheel's own (hashed) copy
    shutil.copy2(_system("libbz2.so.1.0"), internal / "libexpat.so.1")  # same name as a system lib, other SONAME
    python = next(Path(p) for p in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib")
                  if Path(p).is_dir())
    libpython = sorted(python.glob("libpython3*.so.1.0"))
    if libpython:
        shutil.copy2(libpython[0], internal / libpython[0].name)
    (internal / "README.txt").write_text("not a library")

    depends = system_libs.hand_over(internal)

    left = sorted(p.name for p in internal.iterdir())
    assert "libz.so.1" not in left
    assert "libz-1a2b3c4d.so.1.3" in left and "libexpat.so.1" in left and "README.txt" in left
    if libpython:
        assert libpython[0].name in left
    zlib_package = subprocess.run(["dpkg-query", "-S", "*/libz.so.1"], capture_output=True,
                                  text=True).stdout.split(":")[0]
    assert len(depends) == 1 and depends[0].startswith(zlib_package.split(",")[0] + " ")  # versioned

    line = system_libs.merged(f"libc6 (>= 2.36), {zlib_package}, libportaudio2", depends)
    entries = [e.strip() for e in line.split(",")]
    assert entries[0] == "libc6 (>= 2.36)" and entries[2] == "libportaudio2"
    assert entries[1] == depends[0] and len(entries) == 3                # declared once, now versioned


def test_an_alternative_from_the_shlibs_file_is_kept_whole(tmp_path):
    import system_libs

    shlibs = sorted(Path("/var/lib/dpkg/info").glob("*.shlibs"))
    line = next(((f, l) for f in shlibs for l in f.read_text(errors="replace").splitlines()
                 if "|" in l and len(l.split()) >= 3), None)
    if line is None:
        pytest.skip("no installed package has a shlibs line with alternatives")
    path, text = line
    library, soversion, expected = text.split(None, 2)
    package = path.name.split(".shlibs")[0]
    assert system_libs.dependency(package, f"{library}.so.{soversion}") == expected.strip()
    assert system_libs.dependency(package, "libnothing-like-it.so.9").startswith(package.split(":")[0])
