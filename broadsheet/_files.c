/* The loops over files that every build takes, compiled. At 10,000 articles the walk
   of the sources was a third of a build that found nothing to do, and the check of
   the output's 30,000 files and 17,000 folders the rest of its critical path: nearly
   all of it Python's work for each entry around one system call.

   scan(folder, racy) -> (files, racy_files, odd, odd_folders)
       Every entry below `folder` (bytes, as os.fsencode gives it) whose name starts
       with no ".", folders walked: `files`, {path: [size, mtime_ns, ctime_ns - mtime_ns,
       inode]} for each plain file with an ASCII name that this process may read by
       its owner's mode bits (its owner is the effective user); `racy_files`, those of
       them changed at or after `racy` (an int, or None for none), whose stamps want a
       hash; `odd`, the path of each other entry (a link, a folder or file with a name
       beyond ASCII, anything but a plain file or folder, a file the owner rule does
       not settle, one whose times do not fit in 64 bits of nanoseconds, one whose
       path is too long to stat by, an entry whose stat failed but for its being gone);
       `odd_folders`, each folder that could not be listed whole, but for its being
       gone (nothing of such a folder is in the other three). Paths are made as
       os.scandir's entries make theirs (the folder, "/", the name) and decoded as
       os.fsdecode decodes. The caller judges the odd entries and folders itself, as
       it judges every entry without this module: this module decides only what is
       plain. Each folder is listed and its files stamped without the GIL (serve builds
       in a thread beside the one that answers the browser).

   walk(folder) -> (files, folders)
       Every entry below `folder` (bytes), hidden ones too, folders
       walked (never through a link): `files`, {name: stamp} for each entry but a
       folder, stamped by lstat as `scan` stamps; `folders`, the name of each folder.
       Names are the paths from just after `folder` and a "/" on, decoded as
       os.fsdecode decodes. An entry that cannot be stamped, or a folder that cannot be
       listed (but for its name), is passed over: publish/cache.py's _walk, which
       takes a deploy's check of a restored site (30,000 files, 17,000 folders) twice
       as long in Python as the rest of that check.

   as_stamped(prefix, names, stamps) -> bool
       Whether each file prefix + name (strs) still has, by lstat, the stamp `stamps`
       holds for it, compared as publish/cache.py's _as_stamped compares it (stamp !=
       [size, mtime_ns, ctime_ns - mtime_ns, inode]), in order, stopping at the first
       that differs or cannot be stamped (a name that cannot be a path, too).

   folders_held(root, folders) -> list | None
       Whether each folder of `folders` ({name below root: [mtime_ns, ctime_ns, inode]},
       "" for root itself) still has that stamp by lstat: the names of those whose stamp
       is false (as [] is: too recent to go by, their entries are to be listed) if so,
       else None. publish/cache.py's _folders_held, over 17,000 folders.

   index_entries(data, hash_size, written_ns, prefix) -> {name: (blob, size, mtime_ns,
                                                                 ctime_ns, inode)}
       The entries of a Git index file (`data`, bytes, its checksum already verified)
       that broadsheet/gitindex.py's _entries gives, the same: each plain file at stage
       0, not marked assume-unchanged, skip-worktree or intent-to-add, whose
       modification time is before `written_ns` and whose path starts with `prefix`
       (bytes), named without it. ValueError where _entries raises one (an index it
       does not read whole). 10,000 entries in a millisecond, where Python took 20.

   vouch_entries(entries, known, old, new) -> (vouched, kept, pending) | None
       What broadsheet/publish/checkout.py's vouch_entries_python gives: for each
       source of `new` ({name: stamp}) that has an entry in `entries` (what
       index_entries gives), the entry's key (its blob, a space, its size) and, if
       the entry holds for the stamp (gitindex.holds) and `known` has a hash for
       that key, `kept`[key] = that hash, and `vouched`[name] = it too where the
       stamp is four ints that differ from `old`'s for the name; else `pending`[name]
       = the entry. None, with nothing judged, where a mapping is not a dict, an
       entry or a stamp is not as the build makes them (a tuple of a str and four
       ints, a list of four ints or more) or an int, or a stamp's change time, does
       not fit in 64 bits: the caller judges them in Python.
       A deploy's 10,000 sources in a few milliseconds, where Python took 26.

   restamped(names, expected, found, hashes, racy, racy_ns) -> list | None
       For each file of `names` (strs), its fresh stamp as publish/cache.py's
       OutputCheck._restamped takes it, where the file is as `found` stamps it
       ({name: [size, mtime_ns, ctime_ns - mtime_ns, inode]}) by its stamp in
       `expected` (four ints, or four and a hash) or put back with its times
       (stamps.is_restored, by `racy_ns`, stamps.RACY_NS): the stamp as found, with the
       hash (the recorded one in `hashes`, or the unchanged stamp's own) where the file
       changed at or after `racy`. None in its place for any other (a file changed, or
       to be read to tell; a hash not known; a stamp not of exact ints that fit in 64
       bits), and None for all when a mapping is not a dict: the caller judges those in
       Python. A deploy's check of a restored site (30,000 files, a dozen of them
       written by the last deploy) in a few milliseconds, where Python took 75.

   well_formed_all(values) -> bool
       Whether each of `values` (an iterable) has the shape of a stamp, as
       broadsheet/stamps.py's well_formed_all tells: a list of four ints, or of four
       ints and a str (exact types: no bool). A build's cache holds 40,000 at 10,000
       articles, each checked as it is read back (6 ms in Python).

   Both checks compare as Python's == does (with a Python list made of the stat when
   the stamp is not four, or three, ints that fit in 64 bits).
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "_stamp.h"

/* ---- times as nanoseconds, as Python's st_mtime_ns gives them ---- */

/* moment in ns, into *out; 0 if it does not fit in a long long */
static int
ns_of(struct timespec moment, long long *out)
{
    long long seconds;
    if (__builtin_mul_overflow((long long)moment.tv_sec, 1000000000LL, &seconds)) {
        return 0;
    }
    return !__builtin_add_overflow(seconds, (long long)moment.tv_nsec, out);
}

