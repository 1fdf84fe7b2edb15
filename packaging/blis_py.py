"""``blis.py`` for the frozen bundle: its ``gemm`` on numpy's BLAS (OpenBLAS, already in the bundle).

blis's wheel links the whole BLIS library statically into each of its two extensions, ``blis.cy`` and
``blis.py`` (18 MB each). thinc needs ``blis.cy`` (its Cython kernels call it) but of ``blis.py`` only
``gemm``, from ``NumpyOps.gemm`` (float32, C-contiguous, ``beta=0``). packaging/build.sh replaces the
``blis.py`` extension by this module; tests/test_blis_shim.py checks it against the real one and that
spaCy's entities come out the same.
"""

from __future__ import annotations

import numpy


def gemm(A, B, out=None, trans1=False, trans2=False, alpha=1.0, beta=1.0):
    """``out = alpha * op(A) @ op(B) + beta * out`` as blis.py.gemm (a new array when ``out`` is None)."""
    a = A.T if trans1 else A
    b = B.T if trans2 else B
    if a.ndim != 2 or b.ndim != 2:
        raise TypeError("Unhandled fused type")
    if a.shape[1] != b.shape[0]:
        raise ValueError("Shape mismatch for blis.gemm: (%d, %d), (%d, %d)" % (*a.shape, *b.shape))
    product = numpy.matmul(a, b)
    if alpha != 1.0:
        product *= alpha
    if out is None:
        return product
    if beta == 0.0:
        out[...] = product
    else:
        out *= beta
        out += product
    return out
