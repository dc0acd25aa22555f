/* The search index's two loops that run once a word or once a posting: compiled.

   count_words(text, stems) -> (counts, words)
       What terms.count_words_python gives: the runs of letters and digits in `text`
       (a character is one when it is an ASCII letter or digit, or beyond ASCII and
       str.isalnum()), each mapped to its term through `stems` (a dict, or a dict
       subclass whose __missing__ works a term out), and counted: {term: count} in the
       order each term first occurs, and how many words there were. A word met again
       is found in a table of the text's own characters: no string is made for it.

   add_postings(table, number, counts)
       For each term of `counts` ({term: count}), append article `number` and the
       count to table[term] (a bytearray, made when missing), as two unsigned 32-bit
       numbers in the machine's order: what array("I", ...).tobytes() holds.

   Each has a pure-Python twin that gives the same (broadsheet/search/terms.py and
   index.py); tests hold the two to each other. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static unsigned char ascii_word[128];

static inline int
is_word(Py_UCS4 c)
{
    return c < 128 ? ascii_word[c] : Py_UNICODE_ISALNUM(c);
}

typedef struct {
    Py_ssize_t start;
    Py_ssize_t length;
    Py_ssize_t count;
    uint64_t hash;
} Word;

typedef struct {
    Word *words;       /* the distinct words, in the order they first occur */
    Py_ssize_t used;
    Py_ssize_t allocated;
    Py_ssize_t *slots; /* open addressing: 1 + an index into words, 0 when empty */
    size_t mask;
} Table;

