"""A fused LSTM loop: one operation for the whole time axis, and its gradient.

:class:`theanets.layers.LSTM` (with ``tanh``, without ``bptt_limit``) calls
:func:`lstm_loop` in the ``'c'`` and ``'python'`` modes; elsewhere it builds
its recurrence with ``scan``. The two operations run the loop in one call
each:

- :class:`LSTMLoop` reads the input projections of every step ``x . xh``
  (computed outside, as one matrix product) and the biases, and runs the
  recurrence: per step one recurrent product ``h_{t-1} . hh`` and one pass
  over the gates with a vectorisable ``exp`` (PyTensor's C elementwise code
  calls ``expf`` one value at a time). It keeps the gates and ``tanh(c_t)``
  for the backward pass.
- :class:`LSTMLoopGrad` runs the recurrence backwards: per step one product
  ``dz_t . hh^T`` and one pass over the gates; it sums the biases' gradient
  as it goes. The gradient of ``hh`` is one product over all steps at once,
  ``h_prev^T . dz``, outside the loop (``scan``'s gradient accumulates it
  step by step inside).

The recurrent products run in a small register-blocked kernel on ``hh``
packed once per call (float32 with AVX-512), else in the C mode's BLAS.
Both operations also have a numpy ``perform`` (the ``'python'`` mode, the
C mode without a BLAS, and Numba's object-mode fallback) and JAX
translations (:mod:`theanets.backend.lstm_jax`), so a graph built in one
mode compiles in any. Shapes are time-major: ``z`` ``(time, n, 4
size)``, gate blocks in the order i, f, c, o.

Measured (``python bench/lstm_modes.py c 41``, one thread): a training step
of an LSTM classifier (batch 32, 50 steps, 128 inputs and units) took 0.89x
PyTorch eager's, against 1.73-1.92x with ``scan``.
"""

import numpy as np
import pytensor.tensor as TT
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.tensor.blas import ldflags
from pytensor.tensor.blas_headers import blas_header_text, blas_header_version
from pytensor.tensor.type import TensorType

__all__ = ['lstm_loop', 'LSTMLoop', 'LSTMLoopGrad']


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _tanh(x):
    return 2 * _sigmoid(2 * x) - 1


def _check_optional(peep, valid, nt, nb, nh):
    """Refuse peepholes not ``(3, nh)`` or a mask not ``(nt, nb)``."""
    for value, shape, what in ((peep, (3, nh), 'peepholes'),
                               (valid, (nt, nb), 'validity mask')):
        if value is not None and value.shape != shape:
            raise ValueError(f'LSTM loop: the {what} must be {shape}, got '
                             f'{value.shape}')


def _states(z, size):
    """Static shape ``(time, n, size)`` of a state sequence, from ``z``."""
    return (z.type.shape[0], z.type.shape[1], size)


