/* The walk of a source folder that every build takes (see broadsheet/paths.py,
   scan_source), compiled: at 10,000 articles it was a third of a build that found
   nothing to do, nearly all of it Python's work for each file around one stat.

   scan(folder, racy) -> (files, racy_files, odd, odd_folders)
       Every entry below `folder` (bytes, as os.fsencode gives it) whose name starts
       with no ".", folders walked: `files`, {path: [size, mtime_ns, ctime_ns - mtime_ns,
       inode]} for each plain file with an ASCII name that this process may read by
       its owner's mode bits (its owner is the effective user); `racy_files`, those of
       them changed at or after `racy` (an int, or None for none), whose stamps want a
       hash; `odd`, the path of each other entry (a link, a folder or file with a name
       beyond ASCII, anything but a plain file or folder, a file the owner rule does
       not settle, an entry whose stat failed but for its being gone); `odd_folders`,
       each folder that could not be listed, but for its being gone. Paths are made as
       os.scandir's entries make theirs (the folder, "/", the name) and decoded as
       os.fsdecode decodes. The caller judges the odd entries and folders itself, as
       it judges every entry without this module: this module decides only what is
       plain.

   as_stamped(prefix, names, stamps) -> bool
       Whether each file prefix + name (strs) still has, by lstat, the stamp `stamps`
       holds for it ([size, mtime_ns, ctime_ns - mtime_ns, inode]: one with a hash, or
       of any other shape, does not): publish/cache.py's _as_stamped, which stamps the
       output's 30,000 files at 10,000 articles in every build. It stops at the first
       that differs or cannot be stamped.

   folders_held(root, folders) -> list | None
       Whether each folder of `folders` ({name below root: [mtime_ns, ctime_ns, inode]},
       "" for root itself) still has that stamp by lstat: the names of those stamped []
       (too recent to go by: the caller lists their entries) if so, else None (one
       changed, or cannot be stamped, or a stamp is of another shape; a stamp that is
       false, as [] is, is listed).
       publish/cache.py's OutputCheck._known_folders, over 17,000 folders.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char **items;
    size_t size;
    size_t capacity;
} Stack;

static int
stack_push(Stack *stack, const char *path, size_t length)
{
    if (stack->size == stack->capacity) {
        size_t capacity = stack->capacity ? stack->capacity * 2 : 64;
        char **items = realloc(stack->items, capacity * sizeof(char *));
        if (items == NULL) {
            return -1;
        }
        stack->items = items;
        stack->capacity = capacity;
    }
    char *copy = malloc(length + 1);
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, path, length + 1);
    stack->items[stack->size++] = copy;
    return 0;
}

static void
stack_free(Stack *stack)
{
    for (size_t i = 0; i < stack->size; i++) {
        free(stack->items[i]);
    }
    free(stack->items);
}

static int
is_ascii(const char *name)
{
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c >= 128) {
            return 0;
        }
    }
    return 1;
}

static int
append_path(PyObject *list, const char *path, size_t length)
{
    PyObject *text = PyUnicode_DecodeFSDefaultAndSize(path, (Py_ssize_t)length);
    if (text == NULL) {
        return -1;
    }
    int failed = PyList_Append(list, text);
    Py_DECREF(text);
    return failed;
}

static long long
ns(struct timespec moment)
{
    return (long long)moment.tv_sec * 1000000000LL + (long long)moment.tv_nsec;
}

/* files[path] = [size, mtime, ctime - mtime, inode]; and path in racy_files if it
   changed at or after `racy` (when `has_racy`). */