/* Python's int for a moment in ns, exact whatever its size */
static PyObject *
ns_object(struct timespec moment)
{
    long long value;
    if (ns_of(moment, &value)) {
        return PyLong_FromLongLong(value);
    }
    PyObject *seconds = PyLong_FromLongLong((long long)moment.tv_sec);
    PyObject *billion = PyLong_FromLong(1000000000L);
    PyObject *nanos = PyLong_FromLong(moment.tv_nsec);
    PyObject *scaled = seconds && billion ? PyNumber_Multiply(seconds, billion) : NULL;
    PyObject *made = scaled && nanos ? PyNumber_Add(scaled, nanos) : NULL;
    Py_XDECREF(seconds);
    Py_XDECREF(billion);
    Py_XDECREF(nanos);
    Py_XDECREF(scaled);
    return made;
}

/* A stat's times in ns and their difference, if all fit in a long long */
static int
plain_times(const struct stat *info, long long *mtime, long long *ctime, long long *offset)
{
    return ns_of(info->st_mtim, mtime) && ns_of(info->st_ctim, ctime)
           && !__builtin_sub_overflow(*ctime, *mtime, offset);
}

/* A list of Python ints from `count` objects made (NULL-safe: NULL if any is) */
static PyObject *
list_of(PyObject **parts, int count)
{
    PyObject *list = NULL;
    for (int i = 0; i < count; i++) {
        if (parts[i] == NULL) {
            goto failed;
        }
    }
    list = PyList_New(count);
    if (list == NULL) {
        goto failed;
    }
    for (int i = 0; i < count; i++) {
        PyList_SET_ITEM(list, i, parts[i]);
    }
    return list;
failed:
    for (int i = 0; i < count; i++) {
        Py_XDECREF(parts[i]);
    }
    return NULL;
}

/* [size, mtime_ns, ctime_ns - mtime_ns, inode], exact */
static PyObject *
file_stamp(const struct stat *info)
{
    long long mtime, ctime, offset;
    PyObject *parts[4] = {PyLong_FromLongLong((long long)info->st_size), NULL, NULL,
                          PyLong_FromUnsignedLongLong((unsigned long long)info->st_ino)};
    if (plain_times(info, &mtime, &ctime, &offset)) {
        parts[1] = PyLong_FromLongLong(mtime);
        parts[2] = PyLong_FromLongLong(offset);
    }
    else {
        PyObject *changed = ns_object(info->st_ctim);
        parts[1] = ns_object(info->st_mtim);
        parts[2] = changed && parts[1] ? PyNumber_Subtract(changed, parts[1]) : NULL;
        Py_XDECREF(changed);
    }
    return list_of(parts, 4);
}

/* [mtime_ns, ctime_ns, inode], exact */
static PyObject *
folder_stamp(const struct stat *info)
{
    PyObject *parts[3] = {ns_object(info->st_mtim), ns_object(info->st_ctim),
                          PyLong_FromUnsignedLongLong((unsigned long long)info->st_ino)};
    return list_of(parts, 3);
}

/* Whether `stamp` is a list of `count` ints, each fitting a long long, equal to
   `values`: 1, 0 if it is such a list and differs, -1 if it is not such a list
   (then only Python's != can tell). */
static int
plain_equal(PyObject *stamp, const long long *values, Py_ssize_t count)
{
    if (!PyList_CheckExact(stamp) || PyList_GET_SIZE(stamp) != count) {
        return -1;
    }
    int equal = 1;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(stamp, i);
        if (!PyLong_CheckExact(item)) {
            return -1;
        }
        int overflow = 0;
        long long value = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (overflow) {
            return -1;
        }
        if (value != values[i]) {
            equal = 0;
        }
    }
    return equal;
}

/* Whether `stamp` != `made` (a new reference, consumed): 1, 0, or -1 on an error */
static int
differs(PyObject *stamp, PyObject *made)
{
    if (made == NULL) {
        return -1;
    }
    int answer = PyObject_RichCompareBool(stamp, made, Py_NE);
    Py_DECREF(made);
    return answer;
}

/* ---- the walk ---- */

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
    memcpy(copy, path, length);
    copy[length] = '\0';
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

typedef struct {
    char *name;
    unsigned char kind;  /* d_type */
    int stat_error;      /* 0: `info` holds its lstat; else errno, or -1 if not asked */
    struct stat info;
} Entry;

typedef struct {
    Entry *items;
    size_t size;
    size_t capacity;
} Entries;

static void
entries_free(Entries *entries)
{
    for (size_t i = 0; i < entries->size; i++) {
        free(entries->items[i].name);
    }
    free(entries->items);
    entries->items = NULL;
    entries->size = entries->capacity = 0;
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

#define LISTED_WHOLE 0
#define OUT_OF_MEMORY (-1)

/* One entry of a folder being listed: kept, and stamped through the folder (`fd`) if
   it may be a plain file (every: if it is no folder), unless it is . or .. (or, but
   with `every`, hidden). LISTED_WHOLE, or OUT_OF_MEMORY. */
static int
list_entry(int fd, const char *name, unsigned char kind, Entries *entries, int every)
{
    if (every ? name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))
              : name[0] == '.') {
        return LISTED_WHOLE;
    }
    if (entries->size == entries->capacity) {
        size_t capacity = entries->capacity ? entries->capacity * 2 : 64;
        Entry *items = realloc(entries->items, capacity * sizeof(Entry));
        if (items == NULL) {
            return OUT_OF_MEMORY;
        }
        entries->items = items;
        entries->capacity = capacity;
    }
    Entry *made = &entries->items[entries->size];
    made->name = strdup(name);
    if (made->name == NULL) {
        return OUT_OF_MEMORY;
    }
    entries->size++;
    made->kind = kind;
    made->stat_error = -1;
    if (every ? made->kind != DT_DIR
              : (made->kind == DT_REG || made->kind == DT_UNKNOWN) && is_ascii(made->name)) {
        made->stat_error =
            fstatat(fd, made->name, &made->info, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
    }
    return LISTED_WHOLE;
}

/* Bytes of records one read of a folder may fill: glibc's readdir asks for as many */
#define LISTING_BYTES 32768

/* The folder a walk began at, opened (fd: -1 if it could not be, or was let go), and
   where the paths of the folders below it go on from it (`skip`: the byte after its
   "/"); and the walk's buffer for a folder's records (NULL if none could be had: then
   folders are read through readdir, as before there was one) */
typedef struct {
    int fd;
    size_t skip;
    char *records;
} Base;

#define FOLDER_FLAGS (O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC) /* (opendir's) */