_KERNELS = r"""
#include <string.h>
#include <stdlib.h>
#include <math.h>

/* The kernels below are hot: without the attribute g++ judged the calls
   from the op's C code cold (its error paths) and left the loops scalar. */
#define TH_HOT __attribute__((hot, noinline))

/* exp for float32 without a call: Cody-Waite reduction, Cephes' degree-6
   polynomial, scaling by 2^k through the exponent bits; branch-free (with
   -fno-trapping-math g++ if-converts the clamps) so loops over it
   vectorise. Measured on [-87, 88]: relative error at most 8.4e-8; the
   sigmoid and tanh below are within 8.9e-8 and 1.8e-7 of float64's. */
static inline float th_exp(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    float t = x * 1.44269504088896341f;
    int k = (int)(t + (t >= 0.f ? 0.5f : -0.5f));
    float kf = (float)k;
    float r = x - kf * 0.693359375f;
    r = r + kf * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.f;
    int bits = (k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof(scale));
    return p * scale;
}
static inline double th_exp(double x) { return exp(x); }

template <typename T> static inline T th_sig(T x) {
    return (T)1 / ((T)1 + th_exp(-x));
}
template <typename T> static inline T th_tanh(T x) {
    return (T)2 / ((T)1 + th_exp((T)-2 * x)) - (T)1;
}

static inline void th_gemm(char ta, char tb, int m, int n, int k, float alpha,
                           const float* a, int lda, const float* b, int ldb,
                           float beta, float* c, int ldc) {
    sgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}
static inline void th_gemm(char ta, char tb, int m, int n, int k, double alpha,
                           const double* a, int lda, const double* b, int ldb,
                           double beta, double* c, int ldc) {
    dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
}

/* The recurrent product c (n, m) (+)= a (n, k) . B, with B = w (k, m) or
   w^T, the same B at every step. BLAS repacks B at every call; for float32
   with AVX-512, B is packed once into panels of two vectors' width and a
   small register-blocked kernel (8 rows x 32 columns) multiplies: 44 us
   against OpenBLAS's 52-82 us for 32 x 128 . 128 x 512 and 32 x 512 .
   512 x 128, measured. With AVX2 only the same kernel (6 x 16) was no
   faster than OpenBLAS, so BLAS multiplies there, and in double precision.
   The kernel is written with GCC vector types; TH_VW is its width. */
#if defined(__AVX512F__)
#define TH_VW 16
#define TH_RB 8
#endif

template <typename T> struct th_rhs {
    const T* w; int ldw, k, m, trans; float* panels;
};

template <typename T>
static int th_rhs_init(th_rhs<T>* r, const T* w, int ldw, int k, int m,
                       int trans) {
    r->w = w; r->ldw = ldw; r->k = k; r->m = m; r->trans = trans;
    r->panels = NULL;
    return 1;
}

template <typename T>
static void th_rhs_blas(const th_rhs<T>* r, int n, const T* a, int lda,
                        int accumulate, T* c, int ldc) {
    th_gemm(r->trans ? 'T' : 'N', 'N', r->m, n, r->k, (T)1, r->w, r->ldw,
            a, lda, accumulate ? (T)1 : (T)0, c, ldc);
}

#ifdef TH_VW
#define TH_PW (2 * TH_VW)
typedef float th_vf __attribute__((vector_size(TH_VW * sizeof(float))));

static inline th_vf th_load(const float* p) {
    th_vf v; memcpy(&v, p, sizeof(v)); return v;
}
static inline void th_store(float* p, th_vf v) { memcpy(p, &v, sizeof(v)); }

template <>
int th_rhs_init<float>(th_rhs<float>* r, const float* w, int ldw, int k,
                       int m, int trans) {
    r->w = w; r->ldw = ldw; r->k = k; r->m = m; r->trans = trans;
    int np = (m + TH_PW - 1) / TH_PW;
    r->panels = (float*)malloc(sizeof(float) * (size_t)np * k * TH_PW);
    if (!r->panels)
        return 0;
    for (int p = 0; p < np; ++p)
        for (int kk = 0; kk < k; ++kk) {
            float* dst = r->panels + ((size_t)p * k + kk) * TH_PW;
            for (int j = 0; j < TH_PW; ++j) {
                int col = p * TH_PW + j;
                dst[j] = col >= m ? 0.f : trans ? w[(size_t)col * ldw + kk]
                                                : w[(size_t)kk * ldw + col];
            }
        }
    return 1;
}

/* R rows of c, one panel (ncols <= TH_PW valid columns). */
template <int R>
static inline void th_tile(int k, const float* __restrict__ a, int lda,
                           const float* __restrict__ panel, int accumulate,
                           float* __restrict__ c, int ldc, int ncols) {
    th_vf c0[R], c1[R];
    for (int r = 0; r < R; ++r) {
        c0[r] = (th_vf){};
        c1[r] = (th_vf){};
    }
    for (int kk = 0; kk < k; ++kk) {
        th_vf w0 = th_load(panel + (size_t)kk * TH_PW);
        th_vf w1 = th_load(panel + (size_t)kk * TH_PW + TH_VW);
        for (int r = 0; r < R; ++r) {
            float s = a[(size_t)r * lda + kk];
            c0[r] += s * w0;
            c1[r] += s * w1;
        }
    }
    for (int r = 0; r < R; ++r) {
        float* out = c + (size_t)r * ldc;
        if (ncols == TH_PW) {
            if (accumulate) {
                c0[r] += th_load(out);
                c1[r] += th_load(out + TH_VW);
            }
            th_store(out, c0[r]);
            th_store(out + TH_VW, c1[r]);
        } else {
            float tmp[TH_PW];
            th_store(tmp, c0[r]);
            th_store(tmp + TH_VW, c1[r]);
            for (int j = 0; j < ncols; ++j)
                out[j] = accumulate ? out[j] + tmp[j] : tmp[j];
        }
    }
}

TH_HOT static void th_rhs_mul(const th_rhs<float>* r, int n, const float* a,
                              int lda, int accumulate, float* c, int ldc) {
    if (!r->panels) {
        th_rhs_blas(r, n, a, lda, accumulate, c, ldc);
        return;
    }
    int np = (r->m + TH_PW - 1) / TH_PW;
    for (int p = 0; p < np; ++p) {
        const float* panel = r->panels + (size_t)p * r->k * TH_PW;
        int ncols = r->m - p * TH_PW < TH_PW ? r->m - p * TH_PW : TH_PW;
        float* cp = c + (size_t)p * TH_PW;
        int i = 0;
        for (; i + TH_RB <= n; i += TH_RB)
            th_tile<TH_RB>(r->k, a + (size_t)i * lda, lda, panel, accumulate,
                           cp + (size_t)i * ldc, ldc, ncols);
        for (; i < n; ++i)
            th_tile<1>(r->k, a + (size_t)i * lda, lda, panel, accumulate,
                       cp + (size_t)i * ldc, ldc, ncols);
    }
}
#else
static void th_rhs_mul(const th_rhs<float>* r, int n, const float* a,
                       int lda, int accumulate, float* c, int ldc) {
    th_rhs_blas(r, n, a, lda, accumulate, c, ldc);
}
#endif

static void th_rhs_mul(const th_rhs<double>* r, int n, const double* a,
                       int lda, int accumulate, double* c, int ldc) {
    th_rhs_blas(r, n, a, lda, accumulate, c, ldc);
}

template <typename T> static void th_rhs_free(th_rhs<T>* r) {
    free(r->panels);
    r->panels = NULL;
}

/* One row of the forward loop: activates the gates a (4 H, in place)
   and writes c, tanh(c) and h; with peepholes (PEEP) adds p (3 H) times
   the cell. Its own function, so that the restrict qualifiers hold and g++
   vectorises the loop. */
template <typename T, bool PEEP>
TH_HOT static void th_fwd_row(int nh, T* __restrict__ a,
                              const T* __restrict__ cp,
                              const T* __restrict__ p, T* __restrict__ h,
                              T* __restrict__ c, T* __restrict__ tc) {
    for (int j = 0; j < nh; ++j) {
        T ai = a[j], af = a[nh + j];
        if (PEEP) {
            ai += cp[j] * p[j];
            af += cp[j] * p[nh + j];
        }
        T i = th_sig(ai);
        T f = th_sig(af);
        T g = th_tanh(a[2 * nh + j]);
        T cj = f * cp[j] + i * g;
        T ao = a[3 * nh + j];
        if (PEEP)
            ao += cj * p[2 * nh + j];
        T o = th_sig(ao);
        T t = th_tanh(cj);
        a[j] = i; a[nh + j] = f; a[2 * nh + j] = g; a[3 * nh + j] = o;
        c[j] = cj; tc[j] = t; h[j] = o * t;
    }
}

/* One row of the backward loop: from the output gradients dh, dc of this
   step and the carried ones hc, cc (updated: cc to c_{t-1}'s), writes the
   gate gradients da (4 H); with peepholes (PEEP) also reads them (p, 3 H)
   and accumulates their gradient dp. */
template <typename T, bool PEEP>
TH_HOT static void th_bwd_row(int nh, const T* __restrict__ g4,
                              const T* __restrict__ cp,
                              const T* __restrict__ c,
                              const T* __restrict__ tc,
                              const T* __restrict__ p,
                              const T* __restrict__ dh,
                              const T* __restrict__ dc,
                              const T* __restrict__ hc, T* __restrict__ cc,
                              T* __restrict__ da, T* __restrict__ dp) {
    for (int j = 0; j < nh; ++j) {
        T Dh = dh[j] + hc[j];
        T Dc = dc[j] + cc[j];
        T i = g4[j], f = g4[nh + j], g = g4[2 * nh + j], o = g4[3 * nh + j];
        T t = tc[j];
        T dao = Dh * t * o * ((T)1 - o);
        T dcn = Dc + Dh * o * ((T)1 - t * t);
        if (PEEP)
            dcn += dao * p[2 * nh + j];
        T dai = dcn * g * i * ((T)1 - i);
        T daf = dcn * cp[j] * f * ((T)1 - f);
        T dag = dcn * i * ((T)1 - g * g);
        da[j] = dai; da[nh + j] = daf; da[2 * nh + j] = dag;
        da[3 * nh + j] = dao;
        T dcp = dcn * f;
        if (PEEP) {
            dcp += dai * p[j] + daf * p[nh + j];
            dp[j] += dai * cp[j];
            dp[nh + j] += daf * cp[j];
            dp[2 * nh + j] += dao * c[j];
        }
        cc[j] = dcp;
    }
}

/* db += da, over one row of 4 H values. */
template <typename T>
TH_HOT static void th_sum_row(int n, const T* __restrict__ da,
                              T* __restrict__ db) {
    for (int j = 0; j < n; ++j)
        db[j] += da[j];
}

/* a = z + bias, over one row of 4 H values. */
template <typename T>
TH_HOT static void th_add_row(int n, const T* __restrict__ z,
                              const T* __restrict__ bias, T* __restrict__ a) {
    for (int j = 0; j < n; ++j)
        a[j] = z[j] + bias[j];
}

/* Forward loop. z (T, B, 4H); bias (4H); w (H, 4H); h0, c0 (B, H); p
   (3, H) peepholes or NULL; v (T, B) step validity or NULL. Writes
   hs, cs, tcs (T, B, H) and gs (T, B, 4H): activated gates i, f, g, o.
   Returns 0 when out of memory. */
template <typename T>
TH_HOT static int th_lstm_fwd(int nt, int nb, int nh, const T* z,
                              const T* bias, const T* w, const T* h0,
                              const T* c0, const T* p, const T* v, T* hs,
                              T* cs, T* gs, T* tcs) {
    const int ng = 4 * nh;
    th_rhs<T> rhs;
    if (!th_rhs_init(&rhs, w, ng, nh, ng, 0))
        return 0;
    for (int t = 0; t < nt; ++t) {
        T* a = gs + (size_t)t * nb * ng;
        const T* hp = t ? hs + (size_t)(t - 1) * nb * nh : h0;
        const T* cp = t ? cs + (size_t)(t - 1) * nb * nh : c0;
        for (int b = 0; b < nb; ++b)
            th_add_row<T>(ng, z + ((size_t)t * nb + b) * ng, bias,
                          a + (size_t)b * ng);
        th_rhs_mul(&rhs, nb, hp, nh, 1, a, ng);
        for (int b = 0; b < nb; ++b) {
            size_t row = ((size_t)t * nb + b) * nh;
            const T* cpb = cp + (size_t)b * nh;
            if (v && !v[(size_t)t * nb + b]) {
                memcpy(hs + row, hp + (size_t)b * nh, sizeof(T) * nh);
                memcpy(cs + row, cpb, sizeof(T) * nh);
                memset(tcs + row, 0, sizeof(T) * nh);
                continue;
            }
            if (p)
                th_fwd_row<T, true>(nh, a + (size_t)b * ng, cpb, p, hs + row,
                                    cs + row, tcs + row);
            else
                th_fwd_row<T, false>(nh, a + (size_t)b * ng, cpb, p, hs + row,
                                     cs + row, tcs + row);
        }
    }
    th_rhs_free(&rhs);
    return 1;
}

/* Backward loop: from the gradients dh, dc (T, B, H) of the outputs h and
   c, writes dz (T, B, 4H), db (4H), dh0, dc0 (B, H) and, with peepholes p
   (3, H; else NULL, and dp too), dp (3, H). tmp: B * H scratch values.
   Returns 0 when out of memory. */
template <typename T>
TH_HOT static int th_lstm_bwd(int nt, int nb, int nh, const T* w,
                              const T* c0, const T* p, const T* v,
                              const T* cs, const T* gs, const T* tcs,
                              const T* dh, const T* dc, T* dz, T* db, T* dh0,
                              T* dc0, T* dp, T* tmp) {
    const int ng = 4 * nh;
    memset(dh0, 0, sizeof(T) * (size_t)nb * nh);
    memset(dc0, 0, sizeof(T) * (size_t)nb * nh);
    if (p)
        memset(dp, 0, sizeof(T) * (size_t)3 * nh);
    memset(db, 0, sizeof(T) * (size_t)ng);
    th_rhs<T> rhs;  /* w^T */
    if (!th_rhs_init(&rhs, w, ng, ng, nh, 1))
        return 0;
    for (int t = nt - 1; t >= 0; --t) {
        const T* cp = t ? cs + (size_t)(t - 1) * nb * nh : c0;
        T* da = dz + (size_t)t * nb * ng;
        for (int b = 0; b < nb; ++b) {
            size_t row = ((size_t)t * nb + b) * nh;
            T* hc = dh0 + (size_t)b * nh;  /* carried dh */
            T* cc = dc0 + (size_t)b * nh;  /* carried dc */
            if (v && !v[(size_t)t * nb + b]) {
                for (int j = 0; j < nh; ++j) {
                    hc[j] += dh[row + j];
                    cc[j] += dc[row + j];
                }
                memset(da + (size_t)b * ng, 0, sizeof(T) * ng);
                continue;
            }
            if (p)
                th_bwd_row<T, true>(nh, gs + ((size_t)t * nb + b) * ng,
                                    cp + (size_t)b * nh, cs + row, tcs + row,
                                    p, dh + row, dc + row, hc, cc,
                                    da + (size_t)b * ng, dp);
            else
                th_bwd_row<T, false>(nh, gs + ((size_t)t * nb + b) * ng,
                                     cp + (size_t)b * nh, cs + row, tcs + row,
                                     p, dh + row, dc + row, hc, cc,
                                     da + (size_t)b * ng, dp);
            th_sum_row<T>(ng, da + (size_t)b * ng, db);  /* still in cache */
        }
        if (!v) {  /* every row's carried dh is consumed: overwrite */
            th_rhs_mul(&rhs, nb, da, ng, 0, dh0, nh);
            continue;
        }
        th_rhs_mul(&rhs, nb, da, ng, 0, tmp, nh);
        for (int b = 0; b < nb; ++b) {
            if (!v[(size_t)t * nb + b])
                continue;  /* the carried dh already passed through */
            memcpy(dh0 + (size_t)b * nh, tmp + (size_t)b * nh,
                   sizeof(T) * (size_t)nh);
        }
    }
    th_rhs_free(&rhs);
    return 1;
}

/* A C-contiguous array of the given type and shape in *out, reused when it
   fits. Returns 0 on failure (with a Python error set). */
static int th_output(PyArrayObject** out, int nd, npy_intp* dims,
                     int typenum) {
    if (*out && PyArray_NDIM(*out) == nd && PyArray_TYPE(*out) == typenum &&
            PyArray_IS_C_CONTIGUOUS(*out)) {
        int same = 1;
        for (int i = 0; i < nd; ++i)
            same = same && PyArray_DIMS(*out)[i] == dims[i];
        if (same)
            return 1;
    }
    Py_XDECREF(*out);
    *out = (PyArrayObject*)PyArray_EMPTY(nd, dims, typenum, 0);
    return *out != NULL;
}
"""


