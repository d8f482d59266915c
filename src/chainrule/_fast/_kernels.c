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
#include <math.h>

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

#define ADAM_LOOP(T, SQRT)                                                            \
    do {                                                                              \
        T *p = b.view[0].buf, *g = b.view[1].buf, *m = b.view[2].buf, *v = b.view[3].buf; \
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
    } while (0)

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
        ADAM_LOOP(float, sqrtf);
    else
        ADAM_LOOP(double, sqrt);
    Py_END_ALLOW_THREADS
    release(&b);
    Py_RETURN_NONE;
}

#define RELU_LOOP(T)                                                                  \
    do {                                                                              \
        T *g = b.view[0].buf, *s = b.view[2].buf;                                     \
        const T *a = b.view[1].buf;                                                   \
        for (Py_ssize_t i = 0; i < rows; i++) {                                       \
            T *gi = g + i * n;                                                        \
            const T *ai = a + i * n;                                                  \
            for (Py_ssize_t j = 0; j < n; j++) gi[j] = gi[j] * (ai[j] > 0 ? (T)1 : (T)0); \
            if (i == 0)                                                               \
                for (Py_ssize_t j = 0; j < n; j++) s[j] = gi[j];                      \
            else                                                                      \
                for (Py_ssize_t j = 0; j < n; j++) s[j] += gi[j];                     \
        }                                                                             \
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

static PyMethodDef methods[] = {
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
