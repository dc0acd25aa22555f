/* The posts of the last build, read back from their files (content/store.py,
   read_post_cache), compiled: at 10,000 articles the checks and the making of each
   Post took 0.16 s of every build that changes anything, a tenth of an edit's.

   decode_shard(posts, shard, shards, stamps, prefix, content_dir, folders, child,
                zone, texts, post_type, fromtimestamp) -> dict
       What store.py's Python loop gives for one file of posts: {prefix + name:
       (stamp, post)} for each entry of `posts` ({name: entry}) whose stamp in
       `stamps` is well formed, the post made as store._decode makes it; ValueError
       (as the loop raises it) for an entry in the wrong file, not named *.md, a
       bundle's file not named index.md, or (of those with a stamp) an entry of the
       wrong shape. `folders` caches content_dir / section; `child(parent, file)` makes
       a post's path; `texts` shares the strings of sections, authors and tags.
       The Post is made as its generated __init__ makes it, field by field through
       object.__setattr__ (FIELDS names them all: store.py uses this only while they
       are Post's fields).
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../_crc32.h"
#include "../_stamp.h"

/* An entry's places (store._encode): 8 strs, 3 strs or None, 2 floats or None, a
   bool, a list, a bool, 2 ints, 3 lists, 4 strs or None. */
#define ENTRY_SIZE 25

enum { STR, STR_OR_NONE, FLOAT_OR_NONE, BOOL, LIST, INT };

static const int SHAPE[ENTRY_SIZE] = {
    STR,  STR,  STR,  STR,  STR,  STR,  STR,  STR,                     /* _TEXT */
    STR_OR_NONE, STR_OR_NONE, STR_OR_NONE,                             /* _OPTIONAL */
    FLOAT_OR_NONE, FLOAT_OR_NONE, BOOL, LIST, BOOL, INT, INT,          /* dates ... words */
    LIST, LIST, LIST,                                                  /* aliases, images */
    STR_OR_NONE, STR_OR_NONE, STR_OR_NONE, STR_OR_NONE,                /* _IMAGE */
};

static const char *FIELD_NAMES[] = {
    "path",      "title",       "section",       "section_slug", "slug",
    "date",      "has_time",    "updated",       "author",       "tags",
    "summary",   "source",      "draft",         "body_line",    "digest",
    "excerpt",   "words",       "header_digest", "place_digest", "aliases",
    "body_text", "bundle",      "image",         "image_alt",    "image_caption",
    "image_credit", "images",   "unlabelled",    "media",        "url_path",
};
#define FIELD_COUNT ((int)(sizeof(FIELD_NAMES) / sizeof(FIELD_NAMES[0])))

enum {
    F_PATH, F_TITLE, F_SECTION, F_SECTION_SLUG, F_SLUG,
    F_DATE, F_HAS_TIME, F_UPDATED, F_AUTHOR, F_TAGS,
    F_SUMMARY, F_SOURCE, F_DRAFT, F_BODY_LINE, F_DIGEST,
    F_EXCERPT, F_WORDS, F_HEADER_DIGEST, F_PLACE_DIGEST, F_ALIASES,
    F_BODY_TEXT, F_BUNDLE, F_IMAGE, F_IMAGE_ALT, F_IMAGE_CAPTION,
    F_IMAGE_CREDIT, F_IMAGES, F_UNLABELLED, F_MEDIA, F_URL_PATH,
};

static PyObject *field_names[FIELD_COUNT];
static PyObject *empty;  /* "" */

static int
of_shape(PyObject *value, int shape)
{
    switch (shape) {
    case STR:
        return PyUnicode_CheckExact(value);
    case STR_OR_NONE:
        return value == Py_None || PyUnicode_CheckExact(value);
    case FLOAT_OR_NONE:
        return value == Py_None || PyFloat_CheckExact(value);
    case BOOL:
        return PyBool_Check(value);
    case LIST:
        return PyList_CheckExact(value);
    default:
        return PyLong_CheckExact(value);
    }
}

static int
all_strs(PyObject *list)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(list, i))) {
            return 0;
        }
    }
    return 1;
}

static PyObject *
misplaced(const char *what)
{
    PyErr_SetString(PyExc_ValueError, what);
    return NULL;
}

/* texts.setdefault(text, text): a new reference */
static PyObject *
shared(PyObject *texts, PyObject *text)
{
    PyObject *found = PyDict_SetDefault(texts, text, text);
    Py_XINCREF(found);
    return found;
}

/* datetime.fromtimestamp(moment, zone), or None for None: a new reference */
static PyObject *
moment_of(PyObject *moment, PyObject *fromtimestamp, PyObject *zone)
{
    if (moment == Py_None) {
        Py_RETURN_NONE;
    }
    PyObject *args[2] = {moment, zone};
    return PyObject_Vectorcall(fromtimestamp, args, 2, NULL);
}

/* The Post an entry holds (store._decode), given its path; NULL with ValueError for
   an entry of the wrong shape. */