static int
add_file(PyObject *files, PyObject *racy_files, const char *path, size_t length,
         const struct stat *info, int has_racy, long long racy)
{
    long long mtime = ns(info->st_mtim), ctime = ns(info->st_ctim);
    PyObject *stamp = PyList_New(4);
    if (stamp == NULL) {
        return -1;
    }
    PyObject *parts[4] = {
        PyLong_FromLongLong((long long)info->st_size),
        PyLong_FromLongLong(mtime),
        PyLong_FromLongLong(ctime - mtime),
        PyLong_FromUnsignedLongLong((unsigned long long)info->st_ino),
    };
    for (int i = 0; i < 4; i++) {
        if (parts[i] == NULL) {
            for (int j = i + 1; j < 4; j++) {
                Py_XDECREF(parts[j]);
            }
            Py_DECREF(stamp);
            return -1;
        }
        PyList_SET_ITEM(stamp, i, parts[i]);
    }
    PyObject *key = PyUnicode_DecodeFSDefaultAndSize(path, (Py_ssize_t)length);
    if (key == NULL) {
        Py_DECREF(stamp);
        return -1;
    }
    int failed = PyDict_SetItem(files, key, stamp);
    Py_DECREF(stamp);
    if (!failed && has_racy && (mtime >= racy || ctime >= racy)) {
        failed = PyList_Append(racy_files, key);
    }
    Py_DECREF(key);
    return failed;
}

/* One folder's entries: files added, folders pushed, the rest made odd. -1 on a
   Python error (set); 1 if the folder could not be read (the caller makes it odd). */
static int
scan_folder(const char *folder, Stack *pending, PyObject *files, PyObject *racy_files,
            PyObject *odd, int has_racy, long long racy, uid_t uid)
{
    DIR *listing = opendir(folder);
    if (listing == NULL) {
        return errno == ENOENT ? 0 : 1;  /* gone since it was listed: it holds nothing */
    }
    int fd = dirfd(listing);
    size_t base = strlen(folder);
    int slash = base > 0 && folder[base - 1] == '/' ? 0 : 1;
    size_t capacity = base + slash + 256;
    char *path = malloc(capacity);
    if (path == NULL) {
        closedir(listing);
        PyErr_NoMemory();
        return -1;
    }
    memcpy(path, folder, base);
    if (slash) {
        path[base] = '/';
    }
    size_t start = base + slash;
    int outcome = 0;
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(listing);
        if (entry == NULL) {
            if (errno != 0) {
                outcome = 1;
            }
            break;
        }
        const char *name = entry->d_name;
        if (name[0] == '.') {
            continue;
        }
        size_t length = strlen(name);
        if (start + length + 1 > capacity) {
            char *longer = realloc(path, start + length + 1);
            if (longer == NULL) {
                PyErr_NoMemory();
                outcome = -1;
                break;
            }
            path = longer;
            capacity = start + length + 1;
        }
        memcpy(path + start, name, length);
        path[start + length] = '\0';
        size_t full = start + length;
        if (!is_ascii(name)) {
            if (append_path(odd, path, full) < 0) {
                outcome = -1;
                break;
            }
            continue;
        }
        unsigned char kind = entry->d_type;
        if (kind == DT_DIR) {
            if (stack_push(pending, path, full) < 0) {
                PyErr_NoMemory();
                outcome = -1;
                break;
            }
            continue;
        }
        if (kind != DT_REG && kind != DT_UNKNOWN) {
            if (append_path(odd, path, full) < 0) {
                outcome = -1;
                break;
            }
            continue;
        }
        struct stat info;
        if (fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) {
                continue;  /* deleted since it was listed (an editor saving) */
            }
            if (append_path(odd, path, full) < 0) {
                outcome = -1;
                break;
            }
            continue;
        }
        if (S_ISDIR(info.st_mode)) {  /* (a file system that gives no d_type) */
            if (stack_push(pending, path, full) < 0) {
                PyErr_NoMemory();
                outcome = -1;
                break;
            }
            continue;
        }
        if (!S_ISREG(info.st_mode) || info.st_uid != uid || !(info.st_mode & S_IRUSR)) {
            if (append_path(odd, path, full) < 0) {
                outcome = -1;
                break;
            }
            continue;
        }
        if (add_file(files, racy_files, path, full, &info, has_racy, racy) < 0) {
            outcome = -1;
            break;
        }
    }
    free(path);
    closedir(listing);
    return outcome;
}

