/* The shape of a stamp (broadsheet/stamps.py's well_formed), for the compiled modules
   that check stamps read back from a cache: the files' (_files.c) and the parsed
   posts' (content/_posts.c). */

#ifndef BROADSHEET_STAMP_H
#define BROADSHEET_STAMP_H

/* [int, int, int, int], or the same and a str (exact types: no bool, no subclass) */
static int
stamp_well_formed(PyObject *stamp)
{
    if (!PyList_CheckExact(stamp)) {
        return 0;
    }
    Py_ssize_t size = PyList_GET_SIZE(stamp);
    if (size != 4 && !(size == 5 && PyUnicode_CheckExact(PyList_GET_ITEM(stamp, 4)))) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < 4; i++) {
        if (!PyLong_CheckExact(PyList_GET_ITEM(stamp, i))) {
            return 0;
        }
    }
    return 1;
}

#endif