static int
table_grow_slots(Table *table)
{
    size_t size = (table->mask + 1) * 2;
    Py_ssize_t *slots = PyMem_Calloc(size, sizeof(Py_ssize_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t n = 0; n < table->used; n++) {
        size_t at = (size_t)table->words[n].hash & (size - 1);
        while (slots[at] != 0) {
            at = (at + 1) & (size - 1);
        }
        slots[at] = n + 1;
    }
    PyMem_Free(table->slots);
    table->slots = slots;
    table->mask = size - 1;
    return 0;
}

/* Count the word text[start:start+length]; -1 (an exception set) when out of memory. */
static int
table_count(Table *table, const char *data, int kind, Py_ssize_t start,
            Py_ssize_t length, uint64_t hash)
{
    size_t at = (size_t)hash & table->mask;
    const char *word = data + start * kind;
    for (;;) {
        Py_ssize_t slot = table->slots[at];
        if (slot == 0) {
            break;
        }
        Word *found = &table->words[slot - 1];
        if (found->hash == hash && found->length == length
            && memcmp(data + found->start * kind, word, (size_t)(length * kind)) == 0) {
            found->count++;
            return 0;
        }
        at = (at + 1) & table->mask;
    }
    if (table->used == table->allocated) {
        Py_ssize_t allocated = table->allocated * 2;
        Word *words = PyMem_Realloc(table->words, (size_t)allocated * sizeof(Word));
        if (words == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        table->words = words;
        table->allocated = allocated;
    }
    table->words[table->used] = (Word){start, length, 1, hash};
    table->used++;
    table->slots[at] = table->used;
    if ((size_t)table->used * 2 > table->mask) {
        return table_grow_slots(table);
    }
    return 0;
}

/* Count each run of word characters in the text: one function a character width, so
   that news text (one byte a character) is read without a switch at each. */
#define SCAN(NAME, READ, ...)                                                        \
    static int NAME(Table *table, __VA_ARGS__, Py_ssize_t size, Py_ssize_t *words)  \
    {                                                                               \
        Py_ssize_t at = 0;                                                          \
        while (at < size) {                                                         \
            if (!is_word(READ(at))) {                                               \
                at++;                                                               \
                continue;                                                           \
            }                                                                       \
            Py_ssize_t start = at;                                                  \
            uint64_t hash = 14695981039346656037ULL; /* FNV-1a */                   \
            Py_UCS4 c;                                                              \
            while (at < size && is_word(c = READ(at))) {                            \
                hash = (hash ^ c) * 1099511628211ULL;                               \
                at++;                                                               \
            }                                                                       \
            hash ^= hash >> 29;                                                     \
            if (table_count(table, DATA, KIND, start, at - start, hash) < 0) {      \
                return -1;                                                          \
            }                                                                       \
            ++*words;                                                               \
        }                                                                           \
        return 0;                                                                   \
    }

#define DATA (const char *)data
#define KIND 1
#define READ_1BYTE(i) ((Py_UCS4)data[i])
SCAN(scan_1byte, READ_1BYTE, const Py_UCS1 *data)
#undef KIND
#define KIND kind
#define READ_ANY(i) PyUnicode_READ(kind, data, i)
SCAN(scan_any, READ_ANY, const char *data, int kind)
#undef KIND
#undef DATA

/* stems[word], through __missing__ when the dict lacks it: a new reference. */
static PyObject *
stem_of(PyObject *stems, PyObject *word)
{
    if (PyDict_Check(stems)) {
        PyObject *found = PyDict_GetItemWithError(stems, word);
        if (found != NULL) {
            Py_INCREF(found);
            return found;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    return PyObject_GetItem(stems, word);
}

static PyObject *
counted(PyObject *text, Table *table, PyObject *stems)
{
    PyObject *counts = PyDict_New();
    if (counts == NULL) {
        return NULL;
    }
    for (Py_ssize_t n = 0; n < table->used; n++) {
        Word *w = &table->words[n];
        PyObject *word = PyUnicode_Substring(text, w->start, w->start + w->length);
        if (word == NULL) {
            goto fail;
        }
        PyObject *term = stem_of(stems, word);
        Py_DECREF(word);
        if (term == NULL) {
            goto fail;
        }
        Py_ssize_t total = w->count;
        PyObject *before = PyDict_GetItemWithError(counts, term);
        if (before != NULL) {
            total += PyLong_AsSsize_t(before);
        }
        else if (PyErr_Occurred()) {
            Py_DECREF(term);
            goto fail;
        }
        PyObject *number = PyLong_FromSsize_t(total);
        int failed = number == NULL || PyDict_SetItem(counts, term, number) < 0;
        Py_XDECREF(number);
        Py_DECREF(term);
        if (failed) {
            goto fail;
        }
    }
    return counts;
fail:
    Py_DECREF(counts);
    return NULL;
}

static PyObject *
count_words(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "count_words(text, stems)");
        return NULL;
    }
    PyObject *text = args[0], *stems = args[1];
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "count_words: text must be a str");
        return NULL;
    }
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const char *data = PyUnicode_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    Table table = {NULL, 0, 256, NULL, 1023};
    table.words = PyMem_Malloc(256 * sizeof(Word));
    table.slots = PyMem_Calloc(1024, sizeof(Py_ssize_t));
    PyObject *result = NULL;
    if (table.words == NULL || table.slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t words = 0;
    int scanned = kind == PyUnicode_1BYTE_KIND
                      ? scan_1byte(&table, (const Py_UCS1 *)data, size, &words)
                      : scan_any(&table, data, kind, size, &words);
    if (scanned < 0) {
        goto done;
    }
    PyObject *counts = counted(text, &table, stems);
    if (counts != NULL) {
        result = Py_BuildValue("(Nn)", counts, words);
    }
done:
    PyMem_Free(table.words);
    PyMem_Free(table.slots);
    return result;
}

static PyObject *
add_postings(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "add_postings(table, number, counts)");
        return NULL;
    }
    PyObject *table = args[0], *counts = args[2];
    if (!PyDict_Check(table) || !PyDict_Check(counts)) {
        PyErr_SetString(PyExc_TypeError, "add_postings: table and counts must be dicts");
        return NULL;
    }
    unsigned long number = PyLong_AsUnsignedLong(args[1]);
    if (number == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    if (number > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "add_postings: number out of range");
        return NULL;
    }
    Py_ssize_t position = 0;
    PyObject *term, *count;
    while (PyDict_Next(counts, &position, &term, &count)) {
        unsigned long times = PyLong_AsUnsignedLong(count);
        if (times == (unsigned long)-1 && PyErr_Occurred()) {
            return NULL;
        }
        if (times > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "add_postings: count out of range");
            return NULL;
        }
        PyObject *postings = PyDict_GetItemWithError(table, term);
        if (postings == NULL) {
            if (PyErr_Occurred()) {
                return NULL;
            }
            postings = PyByteArray_FromStringAndSize(NULL, 0);
            if (postings == NULL) {
                return NULL;
            }
            int failed = PyDict_SetItem(table, term, postings);
            Py_DECREF(postings); /* (the table holds it) */
            if (failed < 0) {
                return NULL;
            }
        }
        if (!PyByteArray_Check(postings)) {
            PyErr_SetString(PyExc_TypeError, "add_postings: postings must be bytearrays");
            return NULL;
        }
        Py_ssize_t held = PyByteArray_GET_SIZE(postings);
        if (PyByteArray_Resize(postings, held + 8) < 0) {
            return NULL;
        }
        uint32_t pair[2] = {(uint32_t)number, (uint32_t)times};
        memcpy(PyByteArray_AS_STRING(postings) + held, pair, 8);
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"count_words", (PyCFunction)(void (*)(void))count_words, METH_FASTCALL,
     "count_words(text, stems) -> (counts, words)"},
    {"add_postings", (PyCFunction)(void (*)(void))add_postings, METH_FASTCALL,
     "add_postings(table, number, counts) -> None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "The search index's per-word loops, compiled.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    for (int c = 0; c < 128; c++) {
        ascii_word[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
                        || (c >= 'A' && c <= 'Z');
    }
    return PyModule_Create(&module);
}
