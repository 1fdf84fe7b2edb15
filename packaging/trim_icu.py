"""Rebuild Qt's ICU data library with English and root data only (packaging/build.sh).

PySide6's `libicudata.so.73` is one 31 MB symbol, `icudt73_dat`: ICU's common data package (a TOC of
named items: locale resource bundles per tree, collation, converters, break rules...). Qt uses ICU
for collation (QCollator, localeAwareCompare), case mapping, time-zone names and legacy codecs; its
own CLDR tables, not ICU's, format numbers and dates. The app's interface is English, so the locale
bundles of the other ~800 locales, the transliterators and the CJK/Thai word-break dictionaries
(Qt breaks text itself) are left out; root, en, en_*, every non-locale item (supplemental data, time
zones, normalisation, properties) and every converter stay. Other locales fall back to root, as ICU
does for any locale it lacks (a German user sorts by the root collation order).

The package is rewritten in ICU's own format (ucmndata.h: header, TOC of name/data offsets from the
TOC, 16-byte-aligned items) and linked into a library with the same SONAME and symbol.

    python packaging/trim_icu.py SRC_LIB DEST_LIB      (DEST_LIB may be SRC_LIB)
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from stub_libs import readelf, soname  # the same readelf helpers (packaging/ is the script's folder)

LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*$")  # af, zh_Hant_TW, yue: not supplementalData, pool
KEEP_LOCALES = re.compile(r"^(root|en(_[A-Za-z0-9]+)*)$")
ALWAYS = {"pool", "res_index", "root"}


def _symbol(lib: Path) -> tuple[str, int, int]:
    """(name, file offset, size) of the library's icudt<N>_dat symbol."""
    syms = readelf("--dyn-syms", str(lib))
    match = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+(\S+)\s+OBJECT\s+GLOBAL\s+\S+\s+\d+\s+(icudt\d+_dat)\s*$", syms, re.M)
    if not match:
        raise SystemExit(f"trim_icu: no icudt*_dat symbol in {lib}")
    vaddr, size, name = int(match[1], 16), int(match[2], 0), match[3]
    segs = readelf("-l", str(lib))
    for line in segs.splitlines():
        parts = line.split()
        if parts[:1] == ["LOAD"]:
            off, start, filesz = int(parts[1], 16), int(parts[2], 16), int(parts[4], 16)
            if start <= vaddr < start + filesz:
                return name, vaddr - start + off, size
    raise SystemExit(f"trim_icu: {name} is in no loaded segment of {lib}")


def read_package(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """ICU common data: (header, [(item name, item bytes)]) in TOC order."""
    header_size = struct.unpack_from("<H", data, 0)[0]
    if data[2:4] != b"\xda\x27":
        raise SystemExit("trim_icu: not an ICU data package (no 0xda27 magic)")
    base = header_size
    count = struct.unpack_from("<I", data, base)[0]
    entries = [struct.unpack_from("<II", data, base + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_off, data_off) in enumerate(entries):
        name = data[base + name_off:data.index(b"\0", base + name_off)].decode("ascii")
        end = entries[i + 1][1] if i + 1 < count else len(data) - base
        items.append((name, data[base + data_off:base + end]))
    return data[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    pad = lambda n: (n + 15) & ~15  # noqa: E731
    offset = pad(toc_size + len(names))
    entries, blobs, name_off = [], [], toc_size
    for name, blob in items:
        entries.append(struct.pack("<II", name_off, offset))
        name_off += len(name) + 1
        blobs.append(blob + b"\0" * (pad(len(blob)) - len(blob)))
        offset += pad(len(blob))
    toc = struct.pack("<I", len(items)) + b"".join(entries) + names
    return header + toc + b"\0" * (pad(len(toc)) - len(toc)) + b"".join(blobs)


def keep(name: str) -> bool:
    parts = name.split("/")[1:]  # "icudt73l/coll/zh.res" -> ["coll", "zh.res"]
    tree, leaf = (parts[0], parts[-1]) if len(parts) > 1 else ("", parts[0])
    stem, _, ext = leaf.rpartition(".")
    if tree == "translit" or (tree == "brkitr" and ext == "dict"):
        return False
    if ext == "res" and stem not in ALWAYS and LOCALE.match(stem):
        return bool(KEEP_LOCALES.match(stem))
    return True


def trim(src: Path, dest: Path) -> tuple[int, int]:
    symbol, offset, size = _symbol(src)
    raw = src.read_bytes()[offset:offset + size]
    header, items = read_package(raw)
    kept = [(n, b) for n, b in items if keep(n)]
    package = write_package(header, kept)
    with tempfile.TemporaryDirectory() as tmp:
        dat, asm, lib = Path(tmp) / "icu.dat", Path(tmp) / "icu.S", Path(tmp) / "lib.so"
        dat.write_bytes(package)
        asm.write_text(f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n'
                       f'{symbol}:\n\t.incbin "{dat}"\n\t.size {symbol}, . - {symbol}\n'
                       '\t.section .note.GNU-stack,"",@progbits\n')
        subprocess.run(["cc", "-shared", "-nostdlib", "-s", "-o", str(lib), str(asm),
                        f"-Wl,-soname,{soname(src)}"], check=True)
        dest.write_bytes(lib.read_bytes())
    return len(items), len(kept)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src, dest = Path(argv[0]), Path(argv[1])
    if not shutil.which("cc") or not shutil.which("readelf"):
        print("trim_icu: no C compiler or readelf here: ICU's data stays whole")
        return 0
    before = src.stat().st_size
    total, kept = trim(src, dest)
    print(f"trim_icu: {kept} of {total} ICU data items kept, {before / 2**20:.1f} -> {dest.stat().st_size / 2**20:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