static PyObject *
scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan(folder, racy) takes two arguments");
        return NULL;
    }
    if (!PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "scan(): the folder is bytes");
        return NULL;
    }
    int has_racy = args[1] != Py_None;
    long long racy = 0;
    if (has_racy) {
        racy = PyLong_AsLongLong(args[1]);
        if (racy == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    PyObject *files = PyDict_New();
    PyObject *racy_files = PyList_New(0);
    PyObject *odd = PyList_New(0);
    PyObject *odd_folders = PyList_New(0);
    Stack pending = {NULL, 0, 0};
    if (files == NULL || racy_files == NULL || odd == NULL || odd_folders == NULL) {
        goto failed;
    }
    const char *top = PyBytes_AS_STRING(args[0]);
    if (stack_push(&pending, top, strlen(top)) < 0) {
        PyErr_NoMemory();
        goto failed;
    }
    uid_t uid = geteuid();
    while (pending.size > 0) {
        char *folder = pending.items[--pending.size];
        int outcome =
            scan_folder(folder, &pending, files, racy_files, odd, has_racy, racy, uid);
        if (outcome == 1 && append_path(odd_folders, folder, strlen(folder)) < 0) {
            outcome = -1;
        }
        free(folder);
        if (outcome < 0) {
            goto failed;
        }
    }
    stack_free(&pending);
    return Py_BuildValue("(NNNN)", files, racy_files, odd, odd_folders);

failed:
    stack_free(&pending);
    Py_XDECREF(files);
    Py_XDECREF(racy_files);
    Py_XDECREF(odd);
    Py_XDECREF(odd_folders);
    return NULL;
}

/* The file system's bytes for a path made of `prefix` and `name` (strs), in `buffer`
   (grown as needed): as os.fsencode encodes them. -1 on an error (set). */
static int
encode_path(PyObject *prefix, PyObject *name, char **buffer, size_t *capacity,
            size_t *length)
{
    PyObject *parts[2] = {prefix, name};
    size_t used = 0;
    for (int i = 0; i < 2; i++) {
        PyObject *part = parts[i];
        if (part == NULL) {
            continue;
        }
        if (!PyUnicode_Check(part)) {
            PyErr_SetString(PyExc_TypeError, "a path is a str");
            return -1;
        }
        PyObject *encoded = NULL;
        const char *bytes;
        Py_ssize_t size;
        if (PyUnicode_IS_ASCII(part)) {
            bytes = (const char *)PyUnicode_DATA(part);
            size = PyUnicode_GET_LENGTH(part);
        }
        else {
            encoded = PyUnicode_EncodeFSDefault(part);
            if (encoded == NULL) {
                return -1;
            }
            bytes = PyBytes_AS_STRING(encoded);
            size = PyBytes_GET_SIZE(encoded);
        }
        if (used + (size_t)size + 1 > *capacity) {
            size_t wanted = (used + (size_t)size + 1) * 2;
            char *grown = realloc(*buffer, wanted);
            if (grown == NULL) {
                Py_XDECREF(encoded);
                PyErr_NoMemory();
                return -1;
            }
            *buffer = grown;
            *capacity = wanted;
        }
        memcpy(*buffer + used, bytes, (size_t)size);
        used += (size_t)size;
        Py_XDECREF(encoded);
    }
    (*buffer)[used] = '\0';
    *length = used;
    return 0;
}

/* Whether `stamp` is a list of `count` ints equal to `values`. */
static int
stamp_is(PyObject *stamp, const long long *values, Py_ssize_t count)
{
    if (!PyList_CheckExact(stamp) || PyList_GET_SIZE(stamp) != count) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(stamp, i);
        if (!PyLong_CheckExact(item)) {
            return 0;
        }
        int overflow = 0;
        long long value = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (overflow || (value == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        if (value != values[i]) {
            return 0;
        }
    }
    return 1;
}

static PyObject *
as_stamped(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyList_Check(args[1])
        || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "as_stamped(prefix: str, names: list, stamps: dict)");
        return NULL;
    }
    char *buffer = NULL;
    size_t capacity = 0, length = 0;
    PyObject *names = args[1];
    int holds = 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names) && holds; i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        PyObject *stamp = PyDict_GetItemWithError(args[2], name);
        if (stamp == NULL) {
            if (PyErr_Occurred()) {
                free(buffer);
                return NULL;
            }
            PyErr_SetObject(PyExc_KeyError, name);
            free(buffer);
            return NULL;
        }
        if (encode_path(args[0], name, &buffer, &capacity, &length) < 0) {
            free(buffer);
            return NULL;
        }
        struct stat info;
        if (strlen(buffer) != length || lstat(buffer, &info) != 0) {
            holds = 0;  /* (a NUL in the name: os.lstat refuses it, and so fails) */
            break;
        }
        long long mtime = ns(info.st_mtim);
        long long values[4] = {(long long)info.st_size, mtime, ns(info.st_ctim) - mtime,
                               (long long)info.st_ino};
        if (info.st_ino > (unsigned long long)LLONG_MAX) {
            holds = 0;  /* (compared as Python would be: no such stamp is kept) */
            break;
        }
        holds = stamp_is(stamp, values, 4);
    }
    free(buffer);
    return PyBool_FromLong(holds);
}

