/* chainrule._fast._kernels: elementwise updates of the training hot path in one pass over memory.
 *
 * NumPy runs an update such as Adam's as a dozen separate passes over the parameter arrays
 * (m *= b1, m += (1 - b1) g, ...), each reading and writing whole arrays; here each element
 * goes through the same operations, in the same order and the same precision, in one loop.
 * The results are bit-identical to chainrule._fast.kernels' NumPy versions (no fused multiply-add:
 * built with -ffp-contract=off), which are used wherever this module was not built.
 *
 * Arrays come in through the buffer protocol (no NumPy headers): C-contiguous, all of one
 * length, format 'f' (float32) or 'd' (float64). Scalars come in as Python floats and are
 * rounded to the arrays' precision first, as NumPy does with a Python float (NEP 50).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SPIN_PAUSE() _mm_pause()
#else
#define SPIN_PAUSE() ((void)0)
#endif

typedef struct {
    Py_buffer view[4];
    int count;
} Buffers;

static void release(Buffers *b) {
    for (int i = 0; i < b->count; i++) PyBuffer_Release(&b->view[i]);
    b->count = 0;
}

/* Get n writable C-contiguous buffers of one format ('f' or 'd') and one length. */
static int acquire(Buffers *b, PyObject **objects, int n, char *format, Py_ssize_t *length) {
    b->count = 0;
    for (int i = 0; i < n; i++) {
        if (PyObject_GetBuffer(objects[i], &b->view[i],
                               PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
            release(b);
            return -1;
        }
        b->count++;
        const char *f = b->view[i].format ? b->view[i].format : "B";
        char kind = (f[0] == '<' || f[0] == '=' || f[0] == '@') ? f[1] : f[0];
        if ((kind != 'f' && kind != 'd') || (i > 0 && kind != *format)) {
            PyErr_SetString(PyExc_TypeError, "expected float32 or float64 arrays of one dtype");
            release(b);
            return -1;
        }
        Py_ssize_t items = b->view[i].len / b->view[i].itemsize;
        if (i > 0 && items != *length) {
            PyErr_SetString(PyExc_ValueError, "expected arrays of one length");
            release(b);
            return -1;
        }
        *format = kind;
        *length = items;
    }
    return 0;
}

/* Wider vector units where the CPU has them: GCC builds the function for AVX-512, AVX2 and the
 * x86-64 baseline and picks one when the module loads. The same IEEE operations per element
 * (sqrt and divide are correctly rounded at every width; no fused multiply-add is formed), so
 * the same bits: only the speed differs (Adam over N2's 79,510 float32 parameters, alone:
 * 83 -> 67 us; beyond that it waits for memory). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WIDE_VECTORS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDE_VECTORS
#endif

#define ADAM_FUNCTION(T, NAME, SQRT)                                                  \
    WIDE_VECTORS static void NAME(T *restrict p, const T *restrict g, T *restrict m,  \
                                  T *restrict v, Py_ssize_t n, double beta1,          \
                                  double one_minus_beta1, double beta2,               \
                                  double one_minus_beta2, double eps, double step_size) { \
        const T b1 = (T)beta1, c1 = (T)one_minus_beta1, b2 = (T)beta2;                \
        const T c2 = (T)one_minus_beta2, e = (T)eps, s = (T)step_size;                \
        for (Py_ssize_t i = 0; i < n; i++) {                                          \
            const T gi = g[i];                                                        \
            const T mi = m[i] * b1 + gi * c1;                                         \
            const T vi = v[i] * b2 + (gi * gi) * c2;                                  \
            m[i] = mi;                                                                \
            v[i] = vi;                                                                \
            p[i] -= (mi / (SQRT(vi) + e)) * s;                                        \
        }                                                                             \
    }
ADAM_FUNCTION(float, adam_float, sqrtf)
ADAM_FUNCTION(double, adam_double, sqrt)

static PyObject *adam(PyObject *self, PyObject *args) {
    PyObject *objects[4];
    double beta1, one_minus_beta1, beta2, one_minus_beta2, eps, step_size;
    if (!PyArg_ParseTuple(args, "OOOOdddddd", &objects[0], &objects[1], &objects[2],
                          &objects[3], &beta1, &one_minus_beta1, &beta2, &one_minus_beta2,
                          &eps, &step_size))
        return NULL;
    Buffers b;
    char format = 0;
    Py_ssize_t n = 0;
    if (acquire(&b, objects, 4, &format, &n) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (format == 'f')
        adam_float(b.view[0].buf, b.view[1].buf, b.view[2].buf, b.view[3].buf, n, beta1,
                   one_minus_beta1, beta2, one_minus_beta2, eps, step_size);
    else
        adam_double(b.view[0].buf, b.view[1].buf, b.view[2].buf, b.view[3].buf, n, beta1,
                    one_minus_beta1, beta2, one_minus_beta2, eps, step_size);
    Py_END_ALLOW_THREADS
    release(&b);
    Py_RETURN_NONE;
}

/* NumPy's pairwise sum of n elements a[0], a[stride], ... (its add.reduce along an axis it walks
 * in one loop, which for an (m, 1) array's axis 0 is the whole column): blocks of 128 split in
 * two, 8 partial sums within a block, combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)). */
#define PAIRWISE(T, NAME)                                                             \
    static T NAME(const T *a, Py_ssize_t n, Py_ssize_t stride) {                      \
        if (n < 8) {                                                                  \
            T res = 0;                                                                \
            for (Py_ssize_t i = 0; i < n; i++) res += a[i * stride];                  \
            return res;                                                               \
        }                                                                             \
        if (n <= 128) {                                                               \
            T r[8];                                                                   \
            Py_ssize_t i;                                                             \
            for (int j = 0; j < 8; j++) r[j] = a[j * stride];                         \
            for (i = 8; i < n - (n % 8); i += 8)                                      \
                for (int j = 0; j < 8; j++) r[j] += a[(i + j) * stride];              \
            T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
            for (; i < n; i++) res += a[i * stride];                                  \
            return res;                                                               \
        }                                                                             \
        Py_ssize_t n2 = n / 2;                                                        \
        n2 -= n2 % 8;                                                                 \
        return NAME(a, n2, stride) + NAME(a + n2 * stride, n - n2, stride);           \
    }
PAIRWISE(float, pairwise_float)
PAIRWISE(double, pairwise_double)
#define PAIRWISE_OF(T) _Generic((T)0, float: pairwise_float, double: pairwise_double)

/* The column sums of g (rows x n) as NumPy's add.reduce(g, axis=0) adds them: 0 + row 0 + row 1
 * + ... column by column, or for a single column its pairwise sum. */
#define COLUMN_SUMS(T, g, rows, n, s)                                                 \
    do {                                                                              \
        if ((n) == 1) {                                                               \
            (s)[0] = (T)0 + PAIRWISE_OF(T)((g), (rows), 1);                           \
        } else {                                                                      \
            for (Py_ssize_t j = 0; j < (n); j++) (s)[j] = (T)0 + (g)[j];              \
            for (Py_ssize_t i = 1; i < (rows); i++)                                   \
                for (Py_ssize_t j = 0; j < (n); j++) (s)[j] += (g)[i * (n) + j];      \
        }                                                                             \
    } while (0)

#define RELU_LOOP(T)                                                                  \
    do {                                                                              \
        T *g = b.view[0].buf, *s = b.view[2].buf;                                     \
        const T *a = b.view[1].buf;                                                   \
        for (Py_ssize_t i = 0; i < rows; i++) {                                       \
            T *gi = g + i * n;                                                        \
            const T *ai = a + i * n;                                                  \
            for (Py_ssize_t j = 0; j < n; j++) gi[j] = gi[j] * (ai[j] > 0 ? (T)1 : (T)0); \
            if (n == 1)                                                               \
                continue;                                                             \
            if (i == 0)                                                               \
                for (Py_ssize_t j = 0; j < n; j++) s[j] = (T)0 + gi[j];               \
            else                                                                      \
                for (Py_ssize_t j = 0; j < n; j++) s[j] += gi[j];                     \
        }                                                                             \
        if (n == 1) COLUMN_SUMS(T, g, rows, n, s);                                    \
    } while (0)

static PyObject *relu_backward(PyObject *self, PyObject *args) {
    PyObject *objects[3];
    if (!PyArg_ParseTuple(args, "OOO", &objects[0], &objects[1], &objects[2])) return NULL;
    Buffers b;
    char format = 0;
    Py_ssize_t total = 0;
    if (acquire(&b, objects, 2, &format, &total) < 0) return NULL;
    if (PyObject_GetBuffer(objects[2], &b.view[2],
                           PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        release(&b);
        return NULL;
    }
    b.count = 3;
    Py_ssize_t n = b.view[2].len / b.view[2].itemsize;
    if (b.view[2].itemsize != b.view[0].itemsize || n == 0 || total % n != 0) {
        PyErr_SetString(PyExc_ValueError, "expected sums of one row's length and dtype");
        release(&b);
        return NULL;
    }
    Py_ssize_t rows = total / n;
    Py_BEGIN_ALLOW_THREADS
    if (format == 'f')
        RELU_LOOP(float);
    else
        RELU_LOOP(double);
    Py_END_ALLOW_THREADS
    release(&b);
    Py_RETURN_NONE;
}


/* ---------------------------------------------------------------------------------------------
 * network_step: one mini-batch of a Network (forward, BP1-BP4 and the update folded into BP4's
 * product) in one call, operation for operation what chainrule.nn._fused computes in NumPy.
 *
 * The products are BLAS's ?gemm (chainrule._fast.blas.library: NumPy's OpenBLAS through the
 * addresses of its routines, else SciPy's through scipy.linalg.cython_blas's capsules, handed
 * over once by setup()), called with the arguments chainrule._fast.blas.gemm passes it: the
 * same routine, layout, transposes and leading dimensions, so the same bits. The transcendental functions (tanh, exp) and softmax's
 * row sums are NumPy's own ufuncs, called on the scratch arrays, so they round as NumPy does;
 * every other operation is one IEEE multiply, add, subtract, divide or compare per element, in
 * NumPy's order (column sums as COLUMN_SUMS: NumPy's order of adding).
 * ------------------------------------------------------------------------------------------- */
typedef void (*sgemm_fn)(char *, char *, int *, int *, int *, float *, float *, int *, float *,
                         int *, float *, float *, int *);
typedef void (*dgemm_fn)(char *, char *, int *, int *, int *, double *, double *, int *,
                         double *, int *, double *, double *, int *);
typedef void (*saxpy_fn)(int *, float *, float *, int *, float *, int *);
typedef void (*daxpy_fn)(int *, double *, double *, int *, double *, int *);
/* the same routines of a BLAS built with 64-bit integers (NumPy's OpenBLAS) */
typedef long long I64;
typedef void (*sgemm64_fn)(char *, char *, I64 *, I64 *, I64 *, float *, float *, I64 *,
                           float *, I64 *, float *, float *, I64 *);
typedef void (*dgemm64_fn)(char *, char *, I64 *, I64 *, I64 *, double *, double *, I64 *,
                           double *, I64 *, double *, double *, I64 *);
typedef void (*saxpy64_fn)(I64 *, float *, float *, I64 *, float *, I64 *);
typedef void (*daxpy64_fn)(I64 *, double *, double *, I64 *, double *, I64 *);
static void *sgemm_ptr = NULL, *dgemm_ptr = NULL, *saxpy_ptr = NULL, *daxpy_ptr = NULL;
static int ilp64 = 0;
static PyObject *tanh_ufunc = NULL, *exp_ufunc = NULL, *add_reduce = NULL;

/* A routine: a capsule of scipy.linalg.cython_blas, or its address as an integer (ctypes). */
static void *routine_pointer(PyObject *routine) {
    if (PyLong_Check(routine)) {
        void *p = PyLong_AsVoidPtr(routine);
        if (!p && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a null routine");
        return p;
    }
    if (!PyCapsule_CheckExact(routine)) {
        PyErr_SetString(PyExc_TypeError, "expected a capsule of scipy.linalg.cython_blas or "
                                         "a routine's address");
        return NULL;
    }
    return PyCapsule_GetPointer(routine, PyCapsule_GetName(routine));
}

static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *s, *d, *sa, *da, *t, *e, *r;
    int wide;
    if (!PyArg_ParseTuple(args, "OOOOpOOO", &s, &d, &sa, &da, &wide, &t, &e, &r)) return NULL;
    void *sp = routine_pointer(s), *dp = sp ? routine_pointer(d) : NULL;
    void *sap = dp ? routine_pointer(sa) : NULL, *dap = sap ? routine_pointer(da) : NULL;
    if (!dap) return NULL;
    sgemm_ptr = sp;
    dgemm_ptr = dp;
    saxpy_ptr = sap;
    daxpy_ptr = dap;
    ilp64 = wide;
    Py_XSETREF(tanh_ufunc, Py_NewRef(t));
    Py_XSETREF(exp_ufunc, Py_NewRef(e));
    Py_XSETREF(add_reduce, Py_NewRef(r));
    Py_RETURN_NONE;
}

/* A matrix operand: element (i, j) is data[i*ld + j], or with t data[j*ld + i] (the transpose
 * view of a C-ordered array); ld is the row length of the array it is part of. */
typedef struct { void *data; int rows, cols, t, ld; } Mat;
static Mat mat(void *data, Py_ssize_t rows, Py_ssize_t cols) {
    Mat M = {data, (int)rows, (int)cols, 0, (int)cols};
    return M;
}
static Mat tr(Mat M) {
    Mat T = {M.data, M.cols, M.rows, !M.t, M.ld};
    return T;
}
/* Rows lo..hi-1 or columns lo..hi-1 of M, elements of `size` bytes. */
static Mat rows_of(Mat M, int lo, int hi, size_t size) {
    M.data = (char *)M.data + (size_t)lo * (M.t ? 1 : (size_t)M.ld) * size;
    M.rows = hi - lo;
    return M;
}
static Mat cols_of(Mat M, int lo, int hi, size_t size) {
    M.data = (char *)M.data + (size_t)lo * (M.t ? (size_t)M.ld : 1) * size;
    M.cols = hi - lo;
    return M;
}
/* The column-major matrix P the BLAS reads, with op(P) = M, as blas._fortran hands it to f2py:
 * a transpose view (or a vector, which NumPy calls F-contiguous) as itself, a C-ordered matrix
 * as the transpose of P. */
typedef struct { void *data; int rows, cols, trans, ld; } Fortran;
static Fortran fortran(Mat M) {
    Fortran F = {M.data, M.rows, M.cols, 0, M.t ? M.ld : (M.rows > 1 ? M.rows : 1)};
    if (!M.t && M.rows > 1 && (M.cols > 1 || M.ld > 1)) {
        F.rows = M.cols; F.cols = M.rows; F.trans = 1; F.ld = M.ld;
    }
    return F;
}

/* C <- alpha A B + beta C for a C-ordered block C: C^T = B^T A^T in column-major, as
 * blas.gemm calls f2py. */
static void gemm_block(int precision, double alpha, Mat A, Mat B, double beta, Mat C) {
    Fortran a = fortran(tr(B)), b = fortran(tr(A));
    char ta = a.trans ? 'T' : 'N', tb = b.trans ? 'T' : 'N';
    int m = a.trans ? a.cols : a.rows, k = a.trans ? a.rows : a.cols;
    int n = b.trans ? b.rows : b.cols;
    int lda = a.ld, ldb = b.ld, ldc = C.ld;
    float al = (float)alpha, be = (float)beta;
    if (ilp64) {
        I64 m8 = m, n8 = n, k8 = k, lda8 = lda, ldb8 = ldb, ldc8 = ldc;
        if (precision == 'f')
            ((sgemm64_fn)sgemm_ptr)(&ta, &tb, &m8, &n8, &k8, &al, a.data, &lda8, b.data, &ldb8,
                                    &be, C.data, &ldc8);
        else
            ((dgemm64_fn)dgemm_ptr)(&ta, &tb, &m8, &n8, &k8, &alpha, a.data, &lda8, b.data,
                                    &ldb8, &beta, C.data, &ldc8);
    } else if (precision == 'f') {
        ((sgemm_fn)sgemm_ptr)(&ta, &tb, &m, &n, &k, &al, a.data, &lda, b.data, &ldb, &be, C.data,
                              &ldc);
    } else {
        ((dgemm_fn)dgemm_ptr)(&ta, &tb, &m, &n, &k, &alpha, a.data, &lda, b.data, &ldb, &beta,
                              C.data, &ldc);
    }
}

/* ---------------------------------------------------------------------------------------------
 * A product in pieces, shared by threads.
 *
 * BLAS rounds a product differently when it is cut differently, and OpenBLAS cuts it by its
 * thread count; so every product here runs on one BLAS thread, cut into pieces that depend on
 * its shape only (blas.plan: along C's rows or columns, the larger of the two, at most
 * MAX_PIECES, each of about PIECE_MACS multiply-adds or more, a multiple of ALIGN wide but the
 * last, which takes the rest). The threads of the pool take the pieces in turn, the calling
 * thread too, as each becomes free: with another process on a core, a thread that is not
 * running simply takes fewer pieces, and the result is the same bits whoever computes which
 * piece, and however many threads there are.
 * ------------------------------------------------------------------------------------------- */
#define MAX_PIECES 4
#define PIECE_MACS (1LL << 22)
#define ALIGN 16
#define MAX_THREADS 16

typedef struct {
    int precision, by_rows, piece, count;
    double alpha, beta;
    Mat A, B, C;
} Product;

static void plan(Product *p) {
    const long long R = p->C.rows, Cc = p->C.cols, K = p->A.cols;
    const long long dim = R >= Cc ? R : Cc;
    long long count = R * Cc > LLONG_MAX / K ? MAX_PIECES : R * Cc * K / PIECE_MACS;
    if (count > MAX_PIECES) count = MAX_PIECES;
    if (count > dim / ALIGN) count = dim / ALIGN;
    p->by_rows = R >= Cc;
    if (count < 2) {
        p->piece = (int)dim;
        p->count = 1;
        return;
    }
    p->piece = (int)(dim / count / ALIGN * ALIGN);   /* the last piece takes the rest */
    p->count = (int)count;
}

static void run_piece(const Product *p, int i) {
    const size_t size = p->precision == 'f' ? sizeof(float) : sizeof(double);
    Mat A = p->A, B = p->B, C = p->C;
    const int lo = i * p->piece, end = p->by_rows ? C.rows : C.cols;
    const int hi = i == p->count - 1 ? end : lo + p->piece;
    if (p->count > 1 && p->by_rows) {
        A = rows_of(A, lo, hi, size);
        C = rows_of(C, lo, hi, size);
    } else if (p->count > 1) {
        B = cols_of(B, lo, hi, size);
        C = cols_of(C, lo, hi, size);
    }
    gemm_block(p->precision, p->alpha, A, B, p->beta, C);
}

/* A job for the pool: `count` pieces, piece i done by run(arg, i). */
typedef struct {
    int count;
    void (*run)(const void *arg, int i);
    const void *arg;
} Job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int threads, started;            /* threads to use (the caller's one included), running */
    const Job *job;                  /* the job being shared, NULL between jobs */
    atomic_ulong generation;         /* counts the jobs shared, so a worker sees a new one */
    atomic_int next, done, inside;   /* the next piece to take, pieces done, workers in a job */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0, NULL};

static void take_pieces(const Job *job) {
    for (;;) {
        const int i = atomic_fetch_add(&pool.next, 1);
        if (i >= job->count) return;
        job->run(job->arg, i);
        atomic_fetch_add(&pool.done, 1);
    }
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define SPIN_SECONDS 100e-6   /* how long a worker looks for the next job before sleeping */

static void *worker(void *unused) {
    (void)unused;
    unsigned long seen = atomic_load(&pool.generation);
    for (;;) {
        /* a step's products come microseconds apart: look for the next a while, then sleep */
        const double until = seconds() + SPIN_SECONDS;
        for (int spin = 1; atomic_load(&pool.generation) == seen; spin++) {
            SPIN_PAUSE();
            if (spin % 64 == 0 && seconds() > until) break;
        }
        pthread_mutex_lock(&pool.lock);
        while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
        seen = atomic_load(&pool.generation);
        const Job *job = pool.job;
        if (job) atomic_fetch_add(&pool.inside, 1);
        pthread_mutex_unlock(&pool.lock);
        if (job) {
            take_pieces(job);
            atomic_fetch_sub(&pool.inside, 1);
        }
    }
    return NULL;
}

static void forget_workers(void) {     /* in a forked child: the workers did not come along */
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pool.started = 0;
    pool.job = NULL;
    atomic_store(&pool.inside, 0);
}

static void start_workers(void) {
    static int registered = 0;
    if (!registered) {
        pthread_atfork(NULL, NULL, forget_workers);
        registered = 1;
    }
    while (pool.started < pool.threads - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attr, worker, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;              /* fewer threads: the same pieces, the same bits */
        pool.started++;
    }
}

/* Every piece of `job` done, by this thread and the pool's as they come free. A job another
 * thread shares at the same time (two trainings in one process) runs its pieces alone. */
static void share(const Job *job) {
    static atomic_flag busy = ATOMIC_FLAG_INIT;    /* another thread is sharing a job */
    if (job->count == 1 || pool.threads <= 1 || pool.started == 0
            || atomic_flag_test_and_set(&busy)) {
        for (int i = 0; i < job->count; i++) job->run(job->arg, i);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    atomic_store(&pool.next, 0);
    atomic_store(&pool.done, 0);
    pool.job = job;
    atomic_fetch_add(&pool.generation, 1);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    take_pieces(job);
    while (atomic_load(&pool.done) < job->count) sched_yield();   /* pieces others took */
    pthread_mutex_lock(&pool.lock);
    pool.job = NULL;                                /* no worker joins it now */
    pthread_mutex_unlock(&pool.lock);
    while (atomic_load(&pool.inside) > 0) SPIN_PAUSE();   /* those inside find no piece left */
    atomic_flag_clear(&busy);
}

static void run_product(const void *arg, int i) { run_piece(arg, i); }

/* C <- alpha A B + beta C (C C-ordered), in its pieces, on the pool's threads. */
static void product(int precision, double alpha, Mat A, Mat B, double beta, Mat C) {
    Product p = {precision, 0, 0, 0, alpha, beta, A, B, C};
    plan(&p);
    const Job job = {p.count, run_product, &p};
    share(&job);
}

/* Adam's step (adam_float, adam_double) over pieces of ADAM_PIECE elements on the pool's
 * threads: element by element the same operations, so the same bits however it is cut. */
#define ADAM_PIECE ((Py_ssize_t)1 << 14)
#define SHARED_ADAM(T, NAME, ONE)                                                     \
    typedef struct {                                                                  \
        T *p; const T *g; T *m, *v;                                                   \
        Py_ssize_t n;                                                                 \
        double b1, c1, b2, c2, eps, step;                                             \
    } NAME##_job;                                                                     \
    static void NAME##_piece(const void *arg, int i) {                                \
        const NAME##_job *a = arg;                                                    \
        const Py_ssize_t lo = (Py_ssize_t)i * ADAM_PIECE;                             \
        const Py_ssize_t len = a->n - lo < ADAM_PIECE ? a->n - lo : ADAM_PIECE;       \
        ONE(a->p + lo, a->g + lo, a->m + lo, a->v + lo, len, a->b1, a->c1, a->b2, a->c2, \
            a->eps, a->step);                                                         \
    }                                                                                 \
    static void NAME(T *p, const T *g, T *m, T *v, Py_ssize_t n, double b1, double c1, \
                     double b2, double c2, double eps, double step) {                 \
        const NAME##_job a = {p, g, m, v, n, b1, c1, b2, c2, eps, step};              \
        const Job job = {(int)((n + ADAM_PIECE - 1) / ADAM_PIECE), NAME##_piece, &a}; \
        share(&job);                                                                  \
    }
SHARED_ADAM(float, adam_shared_float, adam_float)
SHARED_ADAM(double, adam_shared_double, adam_double)

static void sgemm_rm(double alpha, Mat A, Mat B, double beta, Mat C) {
    Py_BEGIN_ALLOW_THREADS   /* the arrays are held (buffer protocol) until the step ends */
    product('f', alpha, A, B, beta, C);
    Py_END_ALLOW_THREADS
}
static void dgemm_rm(double alpha, Mat A, Mat B, double beta, Mat C) {
    Py_BEGIN_ALLOW_THREADS
    product('d', alpha, A, B, beta, C);
    Py_END_ALLOW_THREADS
}

static PyObject *set_threads(PyObject *self, PyObject *args) {
    int threads;
    if (!PyArg_ParseTuple(args, "i", &threads)) return NULL;
    const int previous = pool.threads;
    pool.threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    start_workers();
    return PyLong_FromLong(previous);
}

static PyObject *product_plan(PyObject *self, PyObject *args) {
    int rows, cols, k;
    if (!PyArg_ParseTuple(args, "iii", &rows, &cols, &k)) return NULL;
    Product p = {'f', 0, 0, 0, 1.0, 0.0, mat(NULL, rows, k), mat(NULL, k, cols),
                 mat(NULL, rows, cols)};
    plan(&p);
    return Py_BuildValue("(Oii)", p.by_rows ? Py_True : Py_False, p.piece, p.count);
}

enum { ACT_IDENTITY, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_SOFTMAX };
enum { COST_QUADRATIC, COST_FUSED };   /* fused: delta^L = a - y (sigmoid + cross-entropy,
                                          softmax + log-likelihood) */

#define MAX_LAYERS 32
typedef struct {
    int L, m, sizes[MAX_LAYERS + 1], hidden, output, cost, inplace[MAX_LAYERS];
    double scale, keep, decay;
    void *W[MAX_LAYERS], *b[MAX_LAYERS], *out[2 * MAX_LAYERS], *act[MAX_LAYERS];
    void *delta[MAX_LAYERS], *sums[MAX_LAYERS], *X, *Y, *rowsums;
    PyObject *act_obj[MAX_LAYERS], *rowsums_obj;
    int adam;                        /* Adam's step on each parameter once its gradient is in */
    void *adam_m[2 * MAX_LAYERS], *adam_v[2 * MAX_LAYERS];
    double beta1, one_minus_beta1, beta2, one_minus_beta2, eps, step_size;
} Step;

static int call_ufunc(PyObject *f, PyObject *x, PyObject *out) {
    PyObject *r = PyObject_CallFunctionObjArgs(f, x, out, NULL);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* The step for one precision: T the element type, GEMM its product. */
#define STEP_BODY(T, GEMM, ADAM)                                                                  \
    const int L = s->L, m = s->m;                                                           \
    for (int l = 0; l < L; l++) {                      /* forward, into the scratch */      \
        const int n = s->sizes[l + 1], n_in = s->sizes[l];                                  \
        T *z = s->act[l];                                                                   \
        const T *b = s->b[l];                                                               \
        for (int i = 0; i < m; i++) memcpy(z + (Py_ssize_t)i * n, b, n * sizeof(T));        \
        GEMM(1.0, mat(l ? s->act[l - 1] : s->X, m, n_in), tr(mat(s->W[l], n, n_in)), 1.0,  \
             mat(z, m, n));                                                                 \
        const Py_ssize_t size = (Py_ssize_t)m * n;                                          \
        switch (l == L - 1 ? s->output : s->hidden) {                                       \
        case ACT_SIGMOID:                              /* (1 + tanh(z/2)) / 2 */            \
            for (Py_ssize_t i = 0; i < size; i++) z[i] = z[i] * (T)0.5;                     \
            if (call_ufunc(tanh_ufunc, s->act_obj[l], s->act_obj[l]) < 0) return -1;        \
            for (Py_ssize_t i = 0; i < size; i++) z[i] = z[i] * (T)0.5;                     \
            for (Py_ssize_t i = 0; i < size; i++) z[i] = z[i] + (T)0.5;                     \
            break;                                                                          \
        case ACT_TANH:                                                                      \
            if (call_ufunc(tanh_ufunc, s->act_obj[l], s->act_obj[l]) < 0) return -1;        \
            break;                                                                          \
        case ACT_RELU:                                 /* np.maximum(z, 0) */               \
            for (Py_ssize_t i = 0; i < size; i++) z[i] = (z[i] > 0 || z[i] != z[i]) ? z[i] : (T)0; \
            break;                                                                          \
        case ACT_SOFTMAX: {                            /* e^(z - max z) / Σ e^(z - max z) */ \
            for (int i = 0; i < m; i++) {                                                   \
                T *row = z + (Py_ssize_t)i * n, top = row[0];                               \
                for (int j = 1; j < n; j++)                                                 \
                    if (row[j] > top || row[j] != row[j]) top = (top != top) ? top : row[j]; \
                for (int j = 0; j < n; j++) row[j] = row[j] - top;                          \
            }                                                                               \
            if (call_ufunc(exp_ufunc, s->act_obj[l], s->act_obj[l]) < 0) return -1;         \
            PyObject *r = PyObject_CallFunction(add_reduce, "OiOO", s->act_obj[l], 1,       \
                                                Py_None, s->rowsums_obj);                   \
            if (!r) return -1;                                                              \
            Py_DECREF(r);                                                                   \
            const T *total = s->rowsums;                                                    \
            for (int i = 0; i < m; i++)                                                     \
                for (int j = 0; j < n; j++) z[(Py_ssize_t)i * n + j] /= total[i];           \
            break;                                                                          \
        }                                                                                   \
        default:                                                                            \
            break;                                                                          \
        }                                                                                   \
    }                                                                                       \
    {                                                  /* BP1 */                            \
        const int n = s->sizes[L];                                                          \
        const Py_ssize_t size = (Py_ssize_t)m * n;                                          \
        T *d = s->delta[L - 1];                                                             \
        const T *a = s->act[L - 1], *y = s->Y;                                              \
        for (Py_ssize_t i = 0; i < size; i++) d[i] = a[i] - y[i];                           \
        if (s->cost == COST_QUADRATIC) { /* ∇_a C ⊙ σ'(z^L), σ' from a */                   \
            switch (s->output) {                                                            \
            case ACT_SIGMOID:                                                               \
                for (Py_ssize_t i = 0; i < size; i++) {                                     \
                    const T ga = d[i] * a[i];                                               \
                    d[i] = ga - ga * a[i];                                                  \
                }                                                                           \
                break;                                                                      \
            case ACT_TANH:                                                                  \
                for (Py_ssize_t i = 0; i < size; i++) d[i] = d[i] - (d[i] * a[i]) * a[i];   \
                break;                                                                      \
            case ACT_RELU:                                                                  \
                for (Py_ssize_t i = 0; i < size; i++) d[i] = d[i] * (a[i] > 0 ? (T)1 : (T)0); \
                break;                                                                      \
            default:                                                                        \
                break;                                                                      \
            }                                                                               \
        }                                                                                   \
        const T inv_m = (T)(1.0 / m);                  /* the cost's 1/m */                 \
        for (Py_ssize_t i = 0; i < size; i++) d[i] = d[i] * inv_m;                          \
    }                                                                                       \
    T *total = NULL;                                                                        \
    for (int l = L - 1; l >= 0; l--) {                                                      \
        const int n = s->sizes[l + 1], n_in = s->sizes[l];                                  \
        T *d = s->delta[l], *W = s->W[l], *gW = s->out[2 * l], *gb = s->out[2 * l + 1];     \
        void *a_prev = l ? s->act[l - 1] : s->X;                                            \
        if (l)                                         /* BP2's product, W as it is */      \
            GEMM(1.0, mat(d, m, n), mat(W, n, n_in), 0.0, mat(s->delta[l - 1], m, n_in));   \
        if (s->inplace[l]) {                           /* BP4, the step inside it */        \
            GEMM(s->scale, tr(mat(d, m, n)), mat(a_prev, m, n_in),                          \
                 s->keep + s->scale * s->decay, mat(gW, n, n_in));                          \
        } else {                                                                            \
            GEMM(s->scale, tr(mat(d, m, n)), mat(a_prev, m, n_in), s->keep, mat(gW, n, n_in)); \
            if (s->decay) {                                                                 \
                const T c = (T)(s->scale * s->decay);                                       \
                const Py_ssize_t size = (Py_ssize_t)n * n_in;                               \
                for (Py_ssize_t i = 0; i < size; i++) gW[i] = gW[i] + c * W[i];             \
            }                                                                               \
        }                                                                                   \
        if (total == NULL) {                           /* BP3: Σ_rows δ, row after row */   \
            T *sum = (!s->keep && s->scale == 1.0) ? gb : s->sums[l];                       \
            COLUMN_SUMS(T, d, m, n, sum);                                                   \
            if (sum != gb) total = sum;                                                     \
        }                                                                                   \
        if (total != NULL) {                                                                \
            const T sc = (T)s->scale, kp = (T)s->keep;                                      \
            if (!s->keep) {                                                                 \
                for (int j = 0; j < n; j++) gb[j] = total[j] * sc;                          \
            } else {                                                                        \
                for (int j = 0; j < n; j++) total[j] = total[j] * sc;                       \
                if (s->keep != 1.0)                                                         \
                    for (int j = 0; j < n; j++) gb[j] = gb[j] * kp;                         \
                for (int j = 0; j < n; j++) gb[j] = gb[j] + total[j];                       \
            }                                                                               \
        }                                                                                   \
        if (s->adam) {                                 /* Adam on W^l, b^l (BP2 has used W^l) */ \
            ADAM(W, gW, s->adam_m[2 * l], s->adam_v[2 * l], (Py_ssize_t)n * n_in, s->beta1,           \
                 s->one_minus_beta1, s->beta2, s->one_minus_beta2, s->eps, s->step_size);   \
            ADAM(s->b[l], gb, s->adam_m[2 * l + 1], s->adam_v[2 * l + 1], n, s->beta1,                \
                 s->one_minus_beta1, s->beta2, s->one_minus_beta2, s->eps, s->step_size);   \
        }                                                                                   \
        if (l) {                                       /* BP2: ⊙ σ'(z^{l-1}), and its Σ */  \
            T *g = s->delta[l - 1], *sum = s->sums[l - 1];                                  \
            const T *a = a_prev;                                                            \
            for (int i = 0; i < m; i++) {                                                   \
                T *gi = g + (Py_ssize_t)i * n_in;                                           \
                const T *ai = a + (Py_ssize_t)i * n_in;                                     \
                switch (s->hidden) {                                                        \
                case ACT_SIGMOID:                                                           \
                    for (int j = 0; j < n_in; j++) {                                        \
                        const T ga = gi[j] * ai[j];                                         \
                        gi[j] = ga - ga * ai[j];                                            \
                    }                                                                       \
                    break;                                                                  \
                case ACT_TANH:                                                              \
                    for (int j = 0; j < n_in; j++) gi[j] = gi[j] - (gi[j] * ai[j]) * ai[j]; \
                    break;                                                                  \
                case ACT_RELU:                                                              \
                    for (int j = 0; j < n_in; j++) gi[j] = gi[j] * (ai[j] > 0 ? (T)1 : (T)0); \
                    break;                                                                  \
                default:                                                                    \
                    break;                                                                  \
                }                                                                           \
                if (n_in == 1)                                                              \
                    continue;                                                               \
                if (i == 0)                                                                 \
                    for (int j = 0; j < n_in; j++) sum[j] = (T)0 + gi[j];                   \
                else                                                                        \
                    for (int j = 0; j < n_in; j++) sum[j] += gi[j];                         \
            }                                                                               \
            if (n_in == 1) COLUMN_SUMS(T, g, m, n_in, sum);                                 \
            total = sum;                                                                    \
        }                                                                                   \
    }                                                                                       \
    return 0;

static int step_float(Step *s) { STEP_BODY(float, sgemm_rm, adam_shared_float) }
static int step_double(Step *s) { STEP_BODY(double, dgemm_rm, adam_shared_double) }

/* The buffers of one call: every array is held while the step runs. */
typedef struct {
    Py_buffer view[12 * MAX_LAYERS + 16];
    int count;
    char format;
} Held;

static void let_go(Held *h) {
    for (int i = 0; i < h->count; i++) PyBuffer_Release(&h->view[i]);
    h->count = 0;
}

/* The buffer of obj if it is a C-contiguous array (writable, with PyBUF_WRITABLE) of the format
 * `format` ('f', 'd', or 'q' for 64-bit integers) with `ndim` dimensions, else NULL (no
 * exception set); held until let_go either way. */
static Py_buffer *hold_view(Held *h, PyObject *obj, char format, int ndim, int flags) {
    Py_buffer *v = &h->view[h->count];
    if (PyObject_GetBuffer(obj, v, flags | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return NULL;
    }
    h->count++;
    const char *f = v->format ? v->format : "B";
    char kind = (f[0] == '<' || f[0] == '=' || f[0] == '@') ? f[1] : f[0];
    if (format == 'q' && (kind == 'l' || kind == 'q') && v->itemsize == 8) kind = 'q';
    return (kind == format && v->ndim == ndim) ? v : NULL;
}

/* The data of obj if it is a C-contiguous array (writable, with PyBUF_WRITABLE) of the step's
 * format, of `ndim` dimensions shaped (rows, cols) (cols ignored for 1-d), else NULL (no
 * exception set). */
static void *hold_as(Held *h, PyObject *obj, int ndim, Py_ssize_t rows, Py_ssize_t cols,
                     int flags) {
    Py_buffer *v = hold_view(h, obj, h->format, ndim, flags);
    if (!v || v->shape[0] != rows || (ndim == 2 && v->shape[1] != cols) || rows < 1 || cols < 1)
        return NULL;
    return v->buf;
}

static void *hold(Held *h, PyObject *obj, int ndim, Py_ssize_t rows, Py_ssize_t cols) {
    return hold_as(h, obj, ndim, rows, cols, PyBUF_WRITABLE);
}

static int overlap(Py_buffer *a, Py_buffer *b) {
    const char *a0 = a->buf, *b0 = b->buf;
    return a0 < b0 + b->len && b0 < a0 + a->len;
}

/* Hold and check the arrays of one step (X is held first: it gives the format and the batch
 * size m); 1 when s is ready to run, 0 when the step cannot take them (no exception set). */
static int prepare_step(PyObject *Ws, PyObject *bs, PyObject *outs, PyObject *X, PyObject *Y,
                        PyObject *acts, PyObject *deltas, PyObject *sums, PyObject *rowsums,
                        PyObject *adam, Step *s, Held *h) {
    PyObject *ms = NULL, *vs = NULL;
    h->count = 0;
    s->adam = adam != Py_None;
    if (s->adam && !PyArg_ParseTuple(adam, "OOdddd", &ms, &vs, &s->beta1, &s->one_minus_beta1,
                                     &s->beta2, &s->one_minus_beta2)) {
        PyErr_Clear();
        return 0;
    }
    if (!sgemm_ptr || !PyTuple_Check(Ws) || !PyTuple_Check(bs) || !PyList_Check(outs)
            || !PyList_Check(acts) || !PyList_Check(deltas) || !PyList_Check(sums))
        return 0;
    const Py_ssize_t L = PyTuple_GET_SIZE(Ws);
    if (s->adam && (!PyList_Check(ms) || !PyList_Check(vs) || PyList_GET_SIZE(ms) != 2 * L
                    || PyList_GET_SIZE(vs) != 2 * L))
        return 0;
    if (L < 1 || L > MAX_LAYERS || PyTuple_GET_SIZE(bs) != L || PyList_GET_SIZE(outs) != 2 * L
            || PyList_GET_SIZE(acts) != L || PyList_GET_SIZE(deltas) != L
            || PyList_GET_SIZE(sums) != L)
        return 0;
    /* the format and the batch size from X */
    Py_buffer *xv = &h->view[0];
    if (PyObject_GetBuffer(X, xv, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return 0;
    }
    h->count = 1;
    const char *f = xv->format ? xv->format : "B";
    h->format = (f[0] == '<' || f[0] == '=' || f[0] == '@') ? f[1] : f[0];
    int ok = (h->format == 'f' || h->format == 'd') && xv->ndim == 2 && xv->shape[0] >= 1
             && xv->shape[1] >= 1 && xv->shape[0] < INT_MAX && xv->shape[1] < INT_MAX;
    if (ok) {
        s->L = (int)L;
        s->m = (int)xv->shape[0];
        s->X = xv->buf;
        s->sizes[0] = (int)xv->shape[1];
    }
    for (int l = 0; ok && l < L; l++) {
        PyObject *W = PyTuple_GET_ITEM(Ws, l);
        Py_buffer *wv = &h->view[h->count];
        if (PyObject_GetBuffer(W, wv, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
            PyErr_Clear();
            ok = 0;
            break;
        }
        h->count++;
        ok = wv->ndim == 2 && wv->shape[1] == s->sizes[l] && wv->shape[0] >= 1
             && wv->shape[0] < INT_MAX;
        if (!ok) break;
        const int n = (int)wv->shape[0], n_in = s->sizes[l];
        s->sizes[l + 1] = n;
        ok = (s->W[l] = hold(h, W, 2, n, n_in)) != NULL   /* and its format */
             && (s->b[l] = hold(h, PyTuple_GET_ITEM(bs, l), 1, n, 1)) != NULL
             && (s->out[2 * l] = hold(h, PyList_GET_ITEM(outs, 2 * l), 2, n, n_in)) != NULL;
        if (!ok) break;
        s->inplace[l] = overlap(&h->view[h->count - 1], wv);
        PyObject *act = PyList_GET_ITEM(acts, l);
        ok = (s->out[2 * l + 1] = hold(h, PyList_GET_ITEM(outs, 2 * l + 1), 1, n, 1)) != NULL
             && (s->act[l] = hold(h, act, 2, s->m, n)) != NULL
             && (s->delta[l] = hold(h, PyList_GET_ITEM(deltas, l), 2, s->m, n)) != NULL
             && (s->sums[l] = hold(h, PyList_GET_ITEM(sums, l), 1, n, 1)) != NULL;
        s->act_obj[l] = act;
        if (ok && s->adam) {
            ok = (s->adam_m[2 * l] = hold(h, PyList_GET_ITEM(ms, 2 * l), 2, n, n_in)) != NULL
                 && (s->adam_v[2 * l] = hold(h, PyList_GET_ITEM(vs, 2 * l), 2, n, n_in)) != NULL
                 && (s->adam_m[2 * l + 1] = hold(h, PyList_GET_ITEM(ms, 2 * l + 1), 1, n, 1)) != NULL
                 && (s->adam_v[2 * l + 1] = hold(h, PyList_GET_ITEM(vs, 2 * l + 1), 1, n, 1)) != NULL
                 && !s->inplace[l];      /* Adam needs the gradient apart from W */
        }
    }
    ok = ok && (s->Y = hold_as(h, Y, 2, s->m, s->sizes[L], PyBUF_SIMPLE)) != NULL  /* read only */
         && (s->rowsums = hold(h, rowsums, 1, s->m, 1)) != NULL;
    if (!ok) {
        let_go(h);
        return 0;
    }
    s->rowsums_obj = rowsums;
    return 1;
}

static int run_step(Step *s, char format) {
    return format == 'f' ? step_float(s) : step_double(s);
}

static PyObject *network_step(PyObject *self, PyObject *args) {
    PyObject *Ws, *bs, *outs, *X, *Y, *acts, *deltas, *sums, *rowsums, *adam = Py_None;
    Step s;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOiiiddd|Odd", &Ws, &bs, &outs, &X, &Y, &acts, &deltas,
                          &sums, &rowsums, &s.hidden, &s.output, &s.cost, &s.scale, &s.keep,
                          &s.decay, &adam, &s.eps, &s.step_size))
        return NULL;
    Held h;
    if (!prepare_step(Ws, bs, outs, X, Y, acts, deltas, sums, rowsums, adam, &s, &h))
        Py_RETURN_FALSE;
    int failed = run_step(&s, h.format);
    let_go(&h);
    if (failed) return NULL;
    Py_RETURN_TRUE;
}

/* An operand of gemm(): a C-ordered array as itself, an F-ordered one (and a vector, which
 * NumPy calls both) as the transpose view of its transpose, as blas._fortran takes them. */
static int operand(Py_buffer *v, int f_contiguous, Mat *M) {
    if (v->ndim != 2 || v->shape[0] < 1 || v->shape[1] < 1 || v->shape[0] >= INT_MAX
            || v->shape[1] >= INT_MAX)
        return 0;
    const int rows = (int)v->shape[0], cols = (int)v->shape[1];
    Mat m = {v->buf, rows, cols, f_contiguous, f_contiguous ? rows : cols};
    *M = m;
    return 1;
}

static int get_operand(PyObject *obj, Py_buffer *v, int flags, char *format, int *f_order) {
    if (PyObject_GetBuffer(obj, v, flags | PyBUF_FORMAT | PyBUF_F_CONTIGUOUS) == 0) {
        *f_order = 1;
    } else {
        PyErr_Clear();
        if (PyObject_GetBuffer(obj, v, flags | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
            PyErr_Clear();
            return 0;
        }
        *f_order = 0;
    }
    const char *f = v->format ? v->format : "B";
    const char kind = (f[0] == '<' || f[0] == '=' || f[0] == '@') ? f[1] : f[0];
    if (*format == 0) *format = kind;
    if (kind != *format || (kind != 'f' && kind != 'd')) {
        PyBuffer_Release(v);
        return 0;
    }
    return 1;
}

static PyObject *gemm(PyObject *self, PyObject *args) {
    PyObject *a, *b, *c;
    double alpha, beta;
    if (!PyArg_ParseTuple(args, "dOOdO", &alpha, &a, &b, &beta, &c)) return NULL;
    if (!sgemm_ptr) Py_RETURN_FALSE;
    Py_buffer va, vb, vc;
    char format = 0;
    int fa, fb, fc;
    if (!get_operand(c, &vc, PyBUF_WRITABLE, &format, &fc)) Py_RETURN_FALSE;
    Mat A, B, C;
    int ok = 0;
    if (get_operand(a, &va, PyBUF_SIMPLE, &format, &fa)) {
        if (get_operand(b, &vb, PyBUF_SIMPLE, &format, &fb)) {
            /* C must be C-ordered (a vector is both) and apart from A and B */
            ok = operand(&va, fa, &A) && operand(&vb, fb, &B) && operand(&vc, 0, &C)
                 && (!fc || vc.shape[0] == 1 || vc.shape[1] == 1)
                 && A.rows == C.rows && B.cols == C.cols && A.cols == B.rows
                 && !overlap(&vc, &va) && !overlap(&vc, &vb);
            if (ok) {
                Py_BEGIN_ALLOW_THREADS
                product(format, alpha, A, B, beta, C);
                Py_END_ALLOW_THREADS
            }
            PyBuffer_Release(&vb);
        }
        PyBuffer_Release(&va);
    }
    PyBuffer_Release(&vc);
    if (ok) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* y <- a x + y in pieces of AXPY_PIECE elements (a multiple of every BLAS kernel's unroll, so
 * each piece but the last is the kernel's vector loop, as the whole vector's would be, and the
 * last piece has the whole's tail: the same bits), shared by the pool's threads. */
#define AXPY_PIECE ((Py_ssize_t)1 << 16)
typedef struct { int precision; double a; void *x, *y; Py_ssize_t n; } Axpy;

static void axpy_piece(const void *arg, int i) {
    const Axpy *p = arg;
    const Py_ssize_t lo = (Py_ssize_t)i * AXPY_PIECE;
    int n = (int)(p->n - lo < AXPY_PIECE ? p->n - lo : AXPY_PIECE), one = 1;
    I64 n8 = n, one8 = 1;
    float af = (float)p->a;
    double ad = p->a;
    float *xf = (float *)p->x + lo, *yf = (float *)p->y + lo;
    double *xd = (double *)p->x + lo, *yd = (double *)p->y + lo;
    if (ilp64 && p->precision == 'f') ((saxpy64_fn)saxpy_ptr)(&n8, &af, xf, &one8, yf, &one8);
    else if (ilp64) ((daxpy64_fn)daxpy_ptr)(&n8, &ad, xd, &one8, yd, &one8);
    else if (p->precision == 'f') ((saxpy_fn)saxpy_ptr)(&n, &af, xf, &one, yf, &one);
    else ((daxpy_fn)daxpy_ptr)(&n, &ad, xd, &one, yd, &one);
}

static void axpy_shared(char format, double a, void *x, void *y, Py_ssize_t n) {
    Axpy p = {format, a, x, y, n};
    const Job job = {(int)((n + AXPY_PIECE - 1) / AXPY_PIECE), axpy_piece, &p};
    Py_BEGIN_ALLOW_THREADS
    share(&job);
    Py_END_ALLOW_THREADS
}

static PyObject *axpy(PyObject *self, PyObject *args) {
    PyObject *objects[2];
    double a;
    if (!PyArg_ParseTuple(args, "dOO", &a, &objects[0], &objects[1])) return NULL;
    if (!saxpy_ptr) Py_RETURN_FALSE;
    Buffers b;
    char format = 0;
    Py_ssize_t n = 0;
    if (acquire(&b, objects, 2, &format, &n) < 0) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    int ok = n > 0 && n / AXPY_PIECE < INT_MAX && !overlap(&b.view[0], &b.view[1]);
    if (ok) axpy_shared(format, a, b.view[0].buf, b.view[1].buf, n);
    release(&b);
    if (ok) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* network_steps: many mini-batches in one call, each gathered from the rows it lists, stepped
 * as network_step steps it and followed by the optimiser's own vector updates, exactly as
 * chainrule.training.batch runs the same batches one call each (the same operations in the
 * same order: the same bits). The optimiser's numbers for each batch come precomputed in `plan`
 * (count x 4 float64), per mode:
 *   SGD       (scale, -, -, -)        out = the parameters: w <- w + scale dC/dw
 *   MOMENTUM  (scale, -, c, fold)     out = u: u <- u + scale dC/du; w <- w + c u
 *   NESTEROV  (scale, c0, c, fold)    old <- u first; then as MOMENTUM with w <- w + c0 old first
 *   ADAM      (step size, eps, -, -)  out = the gradients, Adam's step inside the step
 * fold != 0: u <- fold u after the batch (momentum's velocity scale folded back in). */
enum { STEPS_SGD, STEPS_MOMENTUM, STEPS_NESTEROV, STEPS_ADAM };

#define SCALE_LOOP(T, u, n, c)                                                        \
    do {                                                                              \
        T *x = (u);                                                                   \
        const T f = (T)(c);                                                           \
        for (Py_ssize_t i = 0; i < (n); i++) x[i] = x[i] * f;                         \
    } while (0)

static PyObject *network_steps(PyObject *self, PyObject *args) {
    PyObject *Ws, *bs, *outs, *X, *Y, *rows, *Xb, *Yb, *acts, *deltas, *sums, *rowsums;
    PyObject *plan, *outputs, *flats, *adam;
    int mode;
    Step s;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOiiidiOOOO", &Ws, &bs, &outs, &X, &Y, &rows, &Xb,
                          &Yb, &acts, &deltas, &sums, &rowsums, &s.hidden, &s.output, &s.cost,
                          &s.decay, &mode, &plan, &outputs, &flats, &adam))
        return NULL;
    const int momentum = mode == STEPS_MOMENTUM || mode == STEPS_NESTEROV;
    if (mode < STEPS_SGD || mode > STEPS_ADAM || (mode == STEPS_ADAM) != (adam != Py_None)
            || (momentum && (!PyTuple_Check(flats)
                             || PyTuple_GET_SIZE(flats) != 2 + (mode == STEPS_NESTEROV))))
        Py_RETURN_FALSE;
    Held h;
    if (!prepare_step(Ws, bs, outs, Xb, Yb, acts, deltas, sums, rowsums, adam, &s, &h))
        Py_RETURN_FALSE;
    const char format = h.format;
    const size_t item = format == 'f' ? sizeof(float) : sizeof(double);
    const Py_ssize_t m = s.m, d = s.sizes[0], k = s.sizes[s.L];
    Py_buffer *xv = hold_view(&h, X, format, 2, PyBUF_SIMPLE);
    Py_buffer *yv = xv ? hold_view(&h, Y, format, 2, PyBUF_SIMPLE) : NULL;
    Py_buffer *rv = yv ? hold_view(&h, rows, 'q', 1, PyBUF_SIMPLE) : NULL;
    Py_buffer *pv = rv ? hold_view(&h, plan, 'd', 2, PyBUF_SIMPLE) : NULL;
    Py_buffer *ov = pv ? hold_view(&h, outputs, format, 2, PyBUF_WRITABLE) : NULL;
    const Py_ssize_t count = rv ? rv->shape[0] / m : 0;
    int ok = ov && xv->shape[1] == d && yv->shape[1] == k && yv->shape[0] == xv->shape[0]
             && count >= 1 && rv->shape[0] == count * m && pv->shape[0] == count
             && pv->shape[1] == 4 && ov->shape[0] >= count * m && ov->shape[1] == k;
    void *flat[3] = {NULL, NULL, NULL};       /* w, u, old: one vector each, apart */
    Py_buffer *fv[3];
    Py_ssize_t params = 0;
    for (int i = 0; ok && momentum && i < PyTuple_GET_SIZE(flats); i++) {
        fv[i] = hold_view(&h, PyTuple_GET_ITEM(flats, i), format, 1, PyBUF_WRITABLE);
        ok = fv[i] != NULL && (i == 0 || fv[i]->shape[0] == params) && fv[i]->shape[0] >= 1;
        for (int j = 0; ok && j < i; j++) ok = !overlap(fv[i], fv[j]);
        if (ok) {
            params = fv[i]->shape[0];
            flat[i] = fv[i]->buf;
        }
    }
    if (!ok) {
        let_go(&h);
        Py_RETURN_FALSE;
    }
    const Py_ssize_t N = xv->shape[0];
    const long long *r = rv->buf;
    const double *q = pv->buf;
    char *x = xv->buf, *y = yv->buf, *out = ov->buf;
    int failed = 0;
    for (Py_ssize_t j = 0; j < count && !failed; j++, q += 4) {
        for (Py_ssize_t i = 0; i < m; i++) {         /* the batch, gathered */
            const long long row = r[j * m + i];
            if (row < 0 || row >= N) {
                PyErr_Format(PyExc_IndexError, "network_steps: row %lld of a batch is not "
                             "among the %zd rows of X", row, N);
                failed = 1;
                break;
            }
            memcpy((char *)s.X + i * d * item, x + row * d * item, d * item);
            memcpy((char *)s.Y + i * k * item, y + row * k * item, k * item);
        }
        if (failed) break;
        if (mode == STEPS_ADAM) {
            s.scale = 1.0;
            s.keep = 0.0;
            s.step_size = q[0];
            s.eps = q[1];
        } else {
            s.scale = q[0];
            s.keep = 1.0;
        }
        if (mode == STEPS_NESTEROV) memcpy(flat[2], flat[1], params * item);
        if (run_step(&s, format)) {
            failed = 1;
            break;
        }
        memcpy(out + j * m * k * item, s.act[s.L - 1], m * k * item);   /* a^L, before the step */
        if (mode == STEPS_NESTEROV) axpy_shared(format, q[1], flat[2], flat[0], params);
        if (momentum) {
            axpy_shared(format, q[2], flat[1], flat[0], params);
            if (q[3] != 0.0) {
                if (format == 'f') SCALE_LOOP(float, flat[1], params, q[3]);
                else SCALE_LOOP(double, flat[1], params, q[3]);
            }
        }
    }
    let_go(&h);
    if (failed) return NULL;
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(sgemm, dgemm, saxpy, daxpy, ilp64, tanh, exp, add_reduce): the BLAS routines "
     "(capsules of scipy.linalg.cython_blas, or addresses; ilp64: they take 64-bit integers) "
     "and the NumPy ufuncs network_step calls"},
    {"network_step", network_step, METH_VARARGS,
     "network_step(Ws, bs, outs, X, Y, acts, deltas, sums, rowsums, hidden, output, cost, "
     "scale, keep, decay[, adam, eps, step_size]): one mini-batch of chainrule.nn._fused in "
     "one call, with adam = (ms, vs, beta1, 1 - beta1, beta2, 1 - beta2) also Adam's step on "
     "each parameter; False (nothing done) when it cannot take the arrays"},

    {"network_steps", network_steps, METH_VARARGS,
     "network_steps(Ws, bs, outs, X, Y, rows, Xb, Yb, acts, deltas, sums, rowsums, hidden, "
     "output, cost, decay, mode, plan, outputs, flats, adam): len(rows) / len(Xb) mini-batches "
     "of rows of X, Y in one call, each stepped as network_step steps it and followed by the "
     "optimiser's updates of mode (0 SGD, 1 momentum, 2 Nesterov, 3 Adam) with plan's numbers; "
     "a^L of each batch into outputs; False (nothing done) when it cannot take the arrays"},
    {"set_threads", set_threads, METH_VARARGS,
     "set_threads(n): the threads network_step's products are shared by (1: the caller's "
     "alone); returns the count before"},
    {"gemm", gemm, METH_VARARGS,
     "gemm(alpha, A, B, beta, C): C = alpha A B + beta C in place, C C-ordered, A and B C- or "
     "F-ordered, in the pieces of product_plan on the threads of set_threads, as "
     "chainrule._fast.blas.gemm computes it; False (nothing done) when it cannot take the arrays"},
    {"axpy", axpy, METH_VARARGS,
     "axpy(a, x, y): y = a x + y in place (C-contiguous, one dtype and length, apart), in "
     "pieces shared by the threads of set_threads, the same bits as one BLAS ?axpy; False "
     "(nothing done) when it cannot take the arrays"},
    {"product_plan", product_plan, METH_VARARGS,
     "product_plan(rows, cols, k): (by_rows, piece, count), how a product C (rows x cols) = "
     "A (rows x k) B is cut into pieces"},
    {"adam", adam, METH_VARARGS,
     "adam(p, g, m, v, beta1, 1 - beta1, beta2, 1 - beta2, eps, step_size): one Adam step "
     "in place, m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= m / (sqrt(v) + eps) * step"},
    {"relu_backward", relu_backward, METH_VARARGS,
     "relu_backward(g, a, sums): g = g * (a > 0) in place (BP2's sigma'(z) for relu, g and a "
     "of shape (m, n)) and sums = the column sums of the new g (BP3), row by row"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "chainrule._fast._kernels",
                                    "One-pass elementwise kernels (see chainrule._fast.kernels).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
