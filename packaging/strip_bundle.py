"""Strip debug information from the bundle's shared libraries, safely (packaging/build.sh).

Some wheels ship unstripped libraries (ctranslate2's extension: 65 MB of which 64 are debug info;
libpython 23 -> 6 MB). Libraries that auditwheel/patchelf rewrote can be broken by binutils' strip
("ELF load command address/offset not page-aligned" at dlopen: numpy's OpenBLAS was), so each file is
stripped into a copy, the copy's PT_LOAD segments are checked (offset ≡ vaddr modulo alignment), and
the original is replaced only when the check passes.

    python packaging/strip_bundle.py dist/clinscribe
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

LOAD = re.compile(r"^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+.*?0x([0-9a-f]+)\s*$")


def loads_aligned(path: Path) -> bool:
    out = subprocess.run(["readelf", "-lW", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        return False
    segments = [tuple(int(x, 16) for x in m.groups()) for m in map(LOAD.match, out.stdout.splitlines()) if m]
    return bool(segments) and all(align <= 1 or (off - vaddr) % align == 0 for off, vaddr, align in segments)


def unstripped(path: Path) -> bool:
    out = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True)
    return out.returncode == 0 and (".debug_info" in out.stdout or " .symtab" in out.stdout)


def main(root: str) -> int:
    saved, skipped = 0, []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or path.is_symlink() or not re.search(r"\.so(\.|$)", path.name):
            continue
        if not unstripped(path) or not loads_aligned(path):
            continue
        tmp = path.with_name(path.name + ".strip-tmp")
        ok = subprocess.run(["strip", "--strip-unneeded", "-o", str(tmp), str(path)],
                            capture_output=True).returncode == 0
        if ok and loads_aligned(tmp):
            saved += path.stat().st_size - tmp.stat().st_size
            shutil.copymode(path, tmp)
            os.replace(tmp, path)
        else:
            tmp.unlink(missing_ok=True)
            skipped.append(path.name)
    print(f"strip: {saved / 2**20:.0f} MB of debug information removed"
          + (f"; kept as they were (stripping would break them): {', '.join(skipped)}" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist/clinscribe"))