/* The base of a walk that begins at `folder`, its paths going on from byte `start`. Its
   buffer is on the heap, not the stack: a thread may have as little as 32 KB of stack
   (threading.stack_size), and a walk runs in serve's. */
static Base
base_of(const char *folder, size_t start)
{
    Base base = {open(folder, FOLDER_FLAGS), start, malloc(LISTING_BYTES)};
    return base;
}

static void
base_close(Base *base)
{
    if (base->fd >= 0) {
        close(base->fd);
        base->fd = -1;
    }
    free(base->records);
    base->records = NULL;
}

/* The folder `folder` opened as opendir opens it: below the walk's `base`, by its path
   from there (a restored site's 17,000 folders each looked up from the root of the file
   system took a tenth of a deploy's check), else by its whole path. -1 with errno. Out
   of file descriptors, the base's is let go and the folder opened by its whole path:
   a walk that could list with one descriptor to spare still can. */
static int
open_folder(const char *folder, Base *base)
{
    size_t length = strlen(folder);
    if (length >= PATH_MAX) { /* (as by its path, which is too long) */
        errno = ENAMETOOLONG;
        return -1;
    }
    int below = base->fd >= 0 && length > base->skip;
    int fd = below ? openat(base->fd, folder + base->skip, FOLDER_FLAGS)
                   : open(folder, FOLDER_FLAGS);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && base->fd >= 0) {
        close(base->fd);
        base->fd = -1;
        fd = open(folder, FOLDER_FLAGS);
    }
    return fd;
}

#if defined(__linux__) && defined(SYS_getdents64)
/* What getdents64 fills its buffer with (the kernel's struct linux_dirent64) */
struct folder_record {
    uint64_t inode;
    int64_t next;
    unsigned short length;
    unsigned char kind;
    char name[];
};

/* The open folder `fd`'s entries (see list_folder), read by getdents64 into `records`
   (LISTING_BYTES): LISTED_WHOLE, OUT_OF_MEMORY, or the errno that stopped the reading */
static int
read_records(int fd, char *records, Entries *entries, int every)
{
    for (;;) {
        long filled = syscall(SYS_getdents64, fd, records, (size_t)LISTING_BYTES);
        if (filled < 0) {
            return errno ? errno : EIO;
        }
        if (filled == 0) {
            return LISTED_WHOLE;
        }
        for (long at = 0; at < filled;) { /* (records start on 8-byte boundaries) */
            struct folder_record *record = (struct folder_record *)(records + at);
            int outcome = list_entry(fd, record->name, record->kind, entries, every);
            if (outcome != LISTED_WHOLE) {
                return outcome;
            }
            at += record->length;
        }
    }
}
#endif

/* The open folder `fd`'s entries (see list_folder), read by readdir; `fd` is closed */
static int
read_listing(int fd, Entries *entries, int every)
{
    DIR *listing = fdopendir(fd);
    if (listing == NULL) {
        int error = errno ? errno : EIO;
        close(fd);
        return error;
    }
    int outcome = LISTED_WHOLE;
    while (outcome == LISTED_WHOLE) {
        errno = 0;
        struct dirent *entry = readdir(listing);
        if (entry == NULL) {
            if (errno != 0) {
                outcome = errno;
            }
            break;
        }
        outcome = list_entry(fd, entry->d_name, entry->d_type, entries, every);
    }
    closedir(listing);
    return outcome;
}

/* Without the GIL: `folder`'s entries but hidden ones, each that may be a plain file
   stamped (lstat through the folder); `every`: all entries but . and .., each but a
   folder stamped. LISTED_WHOLE, OUT_OF_MEMORY, or the errno that
   stopped the listing (opening the folder or reading it): then `entries` is empty.

   The folder is opened as opendir opens it, below the walk's `base` (see open_folder),
   and on Linux read by getdents64 into the walk's buffer: opendir also stats each
   folder and allocates a buffer for it, a system call and 32 KB for each of a restored
   site's 17,000 folders, walked by a deploy's output check while the build waits. */
static int
list_folder(const char *folder, Base *base, Entries *entries, int every)
{
    int fd = open_folder(folder, base);
    if (fd < 0) {
        return errno ? errno : EIO;
    }
    int outcome;
#if defined(__linux__) && defined(SYS_getdents64)
    if (base->records != NULL) {
        outcome = read_records(fd, base->records, entries, every);
        close(fd);
    }
    else {
        outcome = read_listing(fd, entries, every);
    }
#else
    outcome = read_listing(fd, entries, every);
#endif
    if (outcome != LISTED_WHOLE) {
        entries_free(entries);
    }
    return outcome;
}

/* A folder's path with "/" after it, and room for a name after that */
typedef struct {
    char *text;
    size_t start;  /* where an entry's name goes */
    size_t capacity;
} PathBuffer;

/* Where an entry's name starts in a path of the folder `folder` (`length` bytes), a
   "/" between them unless the folder ends in one */
static size_t
name_start(const char *folder, size_t length)
{
    return length > 0 && folder[length - 1] == '/' ? length : length + 1;
}