static PyObject *
decode(PyObject *path, PyObject *item, PyObject *zone, int bundle, PyObject *texts,
       PyTypeObject *post_type, PyObject *fromtimestamp)
{
    if (!PyList_CheckExact(item) || PyList_GET_SIZE(item) != ENTRY_SIZE) {
        return misplaced("entry");
    }
    PyObject **parts = PySequence_Fast_ITEMS(item);
    for (int i = 0; i < ENTRY_SIZE; i++) {
        if (!of_shape(parts[i], SHAPE[i])) {
            return misplaced("entry");
        }
    }
    PyObject *tags = parts[14], *aliases = parts[18], *images = parts[19];
    PyObject *unlabelled = parts[20];
    if (!all_strs(tags) || !all_strs(aliases)) {
        return misplaced("tags");
    }
    if (!all_strs(images) || !all_strs(unlabelled)) {
        return misplaced("images");
    }
    PyObject *values[FIELD_COUNT] = {NULL};
    PyObject *post = NULL;
    /* Each value made in turn; at the first that fails (a moment out of range, say),
       nothing more is called with its error set. */
#define SET(field, made)                                                               \
    if ((values[field] = (made)) == NULL) {                                            \
        goto done;                                                                     \
    }
    SET(F_PATH, Py_NewRef(path));
    SET(F_TITLE, Py_NewRef(parts[0]));
    SET(F_SECTION, shared(texts, parts[1]));
    SET(F_SECTION_SLUG, shared(texts, parts[2]));
    SET(F_SLUG, Py_NewRef(parts[3]));
    SET(F_DIGEST, Py_NewRef(parts[4]));
    SET(F_EXCERPT, Py_NewRef(parts[5]));
    SET(F_HEADER_DIGEST, Py_NewRef(parts[6]));
    SET(F_PLACE_DIGEST, Py_NewRef(parts[7]));
    SET(F_AUTHOR, parts[8] == Py_None ? Py_NewRef(Py_None) : shared(texts, parts[8]));
    SET(F_SUMMARY, Py_NewRef(parts[9]));
    SET(F_SOURCE, Py_NewRef(parts[10]));
    SET(F_HAS_TIME, Py_NewRef(parts[13]));
    SET(F_TAGS, PyTuple_New(PyList_GET_SIZE(tags)));
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(tags); i++) {
        PyObject *tag = shared(texts, PyList_GET_ITEM(tags, i));
        if (tag == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(values[F_TAGS], i, tag);
    }
    SET(F_DRAFT, Py_NewRef(parts[15]));
    SET(F_BODY_LINE, Py_NewRef(parts[16]));
    SET(F_WORDS, Py_NewRef(parts[17]));
    SET(F_ALIASES, PyList_AsTuple(aliases));
    SET(F_BODY_TEXT, Py_NewRef(Py_None));
    SET(F_BUNDLE, PyBool_FromLong(bundle));
    SET(F_IMAGE, Py_NewRef(parts[21]));
    SET(F_IMAGE_ALT, Py_NewRef(parts[22]));
    SET(F_IMAGE_CAPTION, Py_NewRef(parts[23]));
    SET(F_IMAGE_CREDIT, Py_NewRef(parts[24]));
    SET(F_IMAGES, PyList_AsTuple(images));
    SET(F_UNLABELLED, PyList_AsTuple(unlabelled));
    SET(F_MEDIA, Py_NewRef(empty));
    /* (Post.__post_init__) */
    SET(F_URL_PATH, PyUnicode_FromFormat("%U/%U/", values[F_SECTION_SLUG], values[F_SLUG]));
    /* Last, as they call Python code (the time zone's): nothing of the entry is read
       after them (`parts` are the entry's, which that code could change). */
    SET(F_DATE, moment_of(parts[11], fromtimestamp, zone));
    SET(F_UPDATED, moment_of(parts[12], fromtimestamp, zone));
#undef SET
    post = post_type->tp_alloc(post_type, 0);
    if (post == NULL) {
        goto done;
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (PyObject_GenericSetAttr(post, field_names[i], values[i]) < 0) {
            Py_CLEAR(post);
            goto done;
        }
    }
done:
    for (int i = 0; i < FIELD_COUNT; i++) {
        Py_XDECREF(values[i]);
    }
    return post;
}

