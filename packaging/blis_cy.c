/* ``blis.cy`` for the frozen bundle: the BLAS calls thinc and spaCy make, on numpy's OpenBLAS.
 *
 * blis's wheel links all of BLIS statically into ``blis.cy`` (17 MB stripped). thinc's and spaCy's
 * compiled modules reach it only through Cython's C API (``__pyx_capi__``): ``gemm`` (its four fused
 * versions), ``sgemm``, ``dgemm``, ``saxpy`` and ``daxpy``. This module exports exactly those, under
 * the capsule names (C signatures) of the real module, which packaging/blis_cy.py reads from it and
 * writes into blis_cy_sigs.h. The products run on the OpenBLAS numpy already ships (ILP64, symbols
 * prefixed ``scipy_`` and suffixed ``64_``). tests/test_blis_shim.py checks it against the real one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "blis_cy_sigs.h"

typedef int64_t dim_t;
typedef int64_t inc_t;
enum { NO_TRANSPOSE = 0, TRANSPOSE = 8, CONJ_NO_TRANSPOSE = 16, CONJ_TRANSPOSE = 24 };
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

/* Cython's __Pyx_memviewslice (the float1d_t / double1d_t versions take one by value) */
typedef struct {
    void *memview;
    char *data;
    Py_ssize_t shape[8], strides[8], suboffsets[8];
} memviewslice;

extern void scipy_cblas_sgemm64_(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                                 const float *, int64_t, float, float *, int64_t);
extern void scipy_cblas_dgemm64_(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                                 const double *, int64_t, double, double *, int64_t);
extern void scipy_cblas_saxpy64_(int64_t, float, const float *, int64_t, float *, int64_t);
extern void scipy_cblas_daxpy64_(int64_t, double, const double *, int64_t, double *, int64_t);

/* A stored rows x cols matrix with strides (rs, cs) as a row-major one: its leading dimension, and
 * whether it is transposed (a column-major matrix is its transpose stored row-major). 0: neither. */
static int as_row_major(inc_t rs, inc_t cs, dim_t rows, dim_t cols, int *trans, int64_t *ld) {
    if (cs == 1 && (rows <= 1 || rs >= cols)) {
        *ld = rows <= 1 ? (cols > 1 ? cols : 1) : rs;
        return 1;
    }
    if (rs == 1 && (cols <= 1 || cs >= rows)) {
        *ld = cols <= 1 ? (rows > 1 ? rows : 1) : cs;
        *trans = !*trans;
        return 1;
    }
    return 0;
}

#define GEMM(NAME, T, CBLAS)                                                                            \
static void NAME(int ta, int tb, dim_t m, dim_t n, dim_t k, double alpha, const T *a, inc_t rsa,     \
                 inc_t csa, const T *b, inc_t rsb, inc_t csb, double beta, T *c, inc_t rsc, inc_t csc) \
{                                                                                                     \
    if (m <= 0 || n <= 0)                                                                             \
        return;                                                                                       \
    if (csc != 1 && rsc == 1) { /* C column-major: C^T = op(B)^T op(A)^T, row-major */                \
        NAME(!tb, !ta, n, m, k, alpha, b, rsb, csb, a, rsa, csa, beta, c, csc, rsc);                  \
        return;                                                                                       \
    }                                                                                                 \
    int fa = ta, fb = tb;                                                                             \
    int64_t lda, ldb;                                                                                 \
    if (k > 0 && (csc == 1 || n == 1) && (rsc >= n || m == 1)                                         \
        && as_row_major(rsa, csa, ta ? k : m, ta ? m : k, &fa, &lda)                                  \
        && as_row_major(rsb, csb, tb ? n : k, tb ? k : n, &fb, &ldb)) {                               \
        int64_t ldc = m == 1 ? n : rsc;                                                               \
        CBLAS(ROW_MAJOR, fa ? TRANS : NO_TRANS, fb ? TRANS : NO_TRANS, m, n, k, (T)alpha, a, lda, b,  \
              ldb, (T)beta, c, ldc);                                                                  \
        return;                                                                                       \
    }                                                                                                 \
    for (dim_t i = 0; i < m; i++) /* any other strides: as BLIS defines it */                         \
        for (dim_t j = 0; j < n; j++) {                                                               \
            double sum = 0.0;                                                                         \
            for (dim_t p = 0; p < k; p++)                                                             \
                sum += (double)(ta ? a[p * rsa + i * csa] : a[i * rsa + p * csa])                     \
                     * (double)(tb ? b[j * rsb + p * csb] : b[p * rsb + j * csb]);                    \
            T *out = &c[i * rsc + j * csc];                                                           \
            *out = (T)(alpha * sum + (beta == 0.0 ? 0.0 : beta * (double)*out));                      \
        }                                                                                             \
}

GEMM(sgemm_strided, float, scipy_cblas_sgemm64_)
GEMM(dgemm_strided, double, scipy_cblas_dgemm64_)

static int transposed(int trans) { return trans == TRANSPOSE || trans == CONJ_TRANSPOSE; }