/* 0, or -1 with MemoryError set */
static int
path_begin(PathBuffer *path, const char *folder)
{
    size_t base = strlen(folder);
    path->start = name_start(folder, base);
    path->capacity = path->start + 256;
    path->text = malloc(path->capacity);
    if (path->text == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(path->text, folder, base);
    path->text[path->start - 1] = '/';
    return 0;
}

/* The entry `name` put after the folder: its whole path's length, or 0 with
   MemoryError set */
static size_t
path_of(PathBuffer *path, const char *name)
{
    size_t length = strlen(name);
    if (path->start + length + 1 > path->capacity) {
        char *longer = realloc(path->text, path->start + length + 1);
        if (longer == NULL) {
            PyErr_NoMemory();
            return 0;
        }
        path->text = longer;
        path->capacity = path->start + length + 1;
    }
    memcpy(path->text + path->start, name, length + 1);
    return path->start + length;
}

/* The folder `arg` (bytes without NUL) of a call that takes `wanted` arguments,
   or NULL with TypeError (`usage`) or ValueError set */
static const char *
folder_argument(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t wanted,
                const char *usage)
{
    if (nargs != wanted || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    const char *top = PyBytes_AS_STRING(args[0]);
    if ((Py_ssize_t)strlen(top) != PyBytes_GET_SIZE(args[0])) {
        PyErr_SetString(PyExc_ValueError, "embedded null byte");
        return NULL;
    }
    return top;
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

/* files[path] = its stamp; and path in racy_files if it changed at or after `racy` */
static int
add_file(PyObject *files, PyObject *racy_files, const char *path, size_t length,
         const struct stat *info, long long mtime, long long ctime, int has_racy,
         long long racy)
{
    PyObject *stamp = file_stamp(info);
    if (stamp == NULL) {
        return -1;
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

typedef struct {
    PyObject *files, *racy_files, *odd, *odd_folders;
    int has_racy;
    long long racy;
    uid_t uid;
} Found;

/* What visit_folder does with each entry: 0, or -1 on a Python error (set) */
typedef int (*Visit)(const char *path, size_t full, Entry *entry, void *context);

/* One folder listed (without the GIL; `every`: see list_folder), and `visit` called
   with each entry's path: 0, or -1 on a Python error (set). `*listed` is
   LISTED_WHOLE, or the errno that stopped the listing (nothing was visited). */
static int
visit_folder(const char *folder, Base *base, int every, int *listed, Visit visit,
             void *context)
{
    Entries entries = {NULL, 0, 0};
    int outcome;
    Py_BEGIN_ALLOW_THREADS
    outcome = list_folder(folder, base, &entries, every);
    Py_END_ALLOW_THREADS
    *listed = outcome;
    if (outcome == OUT_OF_MEMORY) {
        PyErr_NoMemory();
        return -1;
    }
    if (outcome != LISTED_WHOLE) {
        return 0;
    }
    PathBuffer buffer;
    if (path_begin(&buffer, folder) < 0) {
        entries_free(&entries);
        return -1;
    }
    for (size_t i = 0; i < entries.size && outcome == 0; i++) {
        size_t full = path_of(&buffer, entries.items[i].name);
        outcome = full == 0 ? -1 : visit(buffer.text, full, &entries.items[i], context);
    }
    free(buffer.text);
    entries_free(&entries);
    return outcome;
}

typedef struct {
    Found *found;
    Stack *pending;
} Scanning;

/* scan(): a plain file added, a folder pushed, the rest made odd */
static int
scan_entry(const char *path, size_t full, Entry *entry, void *context)
{
    Found *found = ((Scanning *)context)->found;
    Stack *pending = ((Scanning *)context)->pending;
    long long mtime = 0, ctime = 0, offset = 0;
    if (!is_ascii(entry->name)) {
        return append_path(found->odd, path, full);
    }
    if (entry->kind == DT_DIR) {
        return stack_push(pending, path, full) < 0 ? (PyErr_NoMemory(), -1) : 0;
    }
    if (full >= PATH_MAX) {  /* (Python stats it by its path, and cannot) */
        return append_path(found->odd, path, full);
    }
    if (entry->stat_error == ENOENT) {
        return 0;  /* deleted since it was listed (an editor saving) */
    }
    if (entry->stat_error != 0) {  /* a link, a pipe, a device; or a failed stat */
        return append_path(found->odd, path, full);
    }
    if (S_ISDIR(entry->info.st_mode)) {  /* (a file system that gives no d_type) */
        return stack_push(pending, path, full) < 0 ? (PyErr_NoMemory(), -1) : 0;
    }
    if (!S_ISREG(entry->info.st_mode) || entry->info.st_uid != found->uid
        || !(entry->info.st_mode & S_IRUSR)
        || !plain_times(&entry->info, &mtime, &ctime, &offset)) {
        return append_path(found->odd, path, full);
    }
    return add_file(found->files, found->racy_files, path, full, &entry->info, mtime, ctime,
                    found->has_racy, found->racy);
}

/* One folder: listed (without the GIL), then its files added, its folders pushed,
   the rest made odd; or the folder made odd. -1 on a Python error (set). */
static int
scan_folder(const char *folder, Base *base, Stack *pending, Found *found)
{
    Scanning scanning = {found, pending};
    int listed;
    int outcome = visit_folder(folder, base, 0, &listed, scan_entry, &scanning);
    if (outcome != 0 || listed == LISTED_WHOLE || listed == ENOENT) {
        return outcome;  /* (ENOENT: gone since it was listed, it holds nothing now) */
    }
    return append_path(found->odd_folders, folder, strlen(folder));
}

static PyObject *
scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    const char *top =
        folder_argument(args, nargs, 2, "scan(folder: bytes, racy: int | None)");
    if (top == NULL) {
        return NULL;
    }
    Found found = {NULL, NULL, NULL, NULL, args[1] != Py_None, 0, geteuid()};
    if (found.has_racy) {
        int overflow = 0;
        found.racy = PyLong_AsLongLongAndOverflow(args[1], &overflow);
        if (found.racy == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (overflow) {  /* (every time fits a long long: none is racy, or all are) */
            found.racy = overflow > 0 ? LLONG_MAX : LLONG_MIN;
        }
    }
    found.files = PyDict_New();
    found.racy_files = PyList_New(0);
    found.odd = PyList_New(0);
    found.odd_folders = PyList_New(0);
    Stack pending = {NULL, 0, 0};
    if (found.files == NULL || found.racy_files == NULL || found.odd == NULL
        || found.odd_folders == NULL) {
        goto failed;
    }
    if (stack_push(&pending, top, strlen(top)) < 0) {
        PyErr_NoMemory();
        goto failed;
    }
    Base base = base_of(top, name_start(top, strlen(top)));
    while (pending.size > 0) {
        char *folder = pending.items[--pending.size];
        int outcome = scan_folder(folder, &base, &pending, &found);
        free(folder);
        if (outcome < 0) {
            base_close(&base);
            goto failed;
        }
    }
    base_close(&base);
    stack_free(&pending);
    return Py_BuildValue("(NNNN)", found.files, found.racy_files, found.odd,
                         found.odd_folders);

failed:
    stack_free(&pending);
    Py_XDECREF(found.files);
    Py_XDECREF(found.racy_files);
    Py_XDECREF(found.odd);
    Py_XDECREF(found.odd_folders);
    return NULL;
}

/* Python's str for the path bytes `path`, from byte `start` on */
static PyObject *
name_of(const char *path, size_t start, size_t length)
{
    return PyUnicode_DecodeFSDefaultAndSize(path + start, (Py_ssize_t)(length - start));
}

typedef struct {
    PyObject *files, *folders;
    Stack *pending;
    size_t start;
} Walking;

/* walk(): a folder named and pushed, anything else that could be stamped added, both
   named from byte `start` of their paths on */
static int
walk_entry(const char *path, size_t full, Entry *entry, void *context)
{
    Walking *walking = context;
    int is_folder =
        entry->kind == DT_DIR || (entry->stat_error == 0 && S_ISDIR(entry->info.st_mode));
    if (!is_folder && entry->stat_error != 0) {
        return 0;  /* (one that could not be stamped is passed over) */
    }
    if (full >= PATH_MAX && entry->kind != DT_DIR) {
        return 0;  /* (Python stats it by its path, and cannot: passed over) */
    }
    PyObject *name = name_of(path, walking->start, full);
    if (name == NULL) {
        return -1;
    }
    int outcome;
    if (is_folder) {
        outcome = PyList_Append(walking->folders, name);
        if (outcome == 0 && stack_push(walking->pending, path, full) < 0) {
            PyErr_NoMemory();
            outcome = -1;
        }
    }
    else {
        PyObject *stamp = file_stamp(&entry->info);
        outcome = stamp == NULL ? -1 : PyDict_SetItem(walking->files, name, stamp);
        Py_XDECREF(stamp);
    }
    Py_DECREF(name);
    return outcome;
}

static PyObject *
walk(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    const char *top = folder_argument(args, nargs, 1, "walk(folder: bytes)");
    if (top == NULL) {
        return NULL;
    }
    size_t length = strlen(top);
    size_t start = name_start(top, length);
    PyObject *files = PyDict_New();
    PyObject *folders = PyList_New(0);
    Stack pending = {NULL, 0, 0};
    if (files == NULL || folders == NULL) {
        goto failed;
    }
    if (stack_push(&pending, top, length) < 0) {
        PyErr_NoMemory();
        goto failed;
    }
    Walking walking = {files, folders, &pending, start};
    Base base = base_of(top, start);
    while (pending.size > 0) {
        char *folder = pending.items[--pending.size];
        int listed;  /* (a folder that cannot be listed holds nothing) */
        int outcome = visit_folder(folder, &base, 1, &listed, walk_entry, &walking);
        free(folder);
        if (outcome < 0) {
            base_close(&base);
            goto failed;
        }
    }
    base_close(&base);
    stack_free(&pending);
    return Py_BuildValue("(NN)", files, folders);

failed:
    stack_free(&pending);
    Py_XDECREF(files);
    Py_XDECREF(folders);
    return NULL;
}

/* ---- the checks ---- */

/* The file system's bytes for the path `prefix` + `name` (strs; `name` may be NULL),
   in `buffer` (grown as needed), as os.fsencode encodes them. 1 if made; 0 if no file
   has that path (a NUL in it, or a character os.fsencode refuses: os.lstat refuses it
   with ValueError, and the Python twin takes that as a file it cannot stamp); -1 on
   an error (set). */
static int
encode_path(PyObject *prefix, PyObject *name, char **buffer, size_t *capacity)
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
            if (encoded == NULL) {  /* (a surrogate no file name has: os.lstat refuses it) */
                if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                    return -1;
                }
                PyErr_Clear();
                return 0;
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
    return strlen(*buffer) == used;
}

/* Whether the file `path` is stamped `stamp` (as Python's == tells): 1, 0 (it differs,
   or cannot be stamped), -1 on an error (set). */
static int
file_as_stamped(const char *path, PyObject *stamp)
{
    struct stat info;
    if (lstat(path, &info) != 0) {
        return 0;
    }
    long long mtime, ctime, offset;
    if (plain_times(&info, &mtime, &ctime, &offset) && info.st_ino <= LLONG_MAX) {
        long long values[4] = {(long long)info.st_size, mtime, offset,
                               (long long)info.st_ino};
        int equal = plain_equal(stamp, values, 4);
        if (equal >= 0) {
            return equal;
        }
    }
    int answer = differs(stamp, file_stamp(&info));
    return answer < 0 ? -1 : !answer;
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
    size_t capacity = 0;
    int holds = 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(args[1]) && holds == 1; i++) {
        PyObject *name = Py_NewRef(PyList_GET_ITEM(args[1], i));
        PyObject *stamp = PyDict_GetItemWithError(args[2], name);
        if (stamp == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetObject(PyExc_KeyError, name);
            }
            holds = -1;
        }
        else {
            Py_INCREF(stamp);
            int made = encode_path(args[0], name, &buffer, &capacity);
            holds = made <= 0 ? made : file_as_stamped(buffer, stamp);
            Py_DECREF(stamp);
        }
        Py_DECREF(name);
    }
    free(buffer);
    if (holds < 0) {
        return NULL;
    }
    return PyBool_FromLong(holds);
}

/* Whether the folder `path` is stamped `stamp`: as file_as_stamped */
static int
folder_as_stamped(const char *path, PyObject *stamp)
{
    struct stat info;
    if (lstat(path, &info) != 0) {
        return 0;
    }
    long long mtime, ctime;
    if (ns_of(info.st_mtim, &mtime) && ns_of(info.st_ctim, &ctime)
        && info.st_ino <= LLONG_MAX) {
        long long values[3] = {mtime, ctime, (long long)info.st_ino};
        int equal = plain_equal(stamp, values, 3);
        if (equal >= 0) {
            return equal;
        }
    }
    int answer = differs(stamp, folder_stamp(&info));
    return answer < 0 ? -1 : !answer;
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
    size_t capacity = 0;
    Py_ssize_t position = 0;
    PyObject *borrowed_name, *borrowed_stamp;
    int holds = 1;
    while (holds == 1 && PyDict_Next(args[1], &position, &borrowed_name, &borrowed_stamp)) {
        PyObject *name = Py_NewRef(borrowed_name), *stamp = Py_NewRef(borrowed_stamp);
        int truth = PyObject_IsTrue(stamp);  /* (as the Python twin asks: `not stamp`) */
        if (truth < 0) {
            holds = -1;
        }
        else if (!truth) {  /* too recent to go by: listed */
            holds = PyList_Append(listed, name) < 0 ? -1 : 1;
        }
        else {
            int whole = PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) == 0;
            int made = encode_path(whole ? root : prefix, whole ? NULL : name, &buffer,
                                   &capacity);
            holds = made <= 0 ? made : folder_as_stamped(buffer, stamp);
        }
        Py_DECREF(name);
        Py_DECREF(stamp);
    }
    free(buffer);
    Py_DECREF(prefix);
    if (holds < 0) {
        Py_DECREF(listed);
        return NULL;
    }
    if (!holds) {
        Py_DECREF(listed);
        Py_RETURN_NONE;
    }
    return listed;
}

/* ---- Git's index (see broadsheet/gitindex.py) ---- */

static uint32_t
be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static PyObject *
index_error(const char *message)
{
    PyErr_SetString(PyExc_ValueError, message);
    return NULL;
}

/* The entry's blob as lower-case hex. */
static PyObject *
hex_of(const unsigned char *blob, Py_ssize_t size)
{
    static const char digits[] = "0123456789abcdef";
    PyObject *text = PyUnicode_New(2 * size, 127);
    if (text == NULL) {
        return NULL;
    }
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t k = 0; k < size; k++) {
        out[2 * k] = (Py_UCS1)digits[blob[k] >> 4];
        out[2 * k + 1] = (Py_UCS1)digits[blob[k] & 15];
    }
    return text;
}

