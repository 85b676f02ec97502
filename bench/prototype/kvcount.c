// Prototype (not part of otlint): count KeyValue prefixes (tag, key, value length, value tag)
// in a serialized merged Span record: every field 9 (attributes) entry, others skipped.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct { const uint8_t *p; Py_ssize_t n; Py_ssize_t count; uint64_t h; } slot;

static int varint(const uint8_t *b, Py_ssize_t end, Py_ssize_t *pos, uint64_t *out) {
    uint64_t v = 0; int shift = 0;
    while (*pos < end && shift < 64) {
        uint8_t c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) { *out = v; return 1; }
        shift += 7;
    }
    return 0;
}

static PyObject *count(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const uint8_t *b = view.buf; Py_ssize_t end = view.len, pos = 0;
    enum { CAP = 4096 };
    static slot table[CAP];
    memset(table, 0, sizeof table);
    Py_ssize_t used = 0, kvs = 0;
    while (pos < end) {
        uint64_t tag, len;
        if (!varint(b, end, &pos, &tag)) goto bad;
        int wt = tag & 7;
        if (wt == 2) {
            if (!varint(b, end, &pos, &len) || pos + (Py_ssize_t)len > end) goto bad;
            if (tag == 0x4a) {
                const uint8_t *kv = b + pos; Py_ssize_t n = len;
                Py_ssize_t plen = (n > 1) ? kv[1] + 5 : n;
                if (plen > n) plen = n;
                uint64_t h = 1469598103934665603ULL;
                for (Py_ssize_t i = 0; i < plen; i++) { h ^= kv[i]; h *= 1099511628211ULL; }
                Py_ssize_t s = h & (CAP - 1);
                while (table[s].p && !(table[s].h == h && table[s].n == plen && !memcmp(table[s].p, kv, plen)))
                    s = (s + 1) & (CAP - 1);
                if (!table[s].p) { table[s].p = kv; table[s].n = plen; table[s].h = h; used++; if (used > CAP / 2) goto bad; }
                table[s].count++; kvs++;
            }
            pos += len;
        } else if (wt == 0) { uint64_t v; if (!varint(b, end, &pos, &v)) goto bad; }
        else if (wt == 1) pos += 8; else if (wt == 5) pos += 4; else goto bad;
    }
    PyObject *d = PyDict_New();
    for (Py_ssize_t s = 0; s < CAP; s++) if (table[s].p) {
        PyObject *k = PyBytes_FromStringAndSize((const char *)table[s].p, table[s].n);
        PyObject *v = PyLong_FromSsize_t(table[s].count);
        PyDict_SetItem(d, k, v); Py_DECREF(k); Py_DECREF(v);
    }
    PyBuffer_Release(&view);
    return d;
bad:
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"count", count, METH_O, "prefix counts"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "kvcount", NULL, -1, methods};
PyMODINIT_FUNC PyInit_kvcount(void) { return PyModule_Create(&mod); }