class _LSTMBase(COp):
    """What the two LSTM loop operations share: options, BLAS, C kernels."""

    __props__ = ('peepholes', 'masked')

    def __init__(self, peepholes=False, masked=False):
        self.peepholes = bool(peepholes)
        self.masked = bool(masked)
        super().__init__()

    def _optional(self, peep, valid, dtype):
        """The peephole and validity inputs that this op takes."""
        out = []
        if self.peepholes:
            out.append(TT.as_tensor_variable(peep).astype(dtype))
        if self.masked:
            out.append(TT.as_tensor_variable(valid).astype(dtype))
        return out

    def _split(self, inputs, fixed):
        """``(fixed inputs, peep or None, valid or None)``."""
        head, rest = list(inputs[:fixed]), list(inputs[fixed:])
        peep = rest.pop(0) if self.peepholes else None
        valid = rest.pop(0) if self.masked else None
        return head, peep, valid

    # -- C code ---------------------------------------------------------------

    def c_support_code(self, **kwargs):
        return blas_header_text() + _KERNELS

    def c_libraries(self, **kwargs):
        return ldflags()

    def c_compile_args(self, **kwargs):
        # Without trapping math g++ may if-convert the clamps of th_exp, so
        # that the loops over units vectorise (4.1 instead of 9.1 ms for a
        # 50-step, 32 x 128 forward loop, whose products take 2.0 ms).
        return ldflags(libs=False, flags=True) + ['-fno-trapping-math']

    def c_lib_dirs(self, **kwargs):
        return ldflags(libs=False, libs_dir=True)

    def c_header_dirs(self, **kwargs):
        return ldflags(libs=False, include_dir=True)

    def c_code_cache_version(self):
        return (14, blas_header_version())

    def L_op(self, inputs, outputs, output_grads):
        # PyTensor releases without ``pullback`` call this instead.
        return self.pullback(inputs, outputs, output_grads)

    def _c_prologue(self, node, inp, sub, fixed):
        """C declarations: contiguous copies of the inputs (``in0``...) and
        the peephole/validity pointers; requires a linked BLAS."""
        if not ldflags() or node.inputs[0].dtype not in ('float32', 'float64'):
            raise NotImplementedError('no BLAS linked: numpy perform')
        ctype = 'float' if node.inputs[0].dtype == 'float32' else 'double'
        lines = [f'typedef {ctype} th_t;']
        for k, name in enumerate(inp):
            lines.append(
                f'PyArrayObject* in{k} = PyArray_GETCONTIGUOUS({name});')
        release = ' '.join(f'Py_XDECREF(in{k});' for k in range(len(inp)))
        lines.append('if (' + ' || '.join(f'!in{k}' for k in range(len(inp)))
                     + f') {{ {release} {sub["fail"]} }}')
        count = len(inp)
        peep = f'(th_t*)PyArray_DATA(in{fixed})' if self.peepholes else 'NULL'
        valid_index = fixed + int(self.peepholes)
        valid = f'(th_t*)PyArray_DATA(in{valid_index})' if self.masked \
            else 'NULL'
        lines.append(f'const th_t* th_peep = {peep};')
        lines.append(f'const th_t* th_valid = {valid};')
        return '\n'.join(lines), release, count

    def _c_check_optional(self, fixed):
        """C code refusing peepholes not (3, nh) or a validity mask not
        (nt, nb) (after ``nt``, ``nb``, ``nh`` and ``ok`` are declared)."""
        code = []
        for present, k, rows, cols, what in (
                (self.peepholes, fixed, '3', 'nh', 'peepholes'),
                (self.masked, fixed + int(self.peepholes), 'nt', 'nb',
                 'validity mask')):
            if present:
                code.append(f"""
        if (ok && (PyArray_NDIM(in{k}) != 2 ||
                   PyArray_DIMS(in{k})[0] != {rows} ||
                   PyArray_DIMS(in{k})[1] != {cols})) {{
            PyErr_Format(PyExc_ValueError,
                "{type(self).__name__}: the {what} must be (%ld, %ld)",
                (long){rows}, (long){cols});
            ok = 0;
        }}""")
        return ''.join(code)