static PyObject *
index_entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyBytes_Check(args[0]) || !PyLong_Check(args[1])
        || !PyLong_Check(args[2]) || !PyBytes_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "index_entries(data: bytes, hash_size: int, written_ns: int, "
                        "prefix: bytes)");
        return NULL;
    }
    long hash_size = PyLong_AsLong(args[1]);
    if (hash_size != 20 && hash_size != 32) {
        return PyErr_Occurred() ? NULL : index_error("index_entries: hash_size is 20 or 32");
    }
    long long written = PyLong_AsLongLong(args[2]);
    if (written == -1 && PyErr_Occurred()) {
        return NULL;
    }
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    const unsigned char *prefix = (const unsigned char *)PyBytes_AS_STRING(args[3]);
    Py_ssize_t prefix_size = PyBytes_GET_SIZE(args[3]);
    Py_ssize_t end = PyBytes_GET_SIZE(args[0]) - hash_size; /* (the checksum's start) */
    if (end < 12) {
        return index_error("an index too short for its header");
    }
    uint32_t version = be32(data + 4), count = be32(data + 8);
    if (version < 2 || version > 4) {
        return index_error("an index version this module does not read");
    }
    Py_ssize_t fixed = 40 + hash_size + 2, at = 12;
    unsigned char *previous = NULL; /* (version 4: the last entry's path) */
    Py_ssize_t previous_size = 0, previous_room = 0;
    PyObject *found = PyDict_New();
    if (found == NULL) {
        return NULL;
    }
    for (uint32_t n = 0; n < count; n++) {
        if (fixed > end - at) {
            index_error("an entry that runs into the checksum");
            goto fail;
        }
        const unsigned char *p = data + at;
        uint32_t mode = be32(p + 24);
        unsigned flags = ((unsigned)p[fixed - 2] << 8) | p[fixed - 1], extended = 0;
        Py_ssize_t start = at + fixed;
        if (flags & 0x4000) {
            if (version < 3) {
                index_error("an extended entry in a version 2 index");
                goto fail;
            }
            if (2 > end - start) {
                index_error("an entry that runs into the checksum");
                goto fail;
            }
            extended = ((unsigned)data[start] << 8) | data[start + 1];
            start += 2;
        }
        const unsigned char *name;
        Py_ssize_t name_size;
        if (version == 4) { /* how much of the last path to drop (varint.c), then the rest */
            if (start >= end) {
                index_error("an entry that runs into the checksum");
                goto fail;
            }
            unsigned char byte = data[start];
            unsigned long long drop = byte & 127;
            while (byte & 128) {
                if (++start >= end || drop > (1ULL << 40)) {
                    index_error("a path that drops more than the last one had");
                    goto fail;
                }
                byte = data[start];
                drop = ((drop + 1) << 7) | (byte & 127);
            }
            start++;
            if (drop > (unsigned long long)previous_size) {
                index_error("a path that drops more than the last one had");
                goto fail;
            }
            const unsigned char *nul = start < end ? memchr(data + start, 0, (size_t)(end - start)) : NULL;
            if (nul == NULL) {
                index_error("a path without its end");
                goto fail;
            }
            Py_ssize_t kept = previous_size - (Py_ssize_t)drop, rest = nul - (data + start);
            if (kept + rest > previous_room) {
                Py_ssize_t room = 2 * (kept + rest) + 64;
                unsigned char *grown = PyMem_Realloc(previous, (size_t)room);
                if (grown == NULL) {
                    PyErr_NoMemory();
                    goto fail;
                }
                previous = grown;
                previous_room = room;
            }
            if (rest > 0) {
                memcpy(previous + kept, data + start, (size_t)rest);
            }
            previous_size = kept + rest;
            name = previous;
            name_size = previous_size;
            at = (nul - data) + 1;
        }
        else { /* the path, then 1 to 8 NULs: the entry is a multiple of 8 bytes */
            const unsigned char *nul = start < end ? memchr(data + start, 0, (size_t)(end - start)) : NULL;
            if (nul == NULL) {
                index_error("a path without its end");
                goto fail;
            }
            name = data + start;
            name_size = nul - name;
            at += (start - at + name_size + 8) & ~(Py_ssize_t)7;
        }
        if (name_size != (Py_ssize_t)(flags & 0xFFF) && (flags & 0xFFF) != 0xFFF) {
            index_error("a path whose length is not the one its flags give");
            goto fail;
        }
        long long mtime = (long long)be32(p + 8) * 1000000000LL + be32(p + 12);
        if (!(mode == 0100644 || mode == 0100755) || (flags & (0x8000 | 0x3000))
            || (extended & (0x4000 | 0x2000)) || mtime >= written || name_size < prefix_size
            || (prefix_size > 0 && memcmp(name, prefix, (size_t)prefix_size) != 0)) {
            continue;
        }
        PyObject *key = PyUnicode_DecodeUTF8((const char *)name + prefix_size,
                                             name_size - prefix_size, "strict");
        PyObject *value = key == NULL ? NULL
                                      : Py_BuildValue("(NkLLk)", hex_of(p + 40, hash_size),
                                                      (unsigned long)be32(p + 36), mtime,
                                                      (long long)be32(p) * 1000000000LL + be32(p + 4),
                                                      (unsigned long)be32(p + 20));
        int failed = value == NULL || PyDict_SetItem(found, key, value) < 0;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (failed) {
            goto fail;
        }
    }
    while (at < end) { /* the extensions: none that leaves entries elsewhere */
        if (8 > end - at) {
            index_error("an extension that runs into the checksum");
            goto fail;
        }
        const unsigned char *p = data + at;
        if (memcmp(p, "link", 4) == 0 || p[0] < 'A' || p[0] > 'Z') {
            index_error("an index with an extension this module does not read past");
            goto fail;
        }
        at += 8 + (Py_ssize_t)be32(p + 4);
    }
    if (at != end) {
        index_error("an extension that runs into the checksum");
        goto fail;
    }
    PyMem_Free(previous);
    return found;