static PyObject *
decode_shard(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "decode_shard() takes 12 arguments");
        return NULL;
    }
    PyObject *posts = args[0], *stamps = args[3], *prefix = args[4];
    PyObject *content_dir = args[5], *folders = args[6], *child = args[7];
    PyObject *zone = args[8], *texts = args[9], *fromtimestamp = args[11];
    long long shard = PyLong_AsLongLong(args[1]), shards = PyLong_AsLongLong(args[2]);
    if ((shard == -1 || shards == -1) && PyErr_Occurred()) {
        return NULL;
    }
    if (!PyDict_Check(posts) || !PyDict_Check(stamps) || !PyUnicode_Check(prefix)
        || !PyDict_Check(folders) || !PyDict_Check(texts) || !PyType_Check(args[10])
        || shards <= 0) {
        PyErr_SetString(PyExc_TypeError, "decode_shard(): arguments of the wrong types");
        return NULL;
    }
    PyTypeObject *post_type = (PyTypeObject *)args[10];
    PyObject *found = PyDict_New();
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t position = 0;
    PyObject *borrowed_name, *borrowed_item;
    PyObject *name = NULL, *item = NULL, *stamp = NULL, *parent = NULL;
    while (PyDict_Next(posts, &position, &borrowed_name, &borrowed_item)) {
        /* (held: `child` and the time zone are Python code, which could let go of them) */
        Py_XSETREF(name, Py_NewRef(borrowed_name));
        Py_XSETREF(item, Py_NewRef(borrowed_item));
        Py_CLEAR(stamp);
        Py_CLEAR(parent);
        if (!PyUnicode_Check(name)) {  /* (JSON's keys are strs: not reached) */
            PyErr_SetString(PyExc_TypeError, "a post's name is a str");
            goto failed;
        }
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(name, &size);
        if (utf8 == NULL) {
            goto failed;  /* (a lone surrogate: UnicodeEncodeError, as .encode raises) */
        }
        const char *slash = NULL;
        int slashes = 0;
        for (Py_ssize_t k = 0; k < size; k++) {
            if (utf8[k] == '/') {
                slash = utf8 + k;
                slashes++;
            }
        }
        const char *file = slash != NULL ? slash + 1 : utf8;
        Py_ssize_t file_size = size - (file - utf8);
        if ((long long)(crc32_of(utf8, size) % (unsigned long long)shards) != shard
            || file_size < 3
            || memcmp(file + file_size - 3, ".md", 3) != 0) {
            misplaced("misplaced");
            goto failed;
        }
        int bundle = slashes == 2;  /* (the section holds one: asia/<slug>/index.md) */
        if (bundle && (file_size != 8 || memcmp(file, "index.md", 8) != 0)) {
            misplaced("misplaced");
            goto failed;
        }
        stamp = Py_XNewRef(PyDict_GetItemWithError(stamps, name));
        if (stamp == NULL) {
            if (PyErr_Occurred()) {
                goto failed;
            }
            continue;
        }
        if (stamp == Py_None || !stamp_well_formed(stamp)) {
            continue;
        }
        PyObject *section = PyUnicode_FromStringAndSize(utf8, slash != NULL ? slash - utf8 : 0);
        if (section == NULL) {
            goto failed;
        }
        parent = Py_XNewRef(PyDict_GetItemWithError(folders, section));
        if (parent == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(section);
                goto failed;
            }
            parent = PyNumber_TrueDivide(content_dir, section);
            if (parent == NULL || PyDict_SetItem(folders, section, parent) < 0) {
                Py_DECREF(section);
                goto failed;
            }
        }
        Py_DECREF(section);
        PyObject *file_name = PyUnicode_FromStringAndSize(file, file_size);
        if (file_name == NULL) {
            goto failed;
        }
        PyObject *child_args[2] = {parent, file_name};
        PyObject *path = PyObject_Vectorcall(child, child_args, 2, NULL);
        Py_DECREF(file_name);
        if (path == NULL) {
            goto failed;
        }
        PyObject *post = decode(path, item, zone, bundle, texts, post_type, fromtimestamp);
        Py_DECREF(path);
        if (post == NULL) {
            goto failed;
        }
        PyObject *key = PyUnicode_Concat(prefix, name);
        PyObject *pair = key != NULL ? PyTuple_Pack(2, stamp, post) : NULL;
        Py_DECREF(post);
        if (pair == NULL || PyDict_SetItem(found, key, pair) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(pair);
            goto failed;
        }
        Py_DECREF(key);
        Py_DECREF(pair);
    }
    Py_XDECREF(name);
    Py_XDECREF(item);
    Py_XDECREF(stamp);
    Py_XDECREF(parent);
    return found;

failed:
    Py_XDECREF(name);
    Py_XDECREF(item);
    Py_XDECREF(stamp);
    Py_XDECREF(parent);
    Py_DECREF(found);
    return NULL;
}

static PyMethodDef methods[] = {
    {"decode_shard", (PyCFunction)(void (*)(void))decode_shard, METH_FASTCALL,
     "decode_shard(posts, shard, shards, stamps, prefix, content_dir, folders, child, "
     "zone, texts, post_type, fromtimestamp) -> dict"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_posts", "The posts of the last build read back, compiled.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__posts(void)
{
    crc_table_fill();
    empty = PyUnicode_InternFromString("");
    if (empty == NULL) {
        return NULL;
    }
    PyObject *fields = PyTuple_New(FIELD_COUNT);
    if (fields == NULL) {
        return NULL;
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        field_names[i] = PyUnicode_InternFromString(FIELD_NAMES[i]);
        if (field_names[i] == NULL) {
            Py_DECREF(fields);
            return NULL;
        }
        PyTuple_SET_ITEM(fields, i, Py_NewRef(field_names[i]));
    }
    PyObject *made = PyModule_Create(&module);
    if (made == NULL || PyModule_AddObject(made, "FIELDS", fields) < 0) {
        Py_XDECREF(made);
        Py_DECREF(fields);
        return NULL;
    }
    return made;
}