class LSTMLoop(_LSTMBase):
    """The LSTM recurrence over a whole sequence batch (time-major).

    Inputs ``z`` ``(time, n, 4 size)`` (input projections), ``b`` ``(4
    size,)`` (biases), ``hh`` ``(size, 4 size)``, ``h0`` and ``c0`` ``(n,
    size)``, then ``peep`` ``(3, size)`` (rows ``ci``, ``cf``, ``co``) when
    ``peepholes``, then ``valid`` ``(time, n)`` (1 on real steps, 0 on
    padding: states carried unchanged) when ``masked``. Outputs ``h`` and
    ``c`` ``(time, n, size)``, and for the gradient the gates ``(time, n, 4
    size)`` and ``tanh(c)`` ``(time, n, size)`` (zero on padding).
    """

    def make_node(self, z, b, hh, h0, c0, peep=None, valid=None):
        z = TT.as_tensor_variable(z)
        dtype = z.dtype
        b, hh, h0, c0 = (TT.as_tensor_variable(v).astype(dtype)
                         for v in (b, hh, h0, c0))
        if (z.ndim, b.ndim, hh.ndim, h0.ndim, c0.ndim) != (3, 1, 2, 2, 2):
            raise TypeError(
                'LSTMLoop takes z (time, n, 4 size), b (4 size,), hh (size, '
                '4 size), h0 and c0 (n, size); got ranks '
                f'{z.ndim}, {b.ndim}, {hh.ndim}, {h0.ndim}, {c0.ndim}')
        inputs = [z, b, hh, h0, c0] + self._optional(peep, valid, dtype)
        state = _states(z, hh.type.shape[0])
        outs = [TensorType(dtype, shape=state)(),
                TensorType(dtype, shape=state)(),
                TensorType(dtype, shape=z.type.shape)(),
                TensorType(dtype, shape=state)()]
        return Apply(self, inputs, outs)

    def infer_shape(self, fgraph, node, shapes):
        t, n, g = shapes[0]
        state = (t, n, shapes[2][0])
        return [state, state, (t, n, g), state]

    def perform(self, node, inputs, outputs):
        (z, b, hh, h0, c0), peep, valid = self._split(inputs, 5)
        nt, nb, ng = z.shape
        nh = ng // 4
        _check_optional(peep, valid, nt, nb, nh)
        peep = np.zeros((3, nh), z.dtype) if peep is None else peep
        hs = np.empty((nt, nb, nh), z.dtype)
        cs, tcs = np.empty_like(hs), np.empty_like(hs)
        gs = np.empty_like(z)
        h, c = h0, c0
        for t in range(nt):
            a = z[t] + b + h @ hh
            i = _sigmoid(a[:, :nh] + c * peep[0])
            f = _sigmoid(a[:, nh:2 * nh] + c * peep[1])
            g = _tanh(a[:, 2 * nh:3 * nh])
            c_new = f * c + i * g
            o = _sigmoid(a[:, 3 * nh:] + c_new * peep[2])
            tc = _tanh(c_new)
            h_new = o * tc
            if valid is not None:
                keep = valid[t][:, None] != 0
                h_new = np.where(keep, h_new, h)
                c_new = np.where(keep, c_new, c)
                tc = np.where(keep, tc, 0)
            gs[t] = np.concatenate([i, f, g, o], axis=1)
            hs[t], cs[t], tcs[t] = h_new, c_new, tc
            h, c = h_new, c_new
        for slot, value in zip(outputs, (hs, cs, gs, tcs)):
            slot[0] = value

    def c_code(self, node, name, inp, out, sub):
        prologue, release, _ = self._c_prologue(node, inp, sub, 5)
        hs, cs, gs, tcs = out
        fail = sub['fail']
        return f"""
        {{
        {prologue}
        npy_intp* zd = PyArray_DIMS(in0);
        npy_intp nt = zd[0], nb = zd[1], ng = zd[2], nh = ng / 4;
        int typenum = PyArray_TYPE(in0);
        npy_intp sd[3] = {{nt, nb, nh}};
        int ok = 1;
        if (ng != 4 * nh || PyArray_DIMS(in1)[0] != ng ||
                PyArray_DIMS(in2)[0] != nh || PyArray_DIMS(in2)[1] != ng ||
                PyArray_DIMS(in3)[0] != nb || PyArray_DIMS(in3)[1] != nh ||
                PyArray_DIMS(in4)[0] != nb || PyArray_DIMS(in4)[1] != nh) {{
            PyErr_Format(PyExc_ValueError,
                "LSTMLoop: inconsistent shapes z (%ld, %ld, %ld), b (%ld,), "
                "hh (%ld, %ld), h0 (%ld, %ld), c0 (%ld, %ld)", (long)nt,
                (long)nb, (long)ng, (long)PyArray_DIMS(in1)[0],
                (long)PyArray_DIMS(in2)[0], (long)PyArray_DIMS(in2)[1],
                (long)PyArray_DIMS(in3)[0], (long)PyArray_DIMS(in3)[1],
                (long)PyArray_DIMS(in4)[0], (long)PyArray_DIMS(in4)[1]);
            ok = 0;
        }}
        {self._c_check_optional(5)}
        if (ok && !(th_output(&{hs}, 3, sd, typenum) &&
                    th_output(&{cs}, 3, sd, typenum) &&
                    th_output(&{gs}, 3, zd, typenum) &&
                    th_output(&{tcs}, 3, sd, typenum)))
            ok = 0;
        if (ok && nt > 0 && nb > 0 && nh > 0 &&
                !th_lstm_fwd<th_t>((int)nt, (int)nb, (int)nh,
                (th_t*)PyArray_DATA(in0), (th_t*)PyArray_DATA(in1),
                (th_t*)PyArray_DATA(in2), (th_t*)PyArray_DATA(in3),
                (th_t*)PyArray_DATA(in4), th_peep, th_valid,
                (th_t*)PyArray_DATA({hs}), (th_t*)PyArray_DATA({cs}),
                (th_t*)PyArray_DATA({gs}), (th_t*)PyArray_DATA({tcs}))) {{
            PyErr_NoMemory();
            ok = 0;
        }}
        {release}
        if (!ok) {fail}
        }}
        """

    def connection_pattern(self, node):
        # h and c depend on every input but the validity mask (data); the
        # saved gates are for the gradient only (no gradient of their own).
        pattern = [[True, True, False, False] for _ in node.inputs]
        if self.masked:
            pattern[-1] = [False] * 4
        return pattern

    def pullback(self, inputs, outputs, output_grads):
        (z, b, hh, h0, c0), peep, valid = self._split(inputs, 5)
        hs, cs, gs, tcs = outputs
        dh, dc = (TT.zeros_like(v) if isinstance(g.type, DisconnectedType)
                  else g for g, v in zip(output_grads[:2], (hs, cs)))
        for g in output_grads[2:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError(
                    'LSTMLoop: the saved gates have no gradient')
        grad = LSTMLoopGrad(self.peepholes, self.masked)
        extra = [v for v in (peep, valid) if v is not None]
        dz, db, dh0, dc0, *dpeep = grad(
            hh, h0, c0, *extra, cs, gs, tcs, dh, dc)
        # hh's gradient: one product over all steps, outside the loop.
        nh = hh.shape[0]
        prev = TT.concatenate([h0[None], hs[:-1]], axis=0)
        dhh = TT.dot(prev.reshape((-1, nh)).T, dz.reshape((-1, 4 * nh)))
        out = [dz, db, dhh, dh0, dc0]
        if peep is not None:
            out.append(dpeep[0])
        if valid is not None:
            out.append(DisconnectedType()())
        return out


class LSTMLoopGrad(_LSTMBase):
    """The backward recurrence of :class:`LSTMLoop`.

    Inputs ``hh``, ``h0``, ``c0``, [``peep``], [``valid``], the forward
    outputs ``c``, gates and ``tanh(c)``, and the gradients ``dh``, ``dc``
    of the outputs ``h`` and ``c``. Outputs the gradients of ``z``, ``b``,
    ``h0``, ``c0`` [and ``peep``]; that of ``hh`` is a product the caller
    forms.
    """

    def make_node(self, hh, h0, c0, *rest):
        hh = TT.as_tensor_variable(hh)
        dtype = hh.dtype
        count = int(self.peepholes) + int(self.masked)
        if len(rest) != count + 5:
            raise TypeError(f'LSTMLoopGrad takes {count + 8} inputs')
        inputs = [hh] + [TT.as_tensor_variable(v).astype(dtype)
                         for v in (h0, c0, *rest)]
        gs = inputs[3 + count + 1]
        outs = [TensorType(dtype, shape=gs.type.shape)(),
                TensorType(dtype, shape=(hh.type.shape[1],))(),
                inputs[1].type(), inputs[2].type()]
        if self.peepholes:
            outs.append(TensorType(dtype, shape=(3, hh.type.shape[0]))())
        return Apply(self, inputs, outs)

    def infer_shape(self, fgraph, node, shapes):
        out = [shapes[3 + int(self.peepholes) + int(self.masked) + 1],
               (shapes[0][1],), shapes[1], shapes[2]]
        if self.peepholes:
            out.append((3, shapes[0][0]))
        return out

    def perform(self, node, inputs, outputs):
        (hh, h0, c0), peep, valid = self._split(inputs, 3)
        cs, gs, tcs, dh, dc = inputs[-5:]
        nt, nb, nh = cs.shape
        _check_optional(peep, valid, nt, nb, nh)
        p = np.zeros((3, nh), hh.dtype) if peep is None else peep
        dz = np.empty_like(gs)
        dp = np.zeros((3, nh), hh.dtype)
        hc, cc = np.zeros_like(h0), np.zeros_like(c0)
        for t in range(nt - 1, -1, -1):
            cp = cs[t - 1] if t else c0
            Dh, Dc = dh[t] + hc, dc[t] + cc
            i, f, g, o = (gs[t][:, k * nh:(k + 1) * nh] for k in range(4))
            tc = tcs[t]
            dao = Dh * tc * o * (1 - o)
            dcn = Dc + Dh * o * (1 - tc * tc) + dao * p[2]
            dai = dcn * g * i * (1 - i)
            daf = dcn * cp * f * (1 - f)
            dag = dcn * i * (1 - g * g)
            da = np.concatenate([dai, daf, dag, dao], axis=1)
            dcp = dcn * f + dai * p[0] + daf * p[1]
            if valid is not None:
                keep = valid[t][:, None] != 0
                da = np.where(keep, da, 0)
                dai, daf, dao = (np.where(keep, v, 0) for v in (dai, daf, dao))
                dcp = np.where(keep, dcp, Dc)
                hc = np.where(keep, da @ hh.T, Dh)
            else:
                hc = da @ hh.T
            dp += np.stack([(dai * cp).sum(0), (daf * cp).sum(0),
                            (dao * cs[t]).sum(0)])
            cc = dcp
            dz[t] = da
        outputs[0][0] = dz
        outputs[1][0] = dz.sum(axis=(0, 1)).astype(dz.dtype)
        outputs[2][0] = hc.astype(h0.dtype)
        outputs[3][0] = cc.astype(c0.dtype)
        if self.peepholes:
            outputs[4][0] = dp

    def c_code(self, node, name, inp, out, sub):
        prologue, release, count = self._c_prologue(node, inp, sub, 3)
        cs, gs, tcs, dh, dc = (f'in{k}' for k in range(count - 5, count))
        dz, db, dh0, dc0 = out[:4]
        dp = out[4] if self.peepholes else None
        fail = sub['fail']
        peep_out = f'th_output(&{dp}, 2, pd, typenum)' if dp else '1'
        dp_ptr = f'(th_t*)PyArray_DATA({dp})' if dp else 'NULL'
        return f"""
        {{
        {prologue}
        npy_intp* cd = PyArray_DIMS({cs});
        npy_intp nt = cd[0], nb = cd[1], nh = cd[2];
        int typenum = PyArray_TYPE(in0);
        npy_intp zd[3] = {{nt, nb, 4 * nh}};
        npy_intp gd[1] = {{4 * nh}};
        npy_intp bd[2] = {{nb, nh}};
        npy_intp pd[2] = {{3, nh}};
        th_t* scratch = NULL;
        int ok = 1;
        if (PyArray_DIMS(in0)[0] != nh || PyArray_DIMS(in0)[1] != 4 * nh ||
                PyArray_DIMS({gs})[0] != nt || PyArray_DIMS({gs})[1] != nb ||
                PyArray_DIMS({gs})[2] != 4 * nh ||
                PyArray_SIZE({tcs}) != nt * nb * nh ||
                PyArray_SIZE({dh}) != nt * nb * nh ||
                PyArray_SIZE({dc}) != nt * nb * nh ||
                PyArray_SIZE(in1) != nb * nh ||
                PyArray_SIZE(in2) != nb * nh) {{
            PyErr_SetString(PyExc_ValueError,
                            "LSTMLoopGrad: inconsistent shapes");
            ok = 0;
        }}
        {self._c_check_optional(3)}
        if (ok && !(th_output(&{dz}, 3, zd, typenum) &&
                    th_output(&{db}, 1, gd, typenum) &&
                    th_output(&{dh0}, 2, bd, typenum) &&
                    th_output(&{dc0}, 2, bd, typenum) && {peep_out}))
            ok = 0;
        if (ok) {{
            scratch = (th_t*)malloc(sizeof(th_t) * (nb * nh + 1));
            if (!scratch) {{ PyErr_NoMemory(); ok = 0; }}
        }}
        if (ok) {{
            th_t* dpp = {dp_ptr};
            if (nt > 0 && nb > 0 && nh > 0) {{
                if (!th_lstm_bwd<th_t>((int)nt, (int)nb, (int)nh,
                    (th_t*)PyArray_DATA(in0), (th_t*)PyArray_DATA(in2),
                    th_peep, th_valid,
                    (th_t*)PyArray_DATA({cs}), (th_t*)PyArray_DATA({gs}),
                    (th_t*)PyArray_DATA({tcs}), (th_t*)PyArray_DATA({dh}),
                    (th_t*)PyArray_DATA({dc}), (th_t*)PyArray_DATA({dz}),
                    (th_t*)PyArray_DATA({db}),
                    (th_t*)PyArray_DATA({dh0}), (th_t*)PyArray_DATA({dc0}),
                    dpp, scratch)) {{
                    PyErr_NoMemory();
                    ok = 0;
                }}
            }} else {{
                memset(PyArray_DATA({dz}), 0, PyArray_NBYTES({dz}));
                memset(PyArray_DATA({db}), 0, PyArray_NBYTES({db}));
                memset(PyArray_DATA({dh0}), 0, PyArray_NBYTES({dh0}));
                memset(PyArray_DATA({dc0}), 0, PyArray_NBYTES({dc0}));
                if (dpp)
                    memset(dpp, 0, sizeof(th_t) * 3 * nh);
            }}
        }}
        free(scratch);
        {release}
        if (!ok) {fail}
        }}
        """

    def pullback(self, inputs, outputs, output_grads):
        why = 'the LSTM loop has first derivatives only'
        return [grad_not_implemented(self, k, v, why)
                for k, v in enumerate(inputs)]


def lstm_loop(z, b, hh, h0, c0, peep=None, valid=None):
    """The fused LSTM recurrence: ``(h, c)``, each ``(time, n, size)``.

    Parameters
    ----------
    z : tensor (time, n, 4 size)
        Input projections ``x . xh`` of every step, gate blocks i, f, c, o
        (time-major).
    b : tensor (4 size,)
        Biases, added to ``z`` in the loop.
    hh : tensor (size, 4 size)
        Recurrent weights.
    h0, c0 : tensor (n, size)
        Initial states.
    peep : tensor (3, size), optional
        Peephole weights ``ci``, ``cf``, ``co`` as rows.
    valid : tensor (time, n), optional
        1 on real steps, 0 on padding (the states are carried through).
    """
    op = LSTMLoop(peepholes=peep is not None, masked=valid is not None)
    h, c, _, _ = op(z, b, hh, h0, c0, peep=peep, valid=valid)
    return h, c