fail:
    PyMem_Free(previous);
    Py_DECREF(found);
    return NULL;
}

/* vouch_entries: an int of an entry or a stamp, as a long long; 0 when it is none
   (not an exact int, or beyond 64 bits): the caller gives up. */
static int
as_long_long(PyObject *value, long long *out)
{
    if (!PyLong_CheckExact(value)) {
        return 0;
    }
    int overflow = 0;
    *out = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow != 0 || (*out == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

#define LOW32 0xFFFFFFFFLL

/* gitindex.holds(entry, stamp) for an entry's blob, size, times and inode and the first
   four ints of a stamp: 1 if it holds, 0 if not, -1 to give up. */
static int
entry_holds(PyObject *blob, const long long *entry, const long long *stamp)
{
    if (entry[0] == 0
        && PyUnicode_CompareWithASCIIString(blob, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391") != 0
        && PyUnicode_CompareWithASCIIString(
               blob, "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813")
               != 0) {
        return 0;
    }
    long long changed;
    if (__builtin_add_overflow(stamp[1], stamp[2], &changed)) {
        return -1;
    }
    return (stamp[0] & LOW32) == entry[0] && stamp[1] == entry[1] && changed == entry[2]
           && (stamp[3] & LOW32) == entry[3];
}

/* One source of vouch_entries: 0 once judged, 1 to give up, -1 with an exception set.
   `name` and `stamp` are held by the caller: a comparison below may run Python code
   (a str subclass's __eq__ as a key, whatever `old` holds), which may change `new`. */
static int
vouch_one(PyObject *name, PyObject *stamp, PyObject *const *args, PyObject *vouched,
          PyObject *kept, PyObject *pending)
{
    PyObject *entries = args[0], *known = args[1], *old = args[2];
    PyObject *entry = PyDict_GetItemWithError(entries, name);
    if (entry == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 5
        || !PyUnicode_CheckExact(PyTuple_GET_ITEM(entry, 0)) || !PyList_CheckExact(stamp)
        || PyList_GET_SIZE(stamp) < 4) {
        return 1;
    }
    long long numbers[4], stamped[4];
    for (int k = 0; k < 4; k++) {
        if (!as_long_long(PyTuple_GET_ITEM(entry, k + 1), &numbers[k])
            || !as_long_long(PyList_GET_ITEM(stamp, k), &stamped[k])) {
            return 1;
        }
    }
    PyObject *blob = PyTuple_GET_ITEM(entry, 0);
    int holds = entry_holds(blob, numbers, stamped);
    if (holds < 0) {
        return 1;
    }
    PyObject *key = PyUnicode_FromFormat("%U %lld", blob, numbers[0]);
    if (key == NULL) {
        return -1;
    }
    PyObject *found = holds ? PyDict_GetItemWithError(known, key) : NULL;
    if (found == NULL) {
        Py_DECREF(key);
        return PyErr_Occurred() || PyDict_SetItem(pending, name, entry) < 0 ? -1 : 0;
    }
    Py_INCREF(found);
    int failed = PyDict_SetItem(kept, key, found) < 0;
    Py_DECREF(key);
    if (!failed && PyList_GET_SIZE(stamp) == 4) {
        PyObject *before = PyDict_GetItemWithError(old, name);
        Py_XINCREF(before);
        int differs = before == NULL ? !PyErr_Occurred()
                                     : PyObject_RichCompareBool(before, stamp, Py_NE);
        Py_XDECREF(before);
        failed = differs < 0 || PyErr_Occurred()
                 || (differs && PyDict_SetItem(vouched, name, found) < 0);
    }
    Py_DECREF(found);
    return failed ? -1 : 0;
}

static PyObject *
vouch_entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyDict_Check(args[0]) || !PyDict_Check(args[1])
        || !PyDict_Check(args[2]) || !PyDict_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "vouch_entries(entries: dict, known: dict, old: dict, new: dict)");
        return NULL;
    }
    for (int k = 0; k < 4; k++) {
        if (!PyDict_CheckExact(args[k])) { /* (a subclass's own get: the twin's) */
            Py_RETURN_NONE;
        }
    }
    PyObject *vouched = PyDict_New(), *kept = PyDict_New(), *pending = PyDict_New();
    PyObject *result = NULL, *name, *stamp;
    if (vouched == NULL || kept == NULL || pending == NULL) {
        goto done;
    }
    Py_ssize_t at = 0;
    int judged = 0;
    while (judged == 0 && PyDict_Next(args[3], &at, &name, &stamp)) {
        Py_INCREF(name);
        Py_INCREF(stamp);
        judged = vouch_one(name, stamp, args, vouched, kept, pending);
        Py_DECREF(name);
        Py_DECREF(stamp);
    }
    if (judged == 0) {
        result = PyTuple_Pack(3, vouched, kept, pending);
    }
    else if (judged > 0) {
        Py_INCREF(Py_None);
        result = Py_None;
    }
done:
    Py_XDECREF(vouched);
    Py_XDECREF(kept);
    Py_XDECREF(pending);
    return result;
}

