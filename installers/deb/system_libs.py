"""The .deb takes from Debian what Debian already ships: libraries PyInstaller copied from this
system (libglib, libX11, libssl, libsqlite3, …, ~40 MB) are left out of the package and declared in
its Depends instead, each as ``package (>= the version it was built with)`` — what dh_shlibdeps does
for any Debian package. The bundle in dist/clinscribe/ keeps its copies (it still runs elsewhere).

    python installers/deb/system_libs.py STAGED_INTERNAL_DIR "DECLARED, DEPENDS"
        -> removes those libraries, prints the whole Depends line (the declared ones, versioned where
           a removed library came from them, then the others)

A library stays in the package when no installed Debian package owns a file of that name in the
system's library folders, when the system's copy has another SONAME, or when it is the bundle's
own Python (``libpython*``: the app needs no Python on the machine).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/pulseaudio",
            "/usr/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu/pulseaudio",
            "/lib/aarch64-linux-gnu", "/usr/lib", "/lib")
KEEP = ("libpython",)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
from stub_libs import soname  # noqa: E402  (readelf's DT_SONAME, shared with the stubbing step)


def owner(path: Path) -> str | None:
    """The installed package that owns ``path`` (merged-/usr aware), or None."""
    names = {str(path), str(path.resolve())}
    for name in list(names):   # dpkg records /lib/… or /usr/lib/… as the package shipped it
        names.add(name[4:] if name.startswith("/usr/lib/") else "/usr" + name if name.startswith("/lib/") else name)
    for name in sorted(names):
        done = subprocess.run(["dpkg-query", "-S", name], capture_output=True, text=True)
        if done.returncode == 0 and ":" in done.stdout:
            return done.stdout.split(":", 1)[0].split(",")[0].strip()   # "libfoo1:amd64: /path"
    return None


def version(package: str) -> str:
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def dependency(package: str, library_soname: str) -> str:
    """What a package linked against this library depends on: the line of the owner's shlibs file
    as dpkg-shlibdeps reads it, alternatives included (``libjack-jackd2-0 (>= …) | libjack-0.125``),
    else ``package (>= the installed version)``."""
    name = package.split(":")[0]
    match = (re.fullmatch(r"(.+)\.so\.(.+)", library_soname)
             or re.fullmatch(r"(.+)-([0-9.]+)\.so", library_soname))
    info = Path("/var/lib/dpkg/info")
    for shlibs in [info / f"{name}.shlibs", *sorted(info.glob(f"{name}:*.shlibs"))]:
        if match and shlibs.is_file():
            for line in shlibs.read_text(errors="replace").splitlines():
                fields = line.split(None, 2)
                if len(fields) == 3 and (fields[0], fields[1]) == match.groups():
                    return fields[2].strip()
    installed = version(package)
    return f"{name} (>= {installed})" if installed else name


def system_copy(name: str) -> Path | None:
    for folder in LIB_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    return None


def hand_over(internal: Path) -> list[str]:
    """Remove from ``internal`` the libraries Debian provides; return the dependencies they need."""
    depends: list[str] = []
    for lib in sorted(internal.iterdir()):
        if not (lib.is_file() and not lib.is_symlink() and ".so" in lib.name) or lib.name.startswith(KEEP):
            continue
        system = system_copy(lib.name)
        name = soname(lib) if system else ""
        if system is None or not name or soname(system) != name:
            continue
        package = owner(system)
        if not package:
            continue
        entry = dependency(package, name)
        if entry not in depends:
            depends.append(entry)
        lib.unlink()
    return depends


def merged(declared: str, depends: list[str]) -> str:
    """The declared Depends (an unversioned one takes a removed library's entry for that package),
    then the removed libraries' other entries."""
    by_name = {entry.split()[0]: entry for entry in depends}
    out: list[str] = []
    for entry in (d.strip() for d in declared.split(",")):
        if entry:
            first = entry.split()[0]
            found = by_name.pop(first, None)
            out.append(found if found and "(" not in entry else entry)
    return ", ".join(out + sorted(set(by_name.values())))


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not Path(argv[1]).is_dir():
        print('usage: python installers/deb/system_libs.py STAGED_INTERNAL_DIR "DECLARED, DEPENDS"',
              file=sys.stderr)
        return 2
    print(merged(argv[2], hand_over(Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
