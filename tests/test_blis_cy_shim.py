"""The frozen bundle's ``blis.cy`` (packaging/blis_cy.c: BLIS's C API on numpy's OpenBLAS): every
function thinc and spaCy import from it, the same products as blis's own, and the same PHI from spaCy."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
import blis_cy  # noqa: E402

real_cy = pytest.importorskip("blis.cy")
SITE = Path(real_cy.__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("cc") is None or blis_cy.openblas(SITE) is None,
                                reason="needs a C compiler and numpy's OpenBLAS")


@pytest.fixture(scope="module")
def shim_dir(tmp_path_factory):
    """``blis`` as the bundle has it: the shim as ``cy``, packaging/blis_py.py as ``py``, numpy.libs beside."""
    return blis_cy.package(tmp_path_factory.mktemp("blis_shim"), SITE)


@pytest.fixture(scope="module")
def shim(shim_dir):
    path = next((shim_dir / "blis").glob("cy.*.so"))
    spec = importlib.util.spec_from_file_location("blis_shim.cy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function(module, name, restype, *argtypes):
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    capsule = module.__pyx_capi__[name]
    return ctypes.CFUNCTYPE(restype, *argtypes)(get_pointer(capsule, blis_cy.capsule_name(capsule).encode()))


I64, F32, F64 = ctypes.c_int64, ctypes.c_float, ctypes.c_double
PTR = ctypes.c_void_p


def test_it_exports_what_thinc_and_spacy_import_under_the_real_signatures(shim):
    wanted = blis_cy.imported(SITE)
    assert {"__pyx_fuse_0gemm", "sgemm", "saxpy"} <= wanted <= set(blis_cy.EXPORTED)
    for key in blis_cy.EXPORTED:
        assert blis_cy.capsule_name(shim.__pyx_capi__[key]) == blis_cy.capsule_name(real_cy.__pyx_capi__[key])


def strided(rng, rows, cols, layout, dtype):
    """A rows x cols matrix in a bigger buffer: (buffer, row stride, column stride) in elements."""
    big = numpy.zeros((rows + 3) * (cols + 3) * 2, dtype=dtype)
    if layout == "row":
        rs, cs = cols + 2, 1
    elif layout == "col":
        rs, cs = 1, rows + 1
    else:
        rs, cs = 2 * (cols + 1), 2
    view = numpy.lib.stride_tricks.as_strided(big, (rows, cols), (rs * big.itemsize, cs * big.itemsize))
    view[...] = rng.standard_normal((rows, cols))
    return big, rs, cs


@pytest.mark.parametrize("dtype, fuse", [("float32", "__pyx_fuse_0gemm"), ("float64", "__pyx_fuse_1gemm")])
@pytest.mark.parametrize("layout", ["row", "col", "general"])
@pytest.mark.parametrize("ta, tb", [(0, 0), (8, 0), (0, 8), (8, 8)])
@pytest.mark.parametrize("m, n, k", [(7, 5, 9), (1, 6, 4), (6, 1, 3)])
def test_gemm_gives_blis_products(shim, dtype, fuse, layout, ta, tb, m, n, k):
    args = [ctypes.c_int, ctypes.c_int, I64, I64, I64, F64, PTR, I64, I64, PTR, I64, I64, F64, PTR, I64, I64]
    results = []
    for module in (real_cy, shim):
        rng = numpy.random.default_rng(3)
        a, rsa, csa = strided(rng, k if ta else m, m if ta else k, layout, dtype)
        b, rsb, csb = strided(rng, n if tb else k, k if tb else n, "row" if layout == "col" else layout, dtype)
        c, rsc, csc = strided(rng, m, n, layout, dtype)
        gemm = function(module, fuse, None, *args)
        gemm(ta, tb, m, n, k, 0.5, a.ctypes.data, rsa, csa, b.ctypes.data, rsb, csb, 2.0, c.ctypes.data, rsc, csc)
        results.append(c)
    numpy.testing.assert_allclose(results[1], results[0], rtol=2e-5, atol=2e-5)
    assert numpy.abs(results[0]).sum() > 0


def test_sgemm_saxpy_daxpy_as_blis(shim):
    rng = numpy.random.default_rng(5)
    a = rng.standard_normal((4, 6)).astype("f")  # 3 x 5 used, leading dimensions 6 / 8 / 7
    b = rng.standard_normal((5, 8)).astype("f")
    out = []
    for module in (real_cy, shim):
        c = numpy.ones((3, 7), dtype="f")
        sgemm = function(module, "sgemm", None, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                         ctypes.c_int, F32, PTR, ctypes.c_int, PTR, ctypes.c_int, F32, PTR, ctypes.c_int)
        sgemm(0, 0, 3, 4, 5, 1.0, a.ctypes.data, 6, b.ctypes.data, 8, 0.0, c.ctypes.data, 7)
        y32, y64 = numpy.arange(10, dtype="f"), numpy.arange(10, dtype="d")
        function(module, "saxpy", None, ctypes.c_int, F32, PTR, ctypes.c_int, PTR, ctypes.c_int)(
            5, 2.0, numpy.ones(10, dtype="f").ctypes.data, 2, y32.ctypes.data, 1)
        function(module, "daxpy", None, ctypes.c_int, F64, PTR, ctypes.c_int, PTR, ctypes.c_int)(
            4, -1.5, numpy.full(10, 2.0).ctypes.data, 1, y64.ctypes.data, 2)
        out.append((c, y32, y64))
    for got, expected in zip(out[1], out[0]):
        numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert out[0][0][:, 4:].tolist() == [[1.0] * 3] * 3  # columns past N untouched
    assert out[0][1][1] == 3.0 and out[0][2][2] == -1.0


from test_blis_shim import SENTENCES  # noqa: E402  (the same four clinical sentences)

PROBE = r"""
import json, sys
import blis.cy
from app.local.phi import detect_phi
out = {"blis_cy": blis.cy.__file__, "entities": []}
for sentence in json.loads(sys.argv[1]):
    items = [{"content": w, "start": i * 0.4, "end": i * 0.4 + 0.3, "confidence": 0.9}
             for i, w in enumerate(sentence.split())]
    out["entities"].append([(e["content"], e["category"]) for e in detect_phi(items)])
print(json.dumps(out))
"""


def _entities(pythonpath: str | None) -> dict:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(SENTENCES)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_spacy_finds_the_same_phi_with_the_shim(shim_dir):
    real, shimmed = _entities(None), _entities(str(shim_dir))
    assert shimmed["blis_cy"].startswith(str(shim_dir)) and real["blis_cy"].startswith(str(SITE))
    assert any(real["entities"]) and shimmed["entities"] == real["entities"]