/* restamped: one file's fresh stamp (a new reference), as publish/cache.py's
   OutputCheck._restamped takes it; NULL where that is left to Python (a stamp not as
   the walk and the cache make them, a file that is neither as stamped nor put back
   with its times, a hash that cannot be told; an error, cleared: the Python loop meets
   it again in its order). What is read is held first: a lookup may run Python code
   (a key's __eq__), which may change the mappings and the stamps in them. */
static PyObject *
restamp_one(PyObject *name, PyObject *const *args, long long racy, long long racy_ns)
{
    PyObject *expected = args[1], *found = args[2], *hashes = args[3];
    PyObject *fresh = NULL, *digest = NULL, *items[4] = {NULL, NULL, NULL, NULL};
    PyObject *old = PyDict_GetItemWithError(expected, name);
    Py_XINCREF(old);
    PyObject *stamp = old != NULL ? PyDict_GetItemWithError(found, name) : NULL;
    Py_XINCREF(stamp);
    long long was[4], now[4], changed;
    if (stamp == NULL || !PyList_CheckExact(old) || !PyList_CheckExact(stamp)
        || PyList_GET_SIZE(stamp) != 4 || PyList_GET_SIZE(old) < 4 || PyList_GET_SIZE(old) > 5) {
        goto done;
    }
    Py_ssize_t old_size = PyList_GET_SIZE(old);
    for (int k = 0; k < 4; k++) {
        items[k] = PyList_GET_ITEM(stamp, k);
        Py_INCREF(items[k]);
        if (!as_long_long(PyList_GET_ITEM(old, k), &was[k]) || !as_long_long(items[k], &now[k])) {
            goto done;
        }
    }
    /* stamp == old (an old stamp with a hash differs: unchanged() reads the file) */
    int same = old_size == 4 && was[0] == now[0] && was[1] == now[1] && was[2] == now[2]
               && was[3] == now[3];
    /* stamp != old, and not stamps.is_restored(old, stamp): unchanged() may read it */
    if (!same && !(now[3] != was[3] && now[0] == was[0] && now[1] == was[1] && was[2] >= racy_ns)) {
        goto done;
    }
    if (__builtin_add_overflow(now[1], now[2], &changed)) { /* stamps.is_racy(stamp, racy) */
        goto done;
    }
    if ((changed > now[1] ? changed : now[1]) < racy) {
        Py_INCREF(stamp);
        fresh = stamp;
        goto done;
    }
    if (same) { /* (racy, and no hash in its old stamp: Python gives no fresh stamps) */
        goto done;
    }
    digest = PyDict_GetItemWithError(hashes, name); /* (restored: the recorded hash) */
    Py_XINCREF(digest);
    if (digest == NULL || digest == Py_None) { /* (None: as none, in Python) */
        goto done;
    }
    for (int k = 0; k < 4; k++) { /* (the lookup ran a key's __eq__, which changed it) */
        if (PyList_GET_SIZE(stamp) != 4 || PyList_GET_ITEM(stamp, k) != items[k]) {
            goto done;
        }
    }
    fresh = PyList_New(5);
    if (fresh != NULL) {
        for (int k = 0; k < 4; k++) {
            Py_INCREF(items[k]);
            PyList_SET_ITEM(fresh, k, items[k]);
        }
        Py_INCREF(digest);
        PyList_SET_ITEM(fresh, 4, digest);
    }
done:
    PyErr_Clear();
    for (int k = 0; k < 4; k++) {
        Py_XDECREF(items[k]);
    }
    Py_XDECREF(old);
    Py_XDECREF(stamp);
    Py_XDECREF(digest);
    return fresh;
}

