"""Replace the bundle's ``blis.cy`` (all of BLIS, 17 MB) by packaging/blis_cy.c on numpy's OpenBLAS.

Run by packaging/build.sh with the .venv's Python (whose blis is the one bundled):

    python packaging/blis_cy.py dist/clinscribe

The capsule names (the C signatures Cython checks on import) are read from the real ``blis.cy``.
Nothing is replaced, and the reason is printed, when a compiled module of the bundle imports a
``blis.cy`` function this one does not export, when numpy's OpenBLAS lacks a symbol it calls, or when
no C compiler or Python headers are here.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "blis_cy.c"
EXPORTED = ["__pyx_fuse_0gemm", "__pyx_fuse_1gemm", "__pyx_fuse_2gemm", "__pyx_fuse_3gemm",
            "sgemm", "dgemm", "saxpy", "daxpy"]
BLAS = ["scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", "scipy_cblas_saxpy64_", "scipy_cblas_daxpy64_"]


def capsule_name(capsule) -> str:
    """A capsule's name: for Cython's ``__pyx_capi__``, the function's C signature."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    return get_name(capsule).decode()


def signatures() -> dict[str, str]:
    """Capsule name of each exported function in the real blis.cy."""
    import blis.cy

    capi = blis.cy.__pyx_capi__
    return {key: capsule_name(capi[key]) for key in EXPORTED if key in capi}


def imported(internal: Path) -> set[str]:
    """The blis.cy functions the bundle's other compiled modules import (Cython names them in each)."""
    wanted: set[str] = set()
    pattern = re.compile(rb"(__pyx_fuse_\d+)?__pyx_f_4blis_2cy_(\w+?)(?=\x00|$)")
    for path in internal.rglob("*.so"):
        if path.parent.name == "blis":
            continue
        data = path.read_bytes()
        if b"4blis_2cy_" not in data:
            continue
        for fuse, name in pattern.findall(data):
            wanted.add((fuse.decode() + name.decode()) if fuse else name.decode())
    return wanted


def openblas(internal: Path) -> Path | None:
    found = sorted((internal / "numpy.libs").glob("libscipy_openblas64_*.so"))
    return found[0] if found else None


def build(out_dir: Path, blas: Path) -> Path:
    sigs = signatures()
    missing = [key for key in EXPORTED if key not in sigs]
    if missing:
        raise RuntimeError(f"the real blis.cy exports no {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as tmp:
        header = Path(tmp) / "blis_cy_sigs.h"
        header.write_text("".join(f'#define SIG_{key} "{sig}"\n' for key, sig in sigs.items()))
        target = out_dir / ("cy" + sysconfig.get_config_var("EXT_SUFFIX"))
        cmd = ["cc", "-shared", "-fPIC", "-O2", "-s", f"-I{tmp}", f"-I{sysconfig.get_paths()['include']}",
               str(SOURCE), "-o", str(target), f"-L{blas.parent}", f"-l:{blas.name}",
               "-Wl,-rpath,$ORIGIN/../numpy.libs"]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    return target


def package(root: Path, site: Path) -> Path:
    """``root/blis`` as the bundle has it (this module as ``cy``, packaging/blis_py.py as ``py``) with
    ``site``'s numpy.libs beside it: for the tests and bench/blis_shim.py to import it by PYTHONPATH."""
    (root / "blis").mkdir()
    (root / "numpy.libs").symlink_to(site / "numpy.libs")
    for name in ("__init__.py", "about.py"):
        shutil.copy(site / "blis" / name, root / "blis" / name)
    shutil.copy(HERE / "blis_py.py", root / "blis" / "py.py")
    build(root / "blis", openblas(site))
    return root


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv and not argv[0].startswith("-") else "dist/clinscribe")
    internal = root / "_internal"
    old = sorted((internal / "blis").glob("cy.*.so"))
    blas = openblas(internal)
    why = None
    if not old:
        why = "the bundle has no blis.cy"
    elif not shutil.which("cc") or not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        why = "no C compiler or Python headers here"
    elif blas is None:
        why = "numpy's OpenBLAS (libscipy_openblas64_) is not in the bundle"
    else:
        symbols = subprocess.run(["nm", "-D", "--defined-only", str(blas)], capture_output=True, text=True).stdout
        lacking = [s for s in BLAS if not re.search(rf"\s{s}$", symbols, re.M)]
        unknown = imported(internal) - set(EXPORTED)
        if lacking:
            why = f"numpy's OpenBLAS lacks {', '.join(lacking)}"
        elif unknown:
            why = f"the bundle also imports blis.cy's {', '.join(sorted(unknown))}"
    if why:
        print(f"blis_cy: blis.cy kept as it is: {why}")
        return 0
    before = sum(p.stat().st_size for p in old)
    with tempfile.TemporaryDirectory() as tmp:
        new = build(Path(tmp), blas)
        for path in old:
            path.unlink()
        shutil.move(str(new), str(internal / "blis" / new.name))
        after = (internal / "blis" / new.name).stat().st_size
    print(f"blis_cy: blis.cy on numpy's OpenBLAS: {before / 2**20:.1f} MB -> {after / 2**10:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