/* gemm[floats_t], gemm[doubles_t], gemm[float1d_t], gemm[double1d_t] */
static void gemm_f(int ta, int tb, dim_t m, dim_t n, dim_t k, double alpha, float *a, inc_t rsa, inc_t csa,
                   float *b, inc_t rsb, inc_t csb, double beta, float *c, inc_t rsc, inc_t csc) {
    sgemm_strided(transposed(ta), transposed(tb), m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
}
static void gemm_d(int ta, int tb, dim_t m, dim_t n, dim_t k, double alpha, double *a, inc_t rsa, inc_t csa,
                   double *b, inc_t rsb, inc_t csb, double beta, double *c, inc_t rsc, inc_t csc) {
    dgemm_strided(transposed(ta), transposed(tb), m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
}
static void gemm_f1d(int ta, int tb, dim_t m, dim_t n, dim_t k, double alpha, memviewslice a, inc_t rsa,
                     inc_t csa, memviewslice b, inc_t rsb, inc_t csb, double beta, memviewslice c, inc_t rsc,
                     inc_t csc) {
    gemm_f(ta, tb, m, n, k, alpha, (float *)a.data, rsa, csa, (float *)b.data, rsb, csb, beta,
           (float *)c.data, rsc, csc);
}
static void gemm_d1d(int ta, int tb, dim_t m, dim_t n, dim_t k, double alpha, memviewslice a, inc_t rsa,
                     inc_t csa, memviewslice b, inc_t rsb, inc_t csb, double beta, memviewslice c, inc_t rsc,
                     inc_t csc) {
    gemm_d(ta, tb, m, n, k, alpha, (double *)a.data, rsa, csa, (double *)b.data, rsb, csb, beta,
           (double *)c.data, rsc, csc);
}

/* the cblas-like ones: row-major with leading dimensions, as blis.cy defines them */
static void sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                  int ldb, float beta, float *c, int ldc) {
    sgemm_strided(ta != 0, tb != 0, m, n, k, alpha, a, lda, 1, b, ldb, 1, beta, c, ldc, 1);
}
static void dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                  const double *b, int ldb, double beta, double *c, int ldc) {
    dgemm_strided(ta != 0, tb != 0, m, n, k, alpha, a, lda, 1, b, ldb, 1, beta, c, ldc, 1);
}
static void saxpy(int n, float alpha, const float *x, int incx, float *y, int incy) {
    if (n > 0)
        scipy_cblas_saxpy64_(n, alpha, x, incx, y, incy);
}
static void daxpy(int n, double alpha, const double *x, int incx, double *y, int incy) {
    if (n > 0)
        scipy_cblas_daxpy64_(n, alpha, x, incx, y, incy);
}

static PyObject *noop(PyObject *self, PyObject *args) { Py_RETURN_NONE; }

static PyMethodDef methods[] = {
    {"init", noop, METH_NOARGS, "Nothing to initialise (numpy's OpenBLAS does the work)."},
    {"finalize", noop, METH_NOARGS, "Nothing to finalise."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "blis.cy",
                                    "blis.cy's C API on numpy's OpenBLAS (packaging/blis_cy.c)", -1, methods};

static int export(PyObject *capi, const char *name, void *function, const char *signature) {
    PyObject *capsule = PyCapsule_New(function, signature, NULL);
    if (capsule == NULL)
        return -1;
    int failed = PyDict_SetItemString(capi, name, capsule);
    Py_DECREF(capsule);
    return failed;
}

PyMODINIT_FUNC PyInit_cy(void) {
    PyObject *m = PyModule_Create(&module), *capi = PyDict_New();
    if (m == NULL || capi == NULL
        || export(capi, "__pyx_fuse_0gemm", (void *)gemm_f, SIG___pyx_fuse_0gemm) < 0
        || export(capi, "__pyx_fuse_1gemm", (void *)gemm_d, SIG___pyx_fuse_1gemm) < 0
        || export(capi, "__pyx_fuse_2gemm", (void *)gemm_f1d, SIG___pyx_fuse_2gemm) < 0
        || export(capi, "__pyx_fuse_3gemm", (void *)gemm_d1d, SIG___pyx_fuse_3gemm) < 0
        || export(capi, "sgemm", (void *)sgemm, SIG_sgemm) < 0
        || export(capi, "dgemm", (void *)dgemm, SIG_dgemm) < 0
        || export(capi, "saxpy", (void *)saxpy, SIG_saxpy) < 0
        || export(capi, "daxpy", (void *)daxpy, SIG_daxpy) < 0
        || PyModule_AddObject(m, "__pyx_capi__", capi) < 0) {
        Py_XDECREF(capi);
        Py_XDECREF(m);
        return NULL;
    }
    const char *names[] = {"NO_TRANSPOSE", "TRANSPOSE", "CONJ_NO_TRANSPOSE", "CONJ_TRANSPOSE"};
    const long values[] = {NO_TRANSPOSE, TRANSPOSE, CONJ_NO_TRANSPOSE, CONJ_TRANSPOSE};
    for (int i = 0; i < 4; i++)
        if (PyModule_AddIntConstant(m, names[i], values[i]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    return m;
}