static PyObject *
restamped(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    long long racy, racy_ns;
    if (nargs != 6 || !PyList_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])
        || !PyDict_Check(args[3]) || !PyLong_Check(args[4]) || !PyLong_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError, "restamped(names: list, expected: dict, found: dict, "
                                         "hashes: dict, racy: int, racy_ns: int)");
        return NULL;
    }
    PyObject *names = args[0];
    if (!PyList_CheckExact(names) || !PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[2])
        || !PyDict_CheckExact(args[3]) || !as_long_long(args[4], &racy)
        || !as_long_long(args[5], &racy_ns)) {
        Py_RETURN_NONE;
    }
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL) {
        return NULL;
    }
    for (Py_ssize_t at = 0; at < PyList_GET_SIZE(names); at++) {
        PyObject *name = PyList_GET_ITEM(names, at);
        Py_INCREF(name);
        PyObject *stamp = PyUnicode_CheckExact(name) ? restamp_one(name, args, racy, racy_ns)
                                                     : NULL;
        Py_DECREF(name);
        if (stamp == NULL) { /* (judged in Python) */
            Py_INCREF(Py_None);
            stamp = Py_None;
        }
        int failed = PyList_Append(fresh, stamp);
        Py_DECREF(stamp);
        if (failed < 0) {
            Py_DECREF(fresh);
            return NULL;
        }
    }
    return fresh;
}

static PyObject *
well_formed_all(PyObject *module, PyObject *values)
{
    PyObject *iterator = PyObject_GetIter(values), *value;
    if (iterator == NULL) {
        return NULL;
    }
    int all = 1;
    while (all && (value = PyIter_Next(iterator)) != NULL) {
        all = stamp_well_formed(value);
        Py_DECREF(value);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyBool_FromLong(all);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(folder, racy) -> (files, racy_files, odd, odd_folders)"},
    {"walk", (PyCFunction)(void (*)(void))walk, METH_FASTCALL,
     "walk(folder) -> (files, folders)"},
    {"as_stamped", (PyCFunction)(void (*)(void))as_stamped, METH_FASTCALL,
     "as_stamped(prefix, names, stamps) -> bool"},
    {"folders_held", (PyCFunction)(void (*)(void))folders_held, METH_FASTCALL,
     "folders_held(root, folders) -> list | None"},
    {"index_entries", (PyCFunction)(void (*)(void))index_entries, METH_FASTCALL,
     "index_entries(data, hash_size, written_ns, prefix) -> dict"},
    {"vouch_entries", (PyCFunction)(void (*)(void))vouch_entries, METH_FASTCALL,
     "vouch_entries(entries, known, old, new) -> (vouched, kept, pending) | None"},
    {"restamped", (PyCFunction)(void (*)(void))restamped, METH_FASTCALL,
     "restamped(names, expected, found, hashes, racy, racy_ns) -> list | None"},
    {"well_formed_all", (PyCFunction)well_formed_all, METH_O,
     "well_formed_all(values) -> bool"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_files", "The loops over files every build takes, compiled.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__files(void)
{
    return PyModule_Create(&module);
}
