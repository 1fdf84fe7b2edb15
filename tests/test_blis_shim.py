"""The frozen bundle's ``blis.py`` (packaging/blis_py.py: gemm on numpy's BLAS instead of a second static
BLIS): the same products as blis's own, and the same PHI entities from spaCy's model through thinc."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIM = ROOT / "packaging" / "blis_py.py"


def _shim():
    spec = importlib.util.spec_from_file_location("blis_py_shim", SHIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("trans1", [False, True])
@pytest.mark.parametrize("trans2", [False, True])
def test_gemm_gives_blis_products(trans1, trans2):
    blis_py = pytest.importorskip("blis.py")
    shim = _shim()
    rng = numpy.random.default_rng(7)
    a = rng.standard_normal((96, 64) if not trans1 else (64, 96)).astype("f")
    b = rng.standard_normal((64, 40) if not trans2 else (40, 64)).astype("f")
    expected = blis_py.gemm(a, b, trans1=trans1, trans2=trans2, beta=0.0)
    got = shim.gemm(a, b, trans1=trans1, trans2=trans2, beta=0.0)
    assert got.dtype == numpy.float32 and got.shape == expected.shape == (96, 40)
    numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    out = numpy.full((96, 40), 3.0, dtype="f")
    assert shim.gemm(a, b, out=out, trans1=trans1, trans2=trans2, beta=0.0) is out   # thinc's out=
    numpy.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="Shape mismatch"):
        shim.gemm(a, b, trans1=not trans1, trans2=trans2)


SENTENCES = [
    "Patient John Smith was seen today by Doctor Maria Gonzalez at Saint Mary's Hospital in Boston",
    "She was born on March third nineteen fifty two and lives at 42 Oak Street Springfield Illinois",
    "Follow up with Dr Patel in two weeks his daughter Emily will drive him from Cambridge",
    "The patient Robert Chen reports chest pain since Tuesday after a visit to Mount Sinai",
]

PROBE = r"""
import json, sys
if sys.argv[1] == "shim":
    import importlib.util, blis
    spec = importlib.util.spec_from_file_location("blis.py", sys.argv[2])
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    sys.modules["blis.py"] = module; blis.py = module
from app.local.phi import detect_phi
import thinc.backends.numpy_ops as ops
out = {"blis_py": getattr(ops.blis.py, "__file__", "")}
out["entities"] = []
for sentence in json.loads(sys.argv[3]):
    items = [{"content": w, "start": i * 0.4, "end": i * 0.4 + 0.3, "confidence": 0.9}
             for i, w in enumerate(sentence.split())]
    out["entities"].append([(e["content"], e["category"]) for e in detect_phi(items)])
print(json.dumps(out))
"""


def _entities(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, mode, str(SHIM), json.dumps(SENTENCES)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_spacy_finds_the_same_phi_with_the_shim():
    pytest.importorskip("blis.py")
    real, shimmed = _entities("blis"), _entities("shim")
    assert shimmed["blis_py"] == str(SHIM) and real["blis_py"].endswith(".so")   # each ran what it says
    assert any(real["entities"]) and shimmed["entities"] == real["entities"]