static PyObject *
folders_held(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "folders_held(root: str, folders: dict)");
        return NULL;
    }
    PyObject *root = args[0];
    PyObject *prefix = PyUnicode_FromFormat("%U/", root);
    PyObject *listed = PyList_New(0);
    if (prefix == NULL || listed == NULL) {
        Py_XDECREF(prefix);
        Py_XDECREF(listed);
        return NULL;
    }
    char *buffer = NULL;
    size_t capacity = 0, length = 0;
    Py_ssize_t position = 0;
    PyObject *name, *stamp;
    int holds = 1, failed = 0;
    while (holds && PyDict_Next(args[1], &position, &name, &stamp)) {
        int truth = PyObject_IsTrue(stamp);
        if (truth < 0) {
            failed = 1;
            break;
        }
        if (!truth) {  /* (as the Python twin asks: `not stamp`) */
            if (PyList_Append(listed, name) < 0) {
                failed = 1;
                break;
            }
            continue;
        }
        if (!PyUnicode_Check(name)) {
            holds = 0;
            break;
        }
        int whole = PyUnicode_GET_LENGTH(name) == 0;
        if (encode_path(whole ? root : prefix, whole ? NULL : name, &buffer, &capacity,
                        &length) < 0) {
            failed = 1;
            break;
        }
        struct stat info;
        if (strlen(buffer) != length || lstat(buffer, &info) != 0
            || info.st_ino > (unsigned long long)LLONG_MAX) {
            holds = 0;
            break;
        }
        long long values[3] = {ns(info.st_mtim), ns(info.st_ctim), (long long)info.st_ino};
        holds = stamp_is(stamp, values, 3);
    }
    free(buffer);
    Py_DECREF(prefix);
    if (failed) {
        Py_DECREF(listed);
        return NULL;
    }
    if (!holds) {
        Py_DECREF(listed);
        Py_RETURN_NONE;
    }
    return listed;
}

static PyMethodDef methods[] = {
    {"as_stamped", (PyCFunction)(void (*)(void))as_stamped, METH_FASTCALL,
     "as_stamped(prefix, names, stamps) -> bool"},
    {"folders_held", (PyCFunction)(void (*)(void))folders_held, METH_FASTCALL,
     "folders_held(root, folders) -> list | None"},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(folder, racy) -> (files, racy_files, odd, odd_folders)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_files", "The loops over files every build takes, compiled.", -1, methods,
};

PyMODINIT_FUNC
PyInit__files(void)
{
    return PyModule_Create(&module);
}
