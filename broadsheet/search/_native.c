/* The search index's loops that run once a word or once a posting: compiled.

   count_words(text, stems) -> (counts, words)
       What terms.count_words_python gives: the runs of letters and digits in `text`
       (a character is one when it is an ASCII letter or digit, or beyond ASCII and
       str.isalnum()), each mapped to its term through `stems` (a dict, or a dict
       subclass whose __missing__ works a term out, and gives a word the same term each
       time: it is asked once a distinct word), and counted: {term: count} in the
       order each term first occurs, and how many words there were. A word met again
       is found in a table of the text's own characters: no string is made for it.
       None when that table's probes pass a few for each word (see GIVE_UP): its hash
       is unkeyed, so text made to collide in it would take time quadratic in its
       words, and the caller counts such a text with the Python twin (whose dict's
       hash is keyed for each process).

   text_of(markup, blocks, inlines) -> str | None
       What terms.text_of gives for an article's HTML, or None where that needs more
       than this knows: any tag but a lower-case one (<p>, </em>, <img src="...">) of
       whose attributes none holds "<", where its quotes close; a tag named script,
       style or template; "<" that starts no tag; a character reference but &amp;
       &lt; &gt; &quot; &#39; (what Markdown writes). A tag whose name is in `blocks`
       ends a line, one in `inlines` joins what is either side, any other is a space;
       each line's runs of white space (str.isspace) become one space, its ends go,
       and empty lines are dropped. (terms.text_of, given None, reads the page by its
       regular expressions.)

   slice_add(terms, triples, number, counts), slice_runs(terms, triples, groups, shards)
       A slice's postings, as the index's merge gathers them (see index.py,
       _PackedPostings): each article's (term number, id, count) triples added to the
       end of one bytearray; once the slice is done, one run for each group of term
       files: each term's CRC-32, UTF-8 and postings (id, count as uint32, in the
       machine's order), with no Python object made for a term. One buffer that grows
       by an article at a time, where a bytearray for each term was reallocated at
       nearly every posting while it was small.

   Gathering()
       One group's runs, slice by slice, each term's postings put end to end (add);
       then its term files written in JSON, the gaps between ids worked out, as
       orjson writes what index._shard_data gives (write).

   Each has a pure-Python twin that gives the same (broadsheet/search/terms.py and
   index.py); tests hold the two to each other. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../_crc32.h"
#include <stddef.h>
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
    Py_ssize_t probes; /* slots looked at past each word's first, growing included */
} Table;

/* A table half full at most, of words that hash at random, looks at about one slot
   more than the first for each word on average; one of words made to collide looks at
   as many as it holds. Past this many, count_words gives up (None). */
#define GIVE_UP(words) (8 * (words) + 8192)

/* Slots (open addressing: 1 + an index, 0 when empty) of `size`, a power of two, for
   `used` entries of `stride` bytes each, whose 64-bit hash is at `offset` in each; the
   slots looked at past each entry's first are added to *probes. NULL when out of memory.
   (slots_for: Py_ssize_t slots, as a text's Table has; slots32_for: uint32_t.) */
#define SLOTS_FOR(NAME, SLOT)                                                                \
    static SLOT *NAME(const char *entries, size_t stride, size_t offset, Py_ssize_t used,    \
                      size_t size, Py_ssize_t *probes)                                       \
    {                                                                                        \
        SLOT *slots = PyMem_Calloc(size, sizeof(SLOT));                                      \
        if (slots == NULL) {                                                                 \
            PyErr_NoMemory();                                                                \
            return NULL;                                                                     \
        }                                                                                    \
        for (Py_ssize_t n = 0; n < used; n++) {                                              \
            uint64_t hash;                                                                   \
            memcpy(&hash, entries + (size_t)n * stride + offset, sizeof(hash));              \
            size_t at = (size_t)hash & (size - 1);                                           \
            while (slots[at] != 0) {                                                         \
                at = (at + 1) & (size - 1);                                                  \
                ++*probes;                                                                   \
            }                                                                                \
            slots[at] = (SLOT)(n + 1);                                                       \
        }                                                                                    \
        return slots;                                                                        \
    }

SLOTS_FOR(slots_for, Py_ssize_t)
SLOTS_FOR(slots32_for, uint32_t)

/* `*slots` (of *mask + 1) replaced by `size` slots for the same `used` entries (see
   SLOTS_FOR); -1 with an exception set when out of memory. */
static int
reslot32(uint32_t **slots, size_t *mask, const void *entries, size_t stride, size_t offset,
         Py_ssize_t used, size_t size)
{
    Py_ssize_t probes = 0; /* (each entry is kept once: as many as it takes) */
    uint32_t *made = slots32_for((const char *)entries, stride, offset, used, size, &probes);
    if (made == NULL) {
        return -1;
    }
    PyMem_Free(*slots);
    *slots = made;
    *mask = size - 1;
    return 0;
}

static int
table_grow_slots(Table *table)
{
    size_t size = (table->mask + 1) * 2;
    Py_ssize_t *slots = slots_for((const char *)table->words, sizeof(Word), offsetof(Word, hash),
                                  table->used, size, &table->probes);
    if (slots == NULL) {
        return -1;
    }
    PyMem_Free(table->slots);
    table->slots = slots;
    table->mask = size - 1;
    return 0;
}

/* `array` (of *allocated items of `each` bytes, all taken) with room for more: twice
   as many, or `first` when it has none; NULL (the array as it was, an exception set)
   when out of memory. */
static void *
grown(void *array, Py_ssize_t *allocated, size_t each, Py_ssize_t first)
{
    Py_ssize_t more = *allocated ? *allocated * 2 : first;
    void *bigger = PyMem_Realloc(array, (size_t)more * each);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *allocated = more;
    return bigger;
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
        table->probes++;
    }
    if (table->used == table->allocated) {
        Word *words = grown(table->words, &table->allocated, sizeof(Word), 256);
        if (words == NULL) {
            return -1;
        }
        table->words = words;
    }
    table->words[table->used] = (Word){start, length, 1, hash};
    table->used++;
    table->slots[at] = table->used;
    if ((size_t)table->used * 2 > table->mask) {
        return table_grow_slots(table);
    }
    return 0;
}

/* A word's hash: FNV-1a over its characters, its high bits folded into the low ones
   that pick a slot. The same for a word read in a text (SCAN) and given as a string
   (word_hash), so that a StemTable finds it either way. */
#define FNV_START 14695981039346656037ULL

static inline uint64_t
fnv_step(uint64_t hash, Py_UCS4 c)
{
    return (hash ^ c) * 1099511628211ULL;
}

static inline uint64_t
fnv_done(uint64_t hash)
{
    return hash ^ (hash >> 29);
}

/* Count each run of word characters in the text: one function a character width, so
   that news text (one byte a character) is read without a switch at each. 0 when done,
   1 when given up (see GIVE_UP), -1 with an exception set. */
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
            uint64_t hash = FNV_START;                                              \
            Py_UCS4 c;                                                              \
            while (at < size && is_word(c = READ(at))) {                            \
                hash = fnv_step(hash, c);                                           \
                at++;                                                               \
            }                                                                       \
            hash = fnv_done(hash);                                                  \
            if (table_count(table, DATA, KIND, start, at - start, hash) < 0) {      \
                return -1;                                                          \
            }                                                                       \
            ++*words;                                                               \
            if (table->probes > GIVE_UP(*words)) {                                  \
                return 1;                                                           \
            }                                                                       \
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

/* StemTable(stem, limit): what count_words looks a word's term up in, word -> term,
   kept in C. A word met before is found by the hash and the characters its article's
   own table already has (see SCAN): no string is made for it, and no dict is probed
   with its SipHash, whose misses in a cache of 26,000 words were a third of counting.
   `stem` (a function of a word, giving a str) is called once for each distinct word,
   and what it gives is kept. A word of at most INLINE_CHARS characters below U+0100
   is kept in the entry itself; a longer one as its string. The table is emptied when
   it holds `limit` words (as terms._Stems was). Where the probes for one word pass
   MOST_PROBES (words made to collide: the hash is unkeyed), its term is worked out
   and not kept: never more than a few probes a word. table[word] is the same lookup,
   for a word given as a string. */
#define INLINE_CHARS 16
#define MOST_PROBES 32

typedef struct {
    uint64_t hash;
    uint32_t length;    /* in characters */
    uint32_t stem_size; /* its stem's UTF-8, at stem_at in the table's `utf8`; NO_UTF8 when
                           none is kept: then its string is held, at stem_at in `held` */
    Py_hash_t stem_hash; /* the stem's (a str's hash); with its UTF-8, what TermNumbers
                            finds it by, without a read of the string (see term_number) */
    uint32_t stem_at;
    uint32_t inline_; /* 1 when its characters are in `chars`; 0 when `word` is its string */
    union {
        PyObject *word;
        Py_UCS1 chars[INLINE_CHARS];
    } is;
} Stemmed; /* (48 bytes; a worker keeps its titles' words here, 6,600 at 10,000
               articles: its slices keep the rest, see slice_word_new) */

/* A stem or term with no UTF-8 kept for it: not an exact str, one with a lone
   surrogate, or past what 32 bits place. Its string is read where it is needed. */
#define NO_UTF8 UINT32_MAX

typedef struct {
    PyObject_HEAD
    PyObject *stem;
    PyObject *quick; /* or NULL: see stem_table_new */
    Py_ssize_t most; /* the longest word `quick` is given */
    Py_ssize_t limit;
    Stemmed *entries;
    Py_ssize_t used;
    Py_ssize_t allocated;
    uint32_t *slots; /* 1 + an index into entries, 0 when empty */
    size_t mask;
    uint64_t serial; /* its own, never another's: what a slice's words name it by */
    char *utf8;      /* the stems' UTF-8, end to end (see Stemmed.stem_at) */
    size_t utf8_used;
    size_t utf8_allocated;
    PyObject **held; /* the stems with no UTF-8 kept, held (see Stemmed.stem_size) */
    Py_ssize_t held_used;
    Py_ssize_t held_allocated;
} StemTable;

static PyTypeObject StemTableType;
static uint64_t stem_tables_made; /* (the GIL held: the last serial given) */

/* Copy `size` bytes (a term's UTF-8, a word's characters) to the end of an arena
   (`*arena`, of which `*used` of `*allocated` bytes are taken), and say where (`*at`,
   `*placed`): *placed is NO_UTF8 where 32 bits cannot place them. -1 with an exception
   set when out of memory. */
static int
append_bytes(char **arena, size_t *used, size_t *allocated, const char *chars, size_t size,
            uint32_t *at, uint32_t *placed)
{
    *at = 0;
    *placed = NO_UTF8;
    if (size >= NO_UTF8 || *used + size >= NO_UTF8) {
        return 0;
    }
    if (size == 0) { /* (no bytes: none read, none written, wherever the arena is) */
        *placed = 0;
        return 0;
    }
    if (*used + size > *allocated) {
        size_t grown = *allocated ? *allocated * 2 : 16384;
        while (grown < *used + size) {
            grown *= 2;
        }
        char *bytes = PyMem_Realloc(*arena, grown);
        if (bytes == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        *arena = bytes;
        *allocated = grown;
    }
    memcpy(*arena + *used, chars, size);
    *at = (uint32_t)*used;
    *placed = (uint32_t)size;
    *used += size;
    return 0;
}

/* The UTF-8 of `term` (an exact str), or NULL with *size NO_UTF8 where it has none (a
   lone surrogate: its error is raised where the UTF-8 is needed). */
static const char *
utf8_of(PyObject *term, Py_ssize_t *size)
{
    const char *chars = PyUnicode_AsUTF8AndSize(term, size);
    if (chars == NULL) {
        PyErr_Clear();
        *size = NO_UTF8;
    }
    return chars;
}

static uint64_t
word_hash(int kind, const void *data, Py_ssize_t start, Py_ssize_t length)
{
    uint64_t hash = FNV_START;
    for (Py_ssize_t k = start; k < start + length; k++) {
        hash = fnv_step(hash, PyUnicode_READ(kind, data, k));
    }
    return fnv_done(hash);
}

static int
stemmed_is(const Stemmed *entry, int kind, const void *data, Py_ssize_t start, Py_ssize_t length)
{
    if (entry->inline_) {
        if (kind == PyUnicode_1BYTE_KIND) {
            return memcmp(entry->is.chars, (const Py_UCS1 *)data + start, (size_t)length) == 0;
        }
        for (Py_ssize_t k = 0; k < length; k++) {
            if (PyUnicode_READ(kind, data, start + k) != entry->is.chars[k]) {
                return 0;
            }
        }
        return 1;
    }
    int held = PyUnicode_KIND(entry->is.word);
    const void *chars = PyUnicode_DATA(entry->is.word);
    if (held == kind) {
        return memcmp(chars, (const char *)data + start * kind, (size_t)(length * kind)) == 0;
    }
    for (Py_ssize_t k = 0; k < length; k++) {
        if (PyUnicode_READ(kind, data, start + k) != PyUnicode_READ(held, chars, k)) {
            return 0;
        }
    }
    return 1;
}

static void
stem_table_empty(StemTable *table)
{
    Py_ssize_t used = table->used;
    table->used = 0;
    table->utf8_used = 0;
    if (table->slots != NULL) {
        memset(table->slots, 0, (table->mask + 1) * sizeof(uint32_t));
    }
    for (Py_ssize_t n = 0; n < used; n++) { /* (a word is an exact str: no Python runs) */
        if (!table->entries[n].inline_) {
            Py_DECREF(table->entries[n].is.word);
        }
    }
    /* A stem may be a str subclass, whose __del__ may use the table: its stems are let
       go only once the table holds none of them. */
    PyObject **held = table->held;
    Py_ssize_t count = table->held_used;
    table->held = NULL;
    table->held_used = table->held_allocated = 0;
    for (Py_ssize_t n = 0; n < count; n++) {
        Py_DECREF(held[n]);
    }
    PyMem_Free(held);
}

/* A free slot for `hash` among `slots` (of mask + 1), its place; -1 past MOST_PROBES. */
static Py_ssize_t
free_slot(const uint32_t *slots, size_t mask, uint64_t hash)
{
    size_t at = (size_t)hash & mask;
    for (int probes = 0; slots[at] != 0; probes++) {
        if (probes >= MOST_PROBES) {
            return -1;
        }
        at = (at + 1) & mask;
    }
    return (Py_ssize_t)at;
}

static int
stem_table_grow(StemTable *table)
{
    return reslot32(&table->slots, &table->mask, table->entries, sizeof(Stemmed),
                    offsetof(Stemmed, hash), table->used, (table->mask + 1) * 2);
}

/* Keep `stem` for the word text[start:start+length] (`word`, its string). */
static int
stem_table_keep(StemTable *table, PyObject *word, int kind, const void *data,
                Py_ssize_t start, Py_ssize_t length, uint64_t hash, PyObject *stem)
{
    if (length > (Py_ssize_t)UINT32_MAX) {
        return 0; /* (not kept) */
    }
    if (table->used >= table->limit) {
        stem_table_empty(table);
    }
    if ((size_t)(table->used + 1) * 2 > table->mask + 1 && stem_table_grow(table) < 0) {
        return -1;
    }
    Py_ssize_t at = free_slot(table->slots, table->mask, hash);
    if (at < 0) {
        return 0; /* (not kept: see MOST_PROBES) */
    }
    uint32_t stem_at = 0, stem_size = NO_UTF8;
    Py_hash_t stem_hash = -1;
    if (PyUnicode_CheckExact(stem)) { /* (an exact str's hash and UTF-8 run no Python) */
        Py_ssize_t size;
        const char *chars = utf8_of(stem, &size);
        stem_hash = PyObject_Hash(stem);
        if (stem_hash == -1
            || (chars != NULL
                && append_bytes(&table->utf8, &table->utf8_used, &table->utf8_allocated, chars,
                               (size_t)size, &stem_at, &stem_size) < 0)) {
            return -1;
        }
    }
    if (table->used == table->allocated) {
        Stemmed *entries = grown(table->entries, &table->allocated, sizeof(Stemmed), 1024);
        if (entries == NULL) {
            return -1;
        }
        table->entries = entries;
    }
    if (stem_size == NO_UTF8) { /* (held: see Stemmed.stem_size) */
        if (table->held_used == table->held_allocated) {
            PyObject **held = grown(table->held, &table->held_allocated, sizeof(PyObject *), 16);
            if (held == NULL) {
                return -1;
            }
            table->held = held;
        }
        stem_at = (uint32_t)table->held_used;
    }
    Stemmed *entry = &table->entries[table->used];
    entry->hash = hash;
    entry->length = (uint32_t)length;
    entry->stem_hash = stem_hash;
    entry->stem_at = stem_at;
    entry->stem_size = stem_size;
    entry->inline_ = length <= INLINE_CHARS;
    for (Py_ssize_t k = 0; entry->inline_ && k < length; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, start + k);
        if (c > 0xFF) {
            entry->inline_ = 0;
        }
        else {
            entry->is.chars[k] = (Py_UCS1)c;
        }
    }
    if (!entry->inline_) {
        Py_INCREF(word);
        entry->is.word = word;
    }
    if (stem_size == NO_UTF8) {
        Py_INCREF(stem);
        table->held[table->held_used++] = stem;
    }
    table->used++;
    table->slots[at] = (uint32_t)table->used;
    return 0;
}

/* The entry kept for the word data[start:start+length] whose hash is `hash`, or NULL
   (valid until the table is next changed). */
static const Stemmed *
stem_table_find(const StemTable *table, int kind, const void *data, Py_ssize_t start,
                Py_ssize_t length, uint64_t hash)
{
    size_t at = (size_t)hash & table->mask;
    for (int probes = 0;; probes++) {
        uint32_t slot = table->slots[at];
        if (slot == 0 || probes > MOST_PROBES) {
            return NULL;
        }
        const Stemmed *entry = &table->entries[slot - 1];
        if (entry->hash == hash && entry->length == length
            && stemmed_is(entry, kind, data, start, length)) {
            return entry;
        }
        at = (at + 1) & table->mask;
    }
}

/* The UTF-8 of an entry's stem (NULL where it is not kept: see Stemmed.stem_size). */
static inline const char *
stemmed_utf8(const StemTable *table, const Stemmed *entry)
{
    return entry->stem_size == NO_UTF8 ? NULL
           : entry->stem_size == 0     ? ""
                                       : table->utf8 + entry->stem_at;
}

/* An entry's stem: a new reference. */
static PyObject *
stemmed_stem(const StemTable *table, const Stemmed *entry)
{
    if (entry->stem_size == NO_UTF8) {
        PyObject *stem = table->held[entry->stem_at];
        Py_INCREF(stem);
        return stem;
    }
    return PyUnicode_DecodeUTF8(stemmed_utf8(table, entry), entry->stem_size, NULL);
}

static inline int
ascii_letter(Py_UCS1 c) /* [^\W\d_], of lower-case ASCII */
{
    return c >= 'a' && c <= 'z';
}

static inline int
ascii_alnum(Py_UCS1 c) /* [^\W_] */
{
    return ascii_letter(c) || (c >= '0' && c <= '9');
}

static inline int
ascii_w(Py_UCS1 c) /* \w */
{
    return ascii_alnum(c) || c == '_';
}

/* Whether `word` is given to a stem table's `quick` stemmer: of 1 to `most` characters,
   each a-z or 0-9 (what terms.stem_of stems, uncut). */
static int
quick_word(PyObject *word, Py_ssize_t most)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(word);
    if (PyUnicode_KIND(word) != PyUnicode_1BYTE_KIND || length < 1 || length > most) {
        return 0;
    }
    const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(word);
    for (Py_ssize_t k = 0; k < length; k++) {
        if (!ascii_alnum(chars[k])) {
            return 0;
        }
    }
    return 1;
}

/* The term of the word text[start:start+length] whose hash is `hash`: a new reference.
   A word not in the table is stemmed, and kept there if `keep`. */
static PyObject *
stem_table_get(StemTable *table, PyObject *text, int kind, const void *data,
               Py_ssize_t start, Py_ssize_t length, uint64_t hash, int keep)
{
    if (table->stem == NULL) { /* (cleared by the garbage collector) */
        PyErr_SetString(PyExc_ValueError, "StemTable: cleared");
        return NULL;
    }
    const Stemmed *entry = stem_table_find(table, kind, data, start, length, hash);
    if (entry != NULL) {
        return stemmed_stem(table, entry);
    }
    PyObject *word = PyUnicode_Substring(text, start, start + length);
    if (word == NULL) {
        return NULL;
    }
    PyObject *stem;
    if (table->quick != NULL && quick_word(word, table->most)) {
        stem = PyObject_CallOneArg(table->quick, word);
        if (stem != NULL && PyUnicode_CheckExact(stem) && PyUnicode_GET_LENGTH(stem) == length
            && PyUnicode_KIND(stem) == PyUnicode_1BYTE_KIND
            && memcmp(PyUnicode_1BYTE_DATA(stem), PyUnicode_1BYTE_DATA(word), (size_t)length)
                   == 0) {
            Py_SETREF(stem, Py_NewRef(word)); /* (one string for both, as stem_of gives) */
        }
    }
    else {
        stem = PyObject_CallOneArg(table->stem, word);
    }
    if (stem != NULL && !PyUnicode_Check(stem)) {
        PyErr_Format(PyExc_TypeError, "StemTable: a stem must be a str, not %.100s",
                     Py_TYPE(stem)->tp_name);
        Py_CLEAR(stem);
    }
    /* (the table is probed again to keep it: the call ran Python, which may have used
       the table, and grown or emptied it) */
    if (stem != NULL && keep
        && stem_table_keep(table, word, kind, data, start, length, hash, stem) < 0) {
        Py_CLEAR(stem);
    }
    Py_DECREF(word);
    return stem;
}

static PyObject *
stem_table_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *stem, *quick = Py_None;
    Py_ssize_t limit, most = 0;
    static char *names[] = {"stem", "limit", "quick", "most", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "On|On:StemTable", names, &stem, &limit,
                                     &quick, &most)) {
        return NULL;
    }
    if (quick != Py_None && (!PyCallable_Check(quick) || most < 1)) {
        PyErr_SetString(PyExc_ValueError, "StemTable(quick: a function, most: 1 or more)");
        return NULL;
    }
    if (!PyCallable_Check(stem) || limit < 1 || limit > (Py_ssize_t)(UINT32_MAX / 4)) {
        PyErr_SetString(PyExc_ValueError, "StemTable(stem: a function, limit: 1 or more)");
        return NULL;
    }
    StemTable *table = (StemTable *)type->tp_alloc(type, 0);
    if (table == NULL) {
        return NULL;
    }
    table->slots = PyMem_Calloc(1024, sizeof(uint32_t));
    if (table->slots == NULL) {
        Py_DECREF(table);
        return PyErr_NoMemory();
    }
    table->mask = 1023;
    table->serial = ++stem_tables_made;
    Py_INCREF(stem);
    table->stem = stem;
    table->quick = quick != Py_None ? Py_NewRef(quick) : NULL;
    table->most = most;
    table->limit = limit;
    return (PyObject *)table;
}

static int
stem_table_traverse(StemTable *table, visitproc visit, void *arg)
{
    Py_VISIT(table->stem);
    Py_VISIT(table->quick);
    return 0;
}

static int
stem_table_clear(StemTable *table)
{
    Py_CLEAR(table->stem);
    Py_CLEAR(table->quick);
    return 0;
}

static void
stem_table_dealloc(StemTable *table)
{
    PyObject_GC_UnTrack(table);
    stem_table_empty(table);
    Py_CLEAR(table->stem);
    Py_CLEAR(table->quick);
    PyMem_Free(table->entries);
    PyMem_Free(table->slots);
    PyMem_Free(table->utf8);
    PyMem_Free(table->held);
    Py_TYPE(table)->tp_free((PyObject *)table);
}

static Py_ssize_t
stem_table_length(StemTable *table)
{
    return table->used;
}

static PyObject *
stem_table_subscript(StemTable *table, PyObject *word)
{
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "StemTable: a word must be a str");
        return NULL;
    }
    if (PyUnicode_READY(word) < 0) {
        return NULL;
    }
    int kind = PyUnicode_KIND(word);
    const void *data = PyUnicode_DATA(word);
    Py_ssize_t length = PyUnicode_GET_LENGTH(word);
    return stem_table_get(table, word, kind, data, 0, length, word_hash(kind, data, 0, length),
                          1);
}

static PyMappingMethods stem_table_mapping = {
    (lenfunc)stem_table_length,
    (binaryfunc)stem_table_subscript,
    NULL,
};

static PyTypeObject StemTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "broadsheet.search._native.StemTable",
    .tp_basicsize = sizeof(StemTable),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "StemTable(stem, limit): word -> term, kept in C (see count_words)",
    .tp_new = stem_table_new,
    .tp_traverse = (traverseproc)stem_table_traverse,
    .tp_clear = (inquiry)stem_table_clear,
    .tp_dealloc = (destructor)stem_table_dealloc,
    .tp_as_mapping = &stem_table_mapping,
};

/* A word's lookup is three reads, each of memory no other word's needs: its slot, its
   entry and its stem (whose count is raised). In a build, with the table's 26,000 words
   and their stems spread through a worker's heap, each was a cache miss, one after the
   other: perf put a third of an index's counting there. So the words ahead are looked
   up in steps, a few words apart (`words[n + AHEAD]`'s slot is fetched, `n + AHEAD / 2`'s
   entry, `n + AHEAD / 4`'s stem), and the reads of each step are under way together.
   A prefetch is only a hint: what it reads may be stale (a stem worked out since may
   have grown or emptied the table) and never faults. */
#define AHEAD 16
/* (GCC drops a __builtin_prefetch whose address is loaded only for it, as here: an
   instruction it must keep, where there is one) */
#if defined(__GNUC__) && defined(__x86_64__)
#define PREFETCH(address) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(address)))
#elif defined(__GNUC__) && defined(__aarch64__)
#define PREFETCH(address) __asm__ volatile("prfm pldl1keep, %a0" : : "p"(address))
#elif defined(__GNUC__)
#define PREFETCH(address) __builtin_prefetch(address)
#else /* (MSVC has no __builtin_prefetch: the loads are done, and nothing fetched) */
#define PREFETCH(address) ((void)(address))
#endif

static inline void
stem_table_prefetch(const StemTable *table, const Word *words, Py_ssize_t n, Py_ssize_t used)
{
    if (n + AHEAD < used) {
        PREFETCH(&table->slots[(size_t)words[n + AHEAD].hash & table->mask]);
    }
    if (n + AHEAD / 2 < used) {
        uint32_t slot = table->slots[(size_t)words[n + AHEAD / 2].hash & table->mask];
        if (slot != 0) {
            PREFETCH(&table->entries[slot - 1]);
        }
    }
    if (n + AHEAD / 4 < used) {
        const Word *w = &words[n + AHEAD / 4];
        uint32_t slot = table->slots[(size_t)w->hash & table->mask];
        if (slot != 0 && table->entries[slot - 1].hash == w->hash) {
            const Stemmed *entry = &table->entries[slot - 1];
            if (entry->stem_size != NO_UTF8) {
                PREFETCH(stemmed_utf8(table, entry));
            }
        }
    }
}

/* stems[word], through __missing__ when the dict lacks it: a new reference. */
static PyObject *
stem_of(PyObject *stems, PyObject *word)
{
    /* A dict (or a subclass that keeps dict's [], as terms._Stems does, adding only
       __missing__) is looked in directly; anything else through its []. */
    if (PyDict_Check(stems)
        && Py_TYPE(stems)->tp_as_mapping->mp_subscript == PyDict_Type.tp_as_mapping->mp_subscript) {
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
    /* (made to hold the distinct words' terms at once: it grew eight times in an
       article, by as many as its 600 terms, rehashing them each time) */
#if PY_VERSION_HEX < 0x030F0000
    PyObject *counts = _PyDict_NewPresized(table->used);
#else
    PyObject *counts = PyDict_New();
#endif
    if (counts == NULL) {
        return NULL;
    }
    int fast = Py_IS_TYPE(stems, &StemTableType);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t n = 0; n < table->used; n++) {
        Word *w = &table->words[n];
        PyObject *term;
        if (fast) {
            stem_table_prefetch((StemTable *)stems, table->words, n, table->used);
            term = stem_table_get((StemTable *)stems, text, kind, data, w->start, w->length,
                                  w->hash, 1);
        }
        else {
            PyObject *word = PyUnicode_Substring(text, w->start, w->start + w->length);
            if (word == NULL) {
                goto fail;
            }
            term = stem_of(stems, word);
            Py_DECREF(word);
        }
        if (term == NULL) {
            goto fail;
        }
        if (PyUnicode_CheckExact(term)) { /* (as a rule: no Python runs to probe for it) */
            Py_ssize_t size = PyDict_GET_SIZE(counts);
            PyObject *number = PyLong_FromSsize_t(w->count);
            PyObject *held = number == NULL ? NULL : PyDict_SetDefault(counts, term, number);
            int failed = held == NULL;
            if (!failed && PyDict_GET_SIZE(counts) == size) { /* two words, one term */
                Py_ssize_t prior = PyLong_AsSsize_t(held);
                PyObject *sum = prior == -1 && PyErr_Occurred()
                                    ? NULL
                                    : PyLong_FromSsize_t(prior + w->count);
                failed = sum == NULL || PyDict_SetItem(counts, term, sum) < 0;
                Py_XDECREF(sum);
            }
            Py_XDECREF(number);
            Py_DECREF(term);
            if (failed) {
                goto fail;
            }
            continue;
        }
        Py_ssize_t total = w->count;
        PyObject *before = PyDict_GetItemWithError(counts, term);
        if (before != NULL) {
            Py_ssize_t prior = PyLong_AsSsize_t(before);
            if (prior == -1 && PyErr_Occurred()) {
                Py_DECREF(term);
                goto fail;
            }
            total += prior;
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

/* The distinct words of `text` into `table` (its arrays made here: the caller frees
   them), and how many words; 0 when done, 1 when given up (see GIVE_UP), -1 with an
   exception set. */
static int
scan_words(PyObject *text, Table *table, Py_ssize_t *words)
{
    if (PyUnicode_READY(text) < 0) {
        return -1;
    }
    table->words = PyMem_Malloc(256 * sizeof(Word));
    table->slots = PyMem_Calloc(1024, sizeof(Py_ssize_t));
    if (table->words == NULL || table->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int kind = PyUnicode_KIND(text);
    const char *data = PyUnicode_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    return kind == PyUnicode_1BYTE_KIND ? scan_1byte(table, (const Py_UCS1 *)data, size, words)
                                        : scan_any(table, data, kind, size, words);
}

static PyObject *
count_words(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "count_words(text, stems)");
        return NULL;
    }
    PyObject *text = args[0], *stems = args[1];
    if (!PyUnicode_Check(text) || !PyMapping_Check(stems)) {
        PyErr_SetString(PyExc_TypeError,
                        "count_words: text must be a str, stems a mapping or a StemTable");
        return NULL;
    }
    Table table = {NULL, 0, 256, NULL, 1023, 0};
    Py_ssize_t words = 0;
    PyObject *result = NULL;
    int scanned = scan_words(text, &table, &words);
    if (scanned > 0) {
        Py_INCREF(Py_None);
        result = Py_None;
    }
    else if (scanned == 0) {
        PyObject *counts = counted(text, &table, stems);
        if (counts != NULL) {
            result = Py_BuildValue("(Nn)", counts, words);
        }
    }
    PyMem_Free(table.words);
    PyMem_Free(table.slots);
    return result;
}

/* fold_join(text, folds) -> str | None: what terms._joined(terms._folded(text)) gives,
   for a text of ASCII and of the characters `folds` holds (a bytes of FOLDS_SIZE, where
   folds[c] is the ASCII character the character c folds to alone, 0 where it folds to
   none, or to more than one: terms.FOLDS); None for any other text. Each character is
   folded (an ASCII capital lowered; ’ and the others by `folds`); then, where the text
   has a ".", each dotted abbreviation loses its dots (terms._ABBREVIATION), and where it
   has a "'", each possessive its 's and each inner apostrophe goes (terms._APOSTROPHE),
   as the regular expressions' substitutions do, in ASCII, where \w is a letter, a digit
   or "_". News text is ASCII with a few such characters (’ “ ” £ €): this is one pass
   over it where Python made a dozen. */
#define FOLDS_SIZE 0x2100

/* s[*from:n] up to the next `c` (or the end) copied at once to out[*to:]; both moved
   past what was copied. */
static inline void
copy_until(const Py_UCS1 *s, Py_ssize_t n, Py_UCS1 c, Py_UCS1 *out, Py_ssize_t *from,
           Py_ssize_t *to)
{
    const Py_UCS1 *found = memchr(s + *from, c, (size_t)(n - *from));
    Py_ssize_t plain = found == NULL ? n - *from : found - (s + *from);
    memcpy(out + *to, s + *from, (size_t)plain);
    *to += plain;
    *from += plain;
}

/* The dotted abbreviations of s[:n] without their dots, into out; its length. A match
   starts at a "." after a letter that follows no \w and no "."; then a letter, any
   more ".letter", an optional ".", and no \w after: the longest such, as the regular
   expression backtracks from its greedy repeat. */
static Py_ssize_t
undot(const Py_UCS1 *s, Py_ssize_t n, Py_UCS1 *out)
{
    Py_ssize_t w = 0, p = 0;
    while (p < n) {
        copy_until(s, n, '.', out, &p, &w);
        if (p >= n) {
            break;
        }
        Py_ssize_t end = -1;
        if (p >= 1 && ascii_letter(s[p - 1])
            && (p < 2 || !(ascii_w(s[p - 2]) || s[p - 2] == '.')) && p + 1 < n
            && ascii_letter(s[p + 1])) {
            Py_ssize_t most = p + 2; /* past ".L" and each further ".L" */
            while (most + 1 < n && s[most] == '.' && ascii_letter(s[most + 1])) {
                most += 2;
            }
            for (Py_ssize_t at = most; at >= p + 2 && end < 0; at -= 2) {
                if (at < n && s[at] == '.' && (at + 1 >= n || !ascii_w(s[at + 1]))) {
                    end = at + 1; /* (the optional "." taken) */
                }
                else if (at >= n || !ascii_w(s[at])) {
                    end = at;
                }
            }
        }
        if (end < 0) {
            out[w++] = s[p++];
            continue;
        }
        for (; p < end; p++) {
            if (s[p] != '.') {
                out[w++] = s[p];
            }
        }
    }
    return w;
}

/* s[:n] without possessives' 's and inner apostrophes, into out; its length: at a "'"
   after a letter or digit, "'s" goes when no letter or digit follows the s, else "'"
   goes when a letter or digit follows it. */
static Py_ssize_t
unquote(const Py_UCS1 *s, Py_ssize_t n, Py_UCS1 *out)
{
    Py_ssize_t w = 0, q = 0;
    while (q < n) {
        copy_until(s, n, '\'', out, &q, &w);
        if (q >= n) {
            break;
        }
        if (q >= 1 && ascii_alnum(s[q - 1]) && q + 1 < n) {
            if (s[q + 1] == 's' && (q + 2 >= n || !ascii_alnum(s[q + 2]))) {
                q += 2;
                continue;
            }
            if (ascii_alnum(s[q + 1])) {
                q += 1;
                continue;
            }
        }
        out[w++] = s[q++];
    }
    return w;
}

/* Eight bytes as eight lanes of one byte: 1 in each, and each one's high bit. */
#define ONES 0x0101010101010101ULL
#define HIGH_BITS 0x8080808080808080ULL
/* Eight bytes as four lanes of two (a two-byte text's characters): 1 in each, each
   one's high bit, and the bits of a character beyond ASCII. */
#define ONES_2BYTE 0x0001000100010001ULL
#define HIGH_BITS_2BYTE 0x8000800080008000ULL
#define NOT_ASCII_2BYTE 0xFF80FF80FF80FF80ULL

/* Of eight bytes read as lanes of one or two bytes (UNITS: 1 in each lane; HIGH: a
   lane's high bit) each below HIGH, those from lo to hi, as their high bits set (and
   other bits: mask them with UNITS * HIGH). Each test adds to every lane at once, and
   no sum carries into the next lane. */
#define LANES_IN(v, UNITS, HIGH, lo, hi)                                                     \
    (((v) + (UNITS) * ((HIGH) - (lo))) & ~((v) + (UNITS) * ((HIGH)-1 - (hi))))

/* The text's characters folded (see fold_join) into `out`, one byte each: 0, or -1 at
   a character `folds` has no ASCII one for. One function a character width. Eight
   bytes of ASCII characters are lower-cased at once (FOLD_EIGHT): a lane (a
   character) from 'A' to 'Z' sets its high bit (see LANES_IN), which, moved down to
   0x20, is added; two bytes a character, each is then narrowed to one. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
static inline Py_ssize_t
fold_eight_1byte(const Py_UCS1 *chars, Py_ssize_t at, Py_ssize_t size, Py_UCS1 *out)
{
    uint64_t v;
    while (at + 8 <= size && (memcpy(&v, chars + at, 8), (v & HIGH_BITS) == 0)) {
        v += (LANES_IN(v, ONES, 0x80ULL, 'A', 'Z') & HIGH_BITS) >> 2;
        memcpy(out + at, &v, 8);
        at += 8;
    }
    return at;
}

static inline Py_ssize_t
fold_eight_2byte(const Py_UCS2 *chars, Py_ssize_t at, Py_ssize_t size, Py_UCS1 *out)
{
    uint64_t v;
    while (at + 4 <= size && (memcpy(&v, chars + at, 8), (v & NOT_ASCII_2BYTE) == 0)) {
        v += (LANES_IN(v, ONES_2BYTE, 0x8000ULL, 'A', 'Z') & HIGH_BITS_2BYTE) >> 10;
        v = (v | (v >> 8)) & 0x0000FFFF0000FFFFULL;
        uint32_t four = (uint32_t)(v | (v >> 16));
        memcpy(out + at, &four, 4);
        at += 4;
    }
    return at;
}
#else
#define fold_eight_1byte(chars, at, size, out) (at)
#define fold_eight_2byte(chars, at, size, out) (at)
#endif
#define fold_eight_4byte(chars, at, size, out) (at)

#define FOLD(NAME, T, EIGHT)                                                                 \
    static int NAME(const void *data, Py_ssize_t size, const unsigned char *folds,           \
                    Py_UCS1 *out)                                                            \
    {                                                                                        \
        const T *chars = data;                                                               \
        for (Py_ssize_t at = 0; (at = EIGHT(chars, at, size, out)) < size; at++) {           \
            Py_UCS4 c = chars[at];                                                           \
            if (c >= 128) {                                                                  \
                if (c >= FOLDS_SIZE || folds[c] == 0 || folds[c] >= 128) {                   \
                    return -1;                                                               \
                }                                                                            \
                c = folds[c];                                                                \
            }                                                                                \
            out[at] = (Py_UCS1)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);                 \
        }                                                                                    \
        return 0;                                                                            \
    }

FOLD(fold_1byte, Py_UCS1, fold_eight_1byte)
FOLD(fold_2byte, Py_UCS2, fold_eight_2byte)
FOLD(fold_4byte, Py_UCS4, fold_eight_4byte)

static PyObject *
fold_join(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyBytes_Check(args[1])
        || PyBytes_GET_SIZE(args[1]) != FOLDS_SIZE) {
        PyErr_SetString(PyExc_TypeError, "fold_join(text: str, folds: bytes of 0x2100)");
        return NULL;
    }
    PyObject *text = args[0];
    const unsigned char *folds = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (size < 0) { /* (never: it tells the compiler the sizes below are no more than half
                       of memory, which it otherwise warns of) */
        PyErr_BadInternalCall();
        return NULL;
    }
    Py_UCS1 *one = PyMem_Malloc((size_t)size + 1), *two = PyMem_Malloc((size_t)size + 1);
    PyObject *result = NULL;
    if (one == NULL || two == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int folded = kind == PyUnicode_1BYTE_KIND   ? fold_1byte(data, size, folds, one)
                 : kind == PyUnicode_2BYTE_KIND ? fold_2byte(data, size, folds, one)
                                                : fold_4byte(data, size, folds, one);
    if (folded < 0) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    int dots = memchr(one, '.', (size_t)size) != NULL;
    int quotes = memchr(one, '\'', (size_t)size) != NULL;
    Py_UCS1 *now = one, *spare = two;
    Py_ssize_t length = size;
    if (dots) {
        length = undot(now, length, spare);
        now = two, spare = one;
    }
    if (quotes) {
        length = unquote(now, length, spare);
        now = spare;
    }
    result = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, now, length);
done:
    PyMem_Free(one);
    PyMem_Free(two);
    return result;
}

/* The ASCII characters text_of writes as they are: all but white space, '<' and '&'. */
static unsigned char ascii_plain[128];

/* A run of text_of's plain characters, eight bytes at a time: from data[at], each
   eight bytes whose characters are all ASCII and plain, or a single space between two
   plain ones (a space last of the eight is left to the loop a character), copied to
   text[*length] as they are; where the run stops. The classes of all the characters
   in the eight bytes are tested at once: a lane (a character) from lo to hi sets its
   high bit (see LANES_IN). News text is mostly such runs, which text_of read
   a character at a time (3,000 article bodies: 16.0 against 9.7 us an article). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define PLAIN_EIGHT(NAME, T, UNITS, HIGH, NOT_ASCII)                                         \
    static inline Py_ssize_t NAME(const T *data, Py_ssize_t at, Py_ssize_t size, T *text,    \
                                  Py_ssize_t *length)                                        \
    {                                                                                        \
        const Py_ssize_t lanes = 8 / sizeof(T);                                              \
        const uint64_t highs = (UNITS) * (HIGH), last = (HIGH) << (64 - 8 * sizeof(T));      \
        uint64_t v;                                                                          \
        while (at + lanes <= size && (memcpy(&v, data + at, 8), (v & (NOT_ASCII)) == 0)) {   \
            /* (white space, '&' and '<' are not plain; nor a space before a space) */       \
            uint64_t unplain = (LANES_IN(v, UNITS, HIGH, 0x09, 0x0D)                         \
                                | LANES_IN(v, UNITS, HIGH, 0x1C, 0x1F)                       \
                                | LANES_IN(v, UNITS, HIGH, '&', '&')                         \
                                | LANES_IN(v, UNITS, HIGH, '<', '<'))                        \
                               & highs;                                                      \
            uint64_t spaces = LANES_IN(v, UNITS, HIGH, ' ', ' ') & highs;                    \
            if (unplain != 0 || (spaces & (spaces >> (8 * sizeof(T)))) != 0                  \
                || (spaces & last) != 0) {                                                   \
                break;                                                                       \
            }                                                                                \
            memcpy(text + *length, &v, 8);                                                   \
            *length += lanes;                                                                \
            at += lanes;                                                                     \
        }                                                                                    \
        return at;                                                                           \
    }
PLAIN_EIGHT(plain_eight_1byte, Py_UCS1, ONES, 0x80ULL, HIGH_BITS)
PLAIN_EIGHT(plain_eight_2byte, Py_UCS2, ONES_2BYTE, 0x8000ULL, NOT_ASCII_2BYTE)
#else
#define plain_eight_1byte(data, at, size, text, length) (at)
#define plain_eight_2byte(data, at, size, text, length) (at)
#endif
#define plain_eight_4byte(data, at, size, text, length) (at)

/* The tag names a text_of call has looked up, with what each does to the text: an
   article's hundred tags have a handful of names, and each name was a new string and
   one or two lookups in the sets. */
#define TAG_NAMES 16
#define TAG_NAME_CHARS 15

typedef struct {
    int count;
    struct {
        char name[TAG_NAME_CHARS];
        Py_ssize_t length;
        Py_UCS4 as;
    } seen[TAG_NAMES];
} TagNames;

/* The tag at markup[at] ('<'), if text_of can read it: *end is set past its '>', *kind
   to '\n' (a block), 0 (inline) or ' ' (another). 0 when it cannot (see text_of). */
static int
read_tag(PyObject *markup, int kind, const void *data, Py_ssize_t size, Py_ssize_t at,
         PyObject *blocks, PyObject *inlines, TagNames *names, Py_ssize_t *end, Py_UCS4 *as)
{
    Py_ssize_t name = at + 1;
    if (name < size && PyUnicode_READ(kind, data, name) == '/') {
        name++;
    }
    if (name >= size) {
        return 0;
    }
    Py_UCS4 first = PyUnicode_READ(kind, data, name);
    if (first < 'a' || first > 'z') { /* <!--, <?, <A, </ , < 3: the regular expressions */
        return 0;
    }
    Py_ssize_t after = name;
    while (after < size) {
        Py_UCS4 c = PyUnicode_READ(kind, data, after);
        if (!(c == '_' || c == '-' || is_word(c))) { /* what [\w-] matches */
            break;
        }
        after++;
    }
    Py_ssize_t close = after;
    while (close < size) {
        Py_UCS4 c = PyUnicode_READ(kind, data, close);
        if (c == '>') {
            break;
        }
        if (c == '<') {
            return 0;
        }
        if (c == '"' || c == '\'') {
            Py_ssize_t quote = close + 1;
            while (quote < size && PyUnicode_READ(kind, data, quote) != c) {
                if (PyUnicode_READ(kind, data, quote) == '<') {
                    return 0;
                }
                quote++;
            }
            if (quote >= size) {
                return 0;
            }
            close = quote;
        }
        close++;
    }
    if (close >= size) {
        return 0;
    }
    /* A name beyond ASCII is left to the regular expressions, which match script,
       style and template without case, and so also ſcript or scrıpt. */
    char lower[9];
    Py_ssize_t letters = after - name;
    for (Py_ssize_t k = name; k < after; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        if (c >= 128) {
            return 0;
        }
        if (k - name < 8) {
            lower[k - name] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    if (letters <= 8) {
        lower[letters] = 0;
        if (!strcmp(lower, "script") || !strcmp(lower, "style") || !strcmp(lower, "template")) {
            return 0;
        }
    }
    *end = close + 1;
    for (int n = 0; n < names->count; n++) {
        if (names->seen[n].length != letters) {
            continue;
        }
        Py_ssize_t k = 0;
        const char *seen = names->seen[n].name;
        while (k < letters && PyUnicode_READ(kind, data, name + k) == (Py_UCS1)seen[k]) {
            k++;
        }
        if (k == letters) {
            *as = names->seen[n].as;
            return 1;
        }
    }
    PyObject *tag = PyUnicode_Substring(markup, name, after);
    if (tag == NULL) {
        return -1;
    }
    int block = PySet_Contains(blocks, tag);
    int inline_ = block == 0 ? PySet_Contains(inlines, tag) : 0;
    Py_DECREF(tag);
    if (block < 0 || inline_ < 0) {
        return -1;
    }
    *as = block ? '\n' : inline_ ? 0 : ' ';
    if (names->count < TAG_NAMES && letters <= TAG_NAME_CHARS) {
        for (Py_ssize_t k = 0; k < letters; k++) { /* (ASCII: see above) */
            names->seen[names->count].name[k] = (char)PyUnicode_READ(kind, data, name + k);
        }
        names->seen[names->count].length = letters;
        names->seen[names->count++].as = *as;
    }
    return 1;
}

/* The five references Markdown writes, at markup[at] ('&'): their character, and *end
   past them; 0 for any other. */
static Py_UCS4
read_reference(int kind, const void *data, Py_ssize_t size, Py_ssize_t at, Py_ssize_t *end)
{
    static const struct {
        const char *name;
        Py_UCS4 character;
    } known[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    for (int n = 0; n < 5; n++) {
        const char *name = known[n].name;
        Py_ssize_t length = (Py_ssize_t)strlen(name);
        if (at + length > size) {
            continue;
        }
        Py_ssize_t k = 0;
        while (k < length && PyUnicode_READ(kind, data, at + k) == (Py_UCS4)name[k]) {
            k++;
        }
        if (k == length) {
            *end = at + length;
            return known[n].character;
        }
    }
    return 0;
}

/* text_of's loop over markup of one width (T, its characters' type) into `text`, of the
   same width: the text's length; -1 when it cannot read the markup (None), or -2 with
   an error set. One function a width, so that a character is read and written without
   a switch on the width (a third of the time). */
#define TEXT_OF(NAME, T, EIGHT)                                                              \
    static Py_ssize_t NAME(PyObject *markup, int kind, const T *data, Py_ssize_t size,      \
                           PyObject *blocks, PyObject *inlines, T *text)                    \
    {                                                                                        \
        TagNames names = {0};                                                                \
        Py_ssize_t length = 0;                                                               \
        int space = 0;      /* white space met since the line's last character */            \
        int line_break = 0; /* a block's end met since the text's last character */          \
        Py_ssize_t at = 0;                                                                   \
        while (at < size) {                                                                  \
            Py_UCS4 c = data[at];                                                            \
            Py_ssize_t next = at + 1;                                                        \
            if (c == '<') {                                                                  \
                Py_UCS4 as;                                                                  \
                int read = read_tag(markup, kind, data, size, at, blocks, inlines, &names,   \
                                    &next, &as);                                             \
                if (read <= 0) {                                                             \
                    return read - 1; /* (None, or the error set) */                          \
                }                                                                            \
                if (as == '\n') {                                                            \
                    line_break = 1;                                                          \
                }                                                                            \
                else if (as == ' ') {                                                        \
                    space = 1;                                                               \
                }                                                                            \
                at = next;                                                                   \
                continue;                                                                    \
            }                                                                                \
            if (c == '&') {                                                                  \
                c = read_reference(kind, data, size, at, &next);                             \
                if (c == 0) {                                                                \
                    return -1;                                                               \
                }                                                                            \
            }                                                                                \
            else if (Py_UNICODE_ISSPACE(c)) {                                                \
                space = 1;                                                                   \
                at = next;                                                                   \
                continue;                                                                    \
            }                                                                                \
            /* (a character written is never a line's end: text[length - 1] is none) */    \
            if (line_break && length > 0) {                                                  \
                text[length++] = '\n';                                                       \
            }                                                                                \
            else if (space && length > 0) {                                                  \
                text[length++] = ' ';                                                        \
            }                                                                                \
            line_break = space = 0;                                                          \
            text[length++] = (T)c;                                                           \
            at = next;                                                                       \
            /* (the rest of a run of ASCII characters written as they are, at once, with   \
               each single space between two of them: what the loop above writes of it) */  \
            while ((at = EIGHT(data, at, size, text, &length)) < size) {                     \
                if ((c = data[at]) < 128 && ascii_plain[c]) {                                \
                    text[length++] = (T)c;                                                   \
                    at++;                                                                    \
                }                                                                            \
                else if (c == ' ' && at + 1 < size && (c = data[at + 1]) < 128               \
                         && ascii_plain[c]) {                                                \
                    text[length++] = ' ';                                                    \
                    text[length++] = (T)c;                                                   \
                    at += 2;                                                                 \
                }                                                                            \
                else {                                                                       \
                    break;                                                                   \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        return length;                                                                       \
    }

TEXT_OF(text_of_1byte, Py_UCS1, plain_eight_1byte)
TEXT_OF(text_of_2byte, Py_UCS2, plain_eight_2byte)
TEXT_OF(text_of_4byte, Py_UCS4, plain_eight_4byte)

static PyObject *
text_of(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyAnySet_Check(args[1])
        || !PyAnySet_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "text_of(markup: str, blocks: set, inlines: set)");
        return NULL;
    }
    PyObject *markup = args[0], *blocks = args[1], *inlines = args[2];
    if (PyUnicode_READY(markup) < 0) {
        return NULL;
    }
    int kind = PyUnicode_KIND(markup);
    const void *data = PyUnicode_DATA(markup);
    Py_ssize_t size = PyUnicode_GET_LENGTH(markup);
    /* (in the markup's own width: the text is its characters, and ASCII ones) */
    void *text = PyMem_Malloc((size_t)(size + 1) * (size_t)kind);
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t length =
        kind == PyUnicode_1BYTE_KIND
            ? text_of_1byte(markup, kind, data, size, blocks, inlines, text)
        : kind == PyUnicode_2BYTE_KIND
            ? text_of_2byte(markup, kind, data, size, blocks, inlines, text)
            : text_of_4byte(markup, kind, data, size, blocks, inlines, text);
    PyObject *result = length >= 0 ? PyUnicode_FromKindAndData(kind, text, length) : NULL;
    PyMem_Free(text);
    if (length == -1) {
        Py_RETURN_NONE;
    }
    return result;
}

/* The uint32 at byte `at` of a bytearray. */
static inline uint32_t
uint32_at(const char *data, Py_ssize_t at)
{
    uint32_t value;
    memcpy(&value, data + at, 4);
    return value;
}

static int
as_uint32(PyObject *number, const char *what, uint32_t *value)
{
    unsigned long got;
    if (PyLong_CheckExact(number)) { /* (as a rule: no new reference, no count written) */
        got = PyLong_AsUnsignedLong(number);
    }
    else {
        PyObject *index = PyNumber_Index(number); /* (as array's "I" takes it: __index__) */
        if (index == NULL) {
            return -1;
        }
        got = PyLong_AsUnsignedLong(index);
        Py_DECREF(index);
    }
    if (got == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (got > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s out of range", what);
        return -1;
    }
    *value = (uint32_t)got;
    return 0;
}

/* The words of a TermNumbers' articles (of one byte a character, at most
   SLICE_WORD_CHARS), each with the number of its term there: what count_into looks
   each distinct word of an article up in first. A worker counts all its slices into
   one TermNumbers (see ColdMerge.postings), so that after its first few slices nearly
   every word is here (and only here: see slice_word_new). In the stem table a word's
   lookup took a miss at each step, its entry and its stem spread through the heap.
   Here each word is in its slot, 16 bytes, with its term's number: a lookup reads one
   place, where a slot that gave the place of an entry elsewhere was two misses a word
   in a build (rendering pages between slices leaves little of the table in the caches;
   counting took 0.46 s of a cold build's CPU at 10,000 articles that way, 0.39 s this
   way, five builds each in turn). The terms' UTF-8 is packed too (see
   TermNumbers.spellings). A word's characters are kept in its slot when it has at most
   SHORT_WORD of them (most words: a lookup compares eight bytes), else in `chars`; its
   hash is slice_hash's (unkeyed), so a slot's probes stop at MOST_PROBES, and a word
   past them is not kept here: it is kept in the stem table instead. The slots
   are at most three quarters full (a table of 36,000 words, 1 MB). */
#define SLICE_WORD_CHARS 64
#define SHORT_WORD 8

typedef struct {
    uint64_t is;     /* a short word's characters, zero after them (a word holds no zero);
                        a longer one's place in `chars` */
    uint32_t check;  /* its length, and 24 bits of its hash above it (see word_check) */
    uint32_t number; /* 1 + its term's number; 0 when the slot is empty */
} SliceWord;

typedef struct {
    SliceWord *slots; /* NULL until one is kept */
    size_t mask;
    Py_ssize_t used;
    char *chars;
    size_t chars_used;
    size_t chars_allocated;
} SliceWords;

/* What a slot holds besides a word's characters: its length (at most
   SLICE_WORD_CHARS), and the top 24 bits of its hash (not those that place it), so that
   a slot of another word is seldom read further. */
static inline uint32_t
word_check(uint64_t hash, Py_ssize_t length)
{
    return (uint32_t)(hash >> 40) << 8 | (uint32_t)length;
}

static void
slice_words_free(SliceWords *words)
{
    PyMem_Free(words->slots);
    PyMem_Free(words->chars);
    *words = (SliceWords){0};
}

/* The characters of a word of at most SHORT_WORD, as a SliceWord holds them: the
   first in the lowest byte (count_in_slice puts them so as it reads them). */
static inline uint64_t
short_word(const Py_UCS1 *data, Py_ssize_t start, Py_ssize_t length)
{
    uint64_t is = 0;
    for (Py_ssize_t k = 0; k < length; k++) {
        is |= (uint64_t)data[start + k] << (8 * k);
    }
    return is;
}

/* The hash a slice keeps a word by (see SliceWords): a short word's, of the eight bytes
   its characters are (`is`, found as it is read: one multiply, where FNV took one a
   character, each waiting for the one before); a longer one's, of its characters eight
   at a time (see long_hash). The stem table keeps FNV hashes: a word the slice has not
   met is looked up there by its own (a few hundred an article). */
static inline uint64_t
short_hash(uint64_t is)
{
    uint64_t hash = is * 0x9E3779B97F4A7C15ULL;
    return hash ^ (hash >> 32);
}

static inline uint64_t
long_step(uint64_t hash, uint64_t chunk)
{
    hash = (hash ^ chunk) * 0xFF51AFD7ED558CCDULL;
    return hash ^ (hash >> 32);
}

/* A word of more than SHORT_WORD characters (one byte each): its length, then each
   eight of its characters (the last ones as many as are left, zero after them), as
   one integer each, read in the machine's order: a multiply each. */
static inline uint64_t
long_hash(const Py_UCS1 *data, Py_ssize_t start, Py_ssize_t length)
{
    uint64_t hash = (uint64_t)length * 0x9E3779B97F4A7C15ULL, chunk;
    Py_ssize_t k = 0;
    for (; k + 8 <= length; k += 8) {
        memcpy(&chunk, data + start + k, 8);
        hash = long_step(hash, chunk);
    }
    if (k < length) {
        chunk = 0;
        memcpy(&chunk, data + start + k, (size_t)(length - k));
        hash = long_step(hash, chunk);
    }
    return hash;
}

/* The hash a slice keeps the word data[start:start+length] by. */
static inline uint64_t
slice_hash(const Py_UCS1 *data, Py_ssize_t start, Py_ssize_t length)
{
    return length > SHORT_WORD ? long_hash(data, start, length)
                               : short_hash(short_word(data, start, length));
}

/* The number kept for the word data[start:start+length] (`is`: its characters, if it
   is short; see SliceWord), or -1. */
static inline Py_ssize_t
slice_word_number(const SliceWords *words, const Py_UCS1 *data, Py_ssize_t start,
                  Py_ssize_t length, uint64_t hash, uint64_t is)
{
    if (words->slots == NULL) {
        return -1;
    }
    uint32_t check = word_check(hash, length);
    size_t at = (size_t)hash & words->mask;
    for (int probes = 0; probes <= MOST_PROBES; probes++) {
        const SliceWord *slot = &words->slots[at];
        if (slot->number == 0) {
            return -1;
        }
        if (slot->check == check
            && (length <= SHORT_WORD
                    ? slot->is == is
                    : memcmp(words->chars + slot->is, data + start, (size_t)length) == 0)) {
            return (Py_ssize_t)slot->number - 1;
        }
        at = (at + 1) & words->mask;
    }
    return -1;
}

/* Twice as many slots for the words kept (4096 at first), each placed again by its
   hash, worked out again from its characters; -1 with an exception set. */
static int
slice_words_grow(SliceWords *words)
{
    size_t size = words->slots == NULL ? 4096 : (words->mask + 1) * 2;
    SliceWord *made = PyMem_Calloc(size, sizeof(SliceWord));
    if (made == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t n = 0; words->slots != NULL && n <= words->mask; n++) {
        const SliceWord *old = &words->slots[n];
        if (old->number == 0) {
            continue;
        }
        Py_ssize_t length = (Py_ssize_t)(old->check & 0xFF);
        uint64_t hash = length <= SHORT_WORD ? short_hash(old->is)
                                             : long_hash((const Py_UCS1 *)words->chars,
                                                         (Py_ssize_t)old->is, length);
        size_t at = (size_t)hash & (size - 1);
        while (made[at].number != 0) {
            at = (at + 1) & (size - 1);
        }
        made[at] = *old;
    }
    PyMem_Free(words->slots);
    words->slots = made;
    words->mask = size - 1;
    return 0;
}

/* Keep `number` for the word data[start:start+length], not kept yet (unless it is too
   long, or its probes pass MOST_PROBES): 1 when it is kept, 0 when not; -1 with an
   exception set when out of memory. */
static int
slice_word_keep(SliceWords *words, const Py_UCS1 *data, Py_ssize_t start, Py_ssize_t length,
                uint64_t hash, Py_ssize_t number)
{
    if (length > SLICE_WORD_CHARS || number >= (Py_ssize_t)UINT32_MAX) {
        return 0;
    }
    if ((words->slots == NULL || (size_t)(words->used + 1) * 4 > (words->mask + 1) * 3)
        && slice_words_grow(words) < 0) {
        return -1;
    }
    size_t at = (size_t)hash & words->mask;
    for (int probes = 0; words->slots[at].number != 0; probes++) {
        if (probes >= MOST_PROBES) {
            return 0; /* (not kept) */
        }
        at = (at + 1) & words->mask;
    }
    uint64_t is;
    if (length <= SHORT_WORD) {
        is = short_word(data, start, length);
    }
    else {
        uint32_t chars_at, placed;
        if (append_bytes(&words->chars, &words->chars_used, &words->chars_allocated,
                         (const char *)data + start, (size_t)length, &chars_at, &placed)
            < 0) {
            return -1;
        }
        if (placed == NO_UTF8) {
            return 0; /* (not kept: past what 32 bits place) */
        }
        is = chars_at;
    }
    words->slots[at] = (SliceWord){is, word_check(hash, length), (uint32_t)number + 1};
    words->used++;
    return 1;
}

typedef struct {
    uint32_t at;
    uint32_t size;
    uint32_t crc; /* of those bytes (what slice_runs places the term by), once kept */
} Spelling;

/* TermNumbers(): the terms of a slice, or of every slice a worker counts (see
   ColdMerge.postings), each numbered in the order first met (what slice_add and
   slice_runs take in place of a dict, term -> number). A dict held each
   number as an int object, and finding one was a probe of the dict and a read of the
   int, both misses at nearly every posting: a tenth of a cold build's indexing. Here
   each term is in one slot with its hash and number, and found by its hash and its
   UTF-8, kept here (`spellings`). So a term from the stem table, which keeps its
   stem's hash and UTF-8 too, is found or numbered without a read of its string: in a
   build those strings, spread through a worker's heap, were a cache miss a term. Its
   terms are exact str: looking one up runs no Python. It holds the string only of a
   term with no UTF-8 kept (see NO_UTF8), found by its characters. (It holds only
   strings: no cycle can pass through it.) */
typedef struct {
    Py_hash_t hash;
    uint32_t number; /* 1 + the term's number; 0 when the slot is empty */
} NumberedTerm;

typedef struct {
    PyObject_HEAD
    NumberedTerm *slots;
    size_t mask;
    PyObject **order; /* by number: the term's string, held, where it has no UTF-8 kept */
    uint32_t *tally;  /* by number: an article's count, while count_into counts it */
    int counting;     /* in count_into: a stem function that calls it again is refused */
    Py_ssize_t used;
    Py_ssize_t allocated;
    SliceWords words; /* the words count_into met in the slice, with their terms' numbers */
    uint64_t words_from; /* the serial of the StemTable they were looked up in, 0 for none */
    struct ReadWord *reads; /* room for the words of an article, read by count_in_slice */
    Py_ssize_t reads_allocated;
    /* By number: where each term's UTF-8 is in `utf8` (its size NO_UTF8 when it has
       none: its string's error is raised where it is needed). slice_runs writes the
       terms from here: reading them from their strings, spread through the heap, was
       a cache miss a term. */
    Spelling *spellings;
    char *utf8;
    size_t utf8_used;
    size_t utf8_allocated;
} TermNumbers;

static PyTypeObject TermNumbersType;

static PyObject *
term_numbers_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "TermNumbers() takes no arguments");
        return NULL;
    }
    TermNumbers *numbers = (TermNumbers *)type->tp_alloc(type, 0);
    if (numbers == NULL) {
        return NULL;
    }
    numbers->slots = PyMem_Calloc(1024, sizeof(NumberedTerm));
    numbers->order = PyMem_Calloc(256, sizeof(PyObject *));
    numbers->tally = PyMem_Calloc(256, sizeof(uint32_t));
    numbers->spellings = PyMem_Malloc(256 * sizeof(Spelling));
    if (numbers->slots == NULL || numbers->order == NULL || numbers->tally == NULL
        || numbers->spellings == NULL) {
        Py_DECREF(numbers);
        return PyErr_NoMemory();
    }
    numbers->mask = 1023;
    numbers->allocated = 256;
    return (PyObject *)numbers;
}

static void
term_numbers_dealloc(TermNumbers *numbers)
{
    if (numbers->order != NULL) {
        for (Py_ssize_t n = 0; n < numbers->used; n++) {
            Py_XDECREF(numbers->order[n]);
        }
    }
    PyMem_Free(numbers->slots);
    PyMem_Free(numbers->order);
    PyMem_Free(numbers->tally);
    slice_words_free(&numbers->words);
    PyMem_Free(numbers->reads);
    PyMem_Free(numbers->spellings);
    PyMem_Free(numbers->utf8);
    Py_TYPE(numbers)->tp_free((PyObject *)numbers);
}

static Py_ssize_t
term_numbers_length(TermNumbers *numbers)
{
    return numbers->used;
}

static int
term_numbers_grow(TermNumbers *numbers)
{
    size_t size = (numbers->mask + 1) * 2;
    NumberedTerm *slots = PyMem_Calloc(size, sizeof(NumberedTerm));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t at = 0; at <= numbers->mask; at++) {
        NumberedTerm *old = &numbers->slots[at];
        if (old->number != 0) {
            size_t to = (size_t)old->hash & (size - 1);
            while (slots[to].number != 0) {
                to = (to + 1) & (size - 1);
            }
            slots[to] = *old;
        }
    }
    PyMem_Free(numbers->slots);
    numbers->slots = slots;
    numbers->mask = size - 1;
    return 0;
}

/* Room for one more term; -1 with an exception set. */
static int
term_numbers_room(TermNumbers *numbers)
{
    if (numbers->used >= (Py_ssize_t)UINT32_MAX - 1) {
        PyErr_SetString(PyExc_OverflowError, "TermNumbers: too many terms");
        return -1;
    }
    if (numbers->used < numbers->allocated) {
        return 0;
    }
    Py_ssize_t allocated = numbers->allocated * 2;
    PyObject **order = PyMem_Realloc(numbers->order, (size_t)allocated * sizeof(PyObject *));
    if (order == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(order + numbers->allocated, 0,
           (size_t)(allocated - numbers->allocated) * sizeof(PyObject *));
    numbers->order = order;
    uint32_t *tally = PyMem_Realloc(numbers->tally, (size_t)allocated * sizeof(uint32_t));
    if (tally == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(tally + numbers->allocated, 0,
           (size_t)(allocated - numbers->allocated) * sizeof(uint32_t));
    numbers->tally = tally;
    Spelling *spellings = PyMem_Realloc(numbers->spellings, (size_t)allocated * sizeof(Spelling));
    if (spellings == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    numbers->spellings = spellings;
    numbers->allocated = allocated;
    return 0;
}

/* The number of a term whose hash is `hash` and UTF-8 `chars` (`size` bytes; NULL,
   with size NO_UTF8, where it has none), an exact str: numbered next if it is new; -1
   with an exception set. `term` is its string, or NULL where `chars` spell it: the
   string is read, or made, only for a term with no UTF-8 kept (see NO_UTF8). */
static Py_ssize_t
term_number_of(TermNumbers *numbers, PyObject *term, Py_hash_t hash, const char *chars,
               Py_ssize_t size)
{
    PyObject *made = NULL;
    Py_ssize_t found = -1;
    size_t at = (size_t)hash & numbers->mask;
    for (;; at = (at + 1) & numbers->mask) {
        NumberedTerm *slot = &numbers->slots[at];
        if (slot->number == 0) {
            break;
        }
        if (slot->hash != hash) {
            continue;
        }
        Py_ssize_t number = (Py_ssize_t)slot->number - 1;
        Spelling spelling = numbers->spellings[number];
        if (spelling.size != NO_UTF8) {
            if (chars != NULL && (Py_ssize_t)spelling.size == size
                && (size == 0 || memcmp(numbers->utf8 + spelling.at, chars, (size_t)size) == 0)) {
                found = number;
                goto done;
            }
            continue;
        }
        if (term == NULL && (term = made = PyUnicode_DecodeUTF8(chars, size, NULL)) == NULL) {
            return -1;
        }
        PyObject *held = numbers->order[number];
        if (PyUnicode_GET_LENGTH(held) == PyUnicode_GET_LENGTH(term)
            && PyUnicode_Compare(held, term) == 0) {
            found = number;
            goto done;
        }
    }
    if (term_numbers_room(numbers) < 0) {
        goto done;
    }
    Spelling *spelling = &numbers->spellings[numbers->used];
    *spelling = (Spelling){0, NO_UTF8};
    if (chars != NULL && append_bytes(&numbers->utf8, &numbers->utf8_used,
                                     &numbers->utf8_allocated, chars, (size_t)size,
                                     &spelling->at, &spelling->size) < 0) {
        goto done;
    }
    if (spelling->size != NO_UTF8) {
        spelling->crc = crc32_of(chars, size);
    }
    else { /* (found by its characters: see above) */
        if (term == NULL && (term = made = PyUnicode_DecodeUTF8(chars, size, NULL)) == NULL) {
            goto done;
        }
        Py_INCREF(term);
        numbers->order[numbers->used] = term;
    }
    Py_ssize_t number = numbers->used++;
    numbers->slots[at] = (NumberedTerm){hash, (uint32_t)(number + 1)};
    /* (at most three quarters full, 512 KB at 10,000 articles where half full took a
       block of 1 MB: see slice_word_new. In a build a term is looked up here only for
       a word new to its worker's slices, or of a title) */
    if ((size_t)numbers->used * 4 > (numbers->mask + 1) * 3 && term_numbers_grow(numbers) < 0) {
        goto done;
    }
    found = number;
done:
    Py_XDECREF(made);
    return found;
}

/* The number of `term` (an exact str), numbered next if it is new; -1 with an
   exception set. */
static Py_ssize_t
term_number(TermNumbers *numbers, PyObject *term)
{
    if (!PyUnicode_CheckExact(term)) {
        PyErr_SetString(PyExc_TypeError, "TermNumbers: a term must be a str");
        return -1;
    }
    Py_hash_t hash = PyObject_Hash(term); /* (a str's: kept in it once worked out) */
    if (hash == -1) {
        return -1;
    }
    Py_ssize_t size;
    const char *chars = utf8_of(term, &size);
    return term_number_of(numbers, term, hash, chars, size);
}

static PySequenceMethods term_numbers_sequence = {
    .sq_length = (lenfunc)term_numbers_length,
};

static PyTypeObject TermNumbersType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "broadsheet.search._native.TermNumbers",
    .tp_basicsize = sizeof(TermNumbers),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "TermNumbers(): a slice's terms, numbered as first met (see slice_add)",
    .tp_new = term_numbers_new,
    .tp_dealloc = (destructor)term_numbers_dealloc,
    .tp_as_sequence = &term_numbers_sequence,
};

/* count_into(text, stems, title, numbers, triples, number, boost) -> words
   What count_words gives for `text`, with count_words' counts of `title` added
   `boost` times each, then slice_add into `numbers` and `triples`, without a dict or
   an int object for a term: each distinct word's term (from `stems`, a StemTable) is
   numbered in the slice at once, and its count tallied by number; a word of the text
   met in the slice before is counted by the number kept for it (see SliceWords), and
   one new to it is kept there, not in `stems` (see slice_word_new). It
   gives the text's length in words (its counts are the triples it added). None, with
   nothing added, when the table of a title's words, or of a text wider than a byte a
   character, gives up (see GIVE_UP): the caller counts that article by the dict. (A
   one-byte text never gives up: a word made to collide that neither the slice nor the
   stem table can keep is looked up, and stemmed, at each occurrence: linear still.)
   `text` and `title` are folded and joined already
   (terms.folded_words); `boost` 1 or more. After an error (a stem function's, a count
   beyond 32 bits) the slice is to be abandoned, as after slice_add's: the terms
   numbered before it stay numbered, with no postings. */
static int
tally_number(TermNumbers *numbers, Py_ssize_t found, uint32_t count, Py_ssize_t *touched,
             Py_ssize_t *touches)
{
    /* (written whatever the tally, and kept only when it was 0: whether a term is new
       to the article is half the time one way, and the branch was mispredicted; the
       touched list has room for one more than it can hold) */
    uint32_t tally = numbers->tally[found];
    touched[*touches] = found;
    *touches += tally == 0;
    if (tally > UINT32_MAX - count) {
        PyErr_SetString(PyExc_OverflowError, "count_into: a count beyond 32 bits");
        return -1;
    }
    numbers->tally[found] = tally + count;
    return 0;
}

/* The slot of the term of the word AHEAD / 8 ahead, fetched: by its stem's hash, in
   the entry stem_table_prefetch fetched. */
static inline void
term_numbers_prefetch(const TermNumbers *numbers, const StemTable *stems, const Word *words,
                      Py_ssize_t n, Py_ssize_t used)
{
    if (n + AHEAD / 8 < used) {
        const Word *w = &words[n + AHEAD / 8];
        uint32_t slot = stems->slots[(size_t)w->hash & stems->mask];
        if (slot != 0 && stems->entries[slot - 1].hash == w->hash) {
            Py_hash_t hash = stems->entries[slot - 1].stem_hash;
            if (hash != -1) {
                PREFETCH(&numbers->slots[(size_t)hash & numbers->mask]);
            }
        }
    }
}

/* The number in `numbers` of the term of the word `w` of `text`, from `stems` (where a
   word new to it is kept if `keep`): -1 with an exception set. */
static Py_ssize_t
word_number(TermNumbers *numbers, StemTable *stems, PyObject *text, const Word *w, int keep)
{
    const Stemmed *entry =
        stems->stem == NULL ? NULL
                            : stem_table_find(stems, PyUnicode_KIND(text), PyUnicode_DATA(text),
                                              w->start, w->length, w->hash);
    if (entry != NULL && entry->stem_size != NO_UTF8) { /* (its stem an exact str) */
        return term_number_of(numbers, NULL, entry->stem_hash, stemmed_utf8(stems, entry),
                              (Py_ssize_t)entry->stem_size);
    }
    /* (else its stem, held, may still have UTF-8 that the table had no room for: found
       by its string, as any other term) */
    PyObject *term = stem_table_get(stems, text, PyUnicode_KIND(text), PyUnicode_DATA(text),
                                    w->start, w->length, w->hash, keep);
    if (term == NULL) {
        return -1;
    }
    Py_ssize_t found = term_number(numbers, term);
    Py_DECREF(term);
    return found;
}

/* The number (*found) of the term of the word `w` of a one-byte `text`, new to the
   slice, whose slice_hash is `hash`: kept in the slice's words, and not in the stem
   table as well, unless the slice cannot keep it (a word too long, or made to
   collide). In a worker the slice's words are all its slices', and the stem table's
   copy of each was a table of 1.5 MB at 10,000 articles, in blocks larger than the
   pieces of room the render had let go (see render._tasks): the worker grew by them.
   -1 with an exception set. */
static int
slice_word_new(TermNumbers *numbers, StemTable *stems, PyObject *text, const Word *w,
               uint64_t hash, Py_ssize_t *found)
{
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    *found = word_number(numbers, stems, text, w, w->length > SLICE_WORD_CHARS);
    int kept = *found < 0 ? -1
                          : slice_word_keep(&numbers->words, data, w->start, w->length, hash,
                                            *found);
    if (kept != 0 || w->length > SLICE_WORD_CHARS || stems->stem == NULL) {
        return kept < 0 ? -1 : 0;
    }
    /* (stemmed again, once, to be kept: a word made to collide in the slice) */
    PyObject *term = stem_table_get(stems, text, PyUnicode_1BYTE_KIND, data, w->start,
                                    w->length, w->hash, 1);
    if (term == NULL) {
        return -1;
    }
    Py_DECREF(term);
    return 0;
}

/* Of eight ASCII bytes (no high bit set), those that are word characters (ascii_word:
   a-z, A-Z, 0-9), as their high bits (see LANES_IN). */
static inline uint64_t
ascii_word_bytes(uint64_t v)
{
    return (LANES_IN(v, ONES, 0x80ULL, 'a', 'z') | LANES_IN(v, ONES, 0x80ULL, 'A', 'Z')
            | LANES_IN(v, ONES, 0x80ULL, '0', '9'))
           & HIGH_BITS;
}

/* (how far ahead count_in_slice fetches: measured in builds, 32 and 64 words for the
   slot did as well, and 16 for the tally no better) */
#define SLOT_AHEAD 48
#define TALLY_AHEAD 8

/* A word of a one-byte text as count_in_slice reads it: where it is, its characters
   if it is short (see SliceWord) and the hash the slice keeps it by (slice_hash). */
typedef struct ReadWord {
    uint64_t is;
    uint64_t hash;
    Py_ssize_t start;
    Py_ssize_t length;
} ReadWord;

/* Each word of `text` (one byte a character) tallied by its term's number. The words
   are read first (a word of fewer than 16 ASCII characters, nearly every word, read
   eight or 16 bytes at once: the loop a character ended at each word with a branch
   mispredicted, and the slice's hash, FNV, took a multiply a character; reading words
   of 8 to 15 characters so too made counting 5-8 % quicker), each with the hash the
   slice keeps it by. Then each is found in the slice (see SliceWords) by its hash and
   characters, with the slot of the word SLOT_AHEAD words on fetched, and the tally of
   the one TALLY_AHEAD on. In a build, where rendering pages between slices leaves
   little of the slice's table in the caches, a word's slot was a miss, waited for in
   turn: over half of counting. Now the misses of several words are under way together
   (counting 3,000 articles in slices of 48, the caches emptied between slices: 36-41
   against 30-33 us an article, when a slot gave the place of the word's entry).
   The words the slice has not met (a few hundred an article) are put by, and looked
   up in the stem table after, in the order met, a few words ahead fetched (see
   stem_table_prefetch); each is then kept in the slice, and a word met again in the
   article found there. So a word is looked up once where it was looked up twice, in a
   table of the article's words and then in the slice's (a third of counting).
   *words is raised by the words read; -1 with an exception set. */
static int
count_in_slice(TermNumbers *numbers, StemTable *stems, PyObject *text, Py_ssize_t *touched,
               Py_ssize_t *touches, Py_ssize_t *words)
{
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text), at = 0, read = 0, missed = 0;
    Py_ssize_t allocated = 0;
    Word *missing = NULL;
    ReadWord *reads = numbers->reads;
    int status = -1;
    while (at < size) {
        if (!is_word(data[at])) {
            at++;
            continue;
        }
        Py_ssize_t start = at, length = 0;
        uint64_t is = 0, hash = 0, v, ends, more;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
        /* (a word of fewer than 16 ASCII characters, with eight or 16 bytes to read:
           found in them at once, its characters `is` as short_word puts them, or its
           long_hash taken of the two) */
        if (at + 8 <= size && (memcpy(&v, data + at, 8), (v & HIGH_BITS) == 0)) {
            if ((ends = ~ascii_word_bytes(v) & HIGH_BITS) != 0) {
                length = __builtin_ctzll(ends) >> 3;
                is = v & ((1ULL << (8 * length)) - 1);
                hash = short_hash(is);
            }
            else if (at + 16 <= size && (memcpy(&more, data + at + 8, 8), (more & HIGH_BITS) == 0)
                     && (ends = ~ascii_word_bytes(more) & HIGH_BITS) != 0) {
                Py_ssize_t past = __builtin_ctzll(ends) >> 3; /* (past the first eight) */
                length = 8 + past;
                if (past == 0) {
                    is = v;
                    hash = short_hash(is);
                }
                else {
                    hash = long_hash(data, start, length);
                }
            }
            at += length;
        }
        if (length == 0) /* (a word begins here: 0 when not read above) */
#endif
        {
            while (at < size && is_word(data[at])) {
                at++;
            }
            length = at - start;
            if (length <= SHORT_WORD) {
                is = short_word(data, start, length);
            }
            hash = slice_hash(data, start, length);
        }
        if (read == numbers->reads_allocated) {
            reads = grown(numbers->reads, &numbers->reads_allocated, sizeof(ReadWord), 1024);
            if (reads == NULL) {
                goto done;
            }
            numbers->reads = reads;
        }
        reads[read++] = (ReadWord){is, hash, start, length};
    }
    *words += read;
    const SliceWords *kept = &numbers->words;
    for (Py_ssize_t k = 0; k < read; k++) {
        const ReadWord *r = &reads[k];
        if (kept->slots != NULL) { /* (the words ahead: see above) */
            if (k + SLOT_AHEAD < read) {
                PREFETCH(&kept->slots[(size_t)reads[k + SLOT_AHEAD].hash & kept->mask]);
            }
            if (k + TALLY_AHEAD < read) {
                const ReadWord *ahead = &reads[k + TALLY_AHEAD];
                const SliceWord *slot = &kept->slots[(size_t)ahead->hash & kept->mask];
                if (slot->number != 0 && slot->check == word_check(ahead->hash, ahead->length)) {
                    PREFETCH(&numbers->tally[slot->number - 1]);
                }
            }
        }
        Py_ssize_t found = slice_word_number(kept, data, r->start, r->length, r->hash, r->is);
        if (found >= 0) {
            if (tally_number(numbers, found, 1, touched, touches) < 0) {
                goto done;
            }
            continue;
        }
        if (missed == allocated) {
            Word *more = grown(missing, &allocated, sizeof(Word), 256);
            if (more == NULL) {
                goto done;
            }
            missing = more;
        }
        /* (with the hash the stem table keeps it by) */
        uint64_t kept_by = word_hash(PyUnicode_1BYTE_KIND, data, r->start, r->length);
        missing[missed++] = (Word){r->start, r->length, 1, kept_by};
    }
    for (Py_ssize_t k = 0; k < missed; k++) {
        const Word *w = &missing[k];
        stem_table_prefetch(stems, missing, k, missed);
        term_numbers_prefetch(numbers, stems, missing, k, missed);
        /* (kept by one before it, if it was met before in the article) */
        uint64_t is = w->length <= SHORT_WORD ? short_word(data, w->start, w->length) : 0;
        uint64_t hash = slice_hash(data, w->start, w->length);
        Py_ssize_t found =
            slice_word_number(&numbers->words, data, w->start, w->length, hash, is);
        if (found < 0 && slice_word_new(numbers, stems, text, w, hash, &found) < 0) {
            goto done;
        }
        if (tally_number(numbers, found, 1, touched, touches) < 0) {
            goto done;
        }
    }
    status = 0;
done:
    PyMem_Free(missing);
    return status;
}

/* Each distinct word of `table` (of `text`, wider than a byte a character: a few
   articles) tallied by its term's number, from the stem table. -1 with an exception
   set. */
static int
count_by_table(TermNumbers *numbers, StemTable *stems, PyObject *text, const Table *table,
               Py_ssize_t *touched, Py_ssize_t *touches)
{
    for (Py_ssize_t n = 0; n < table->used; n++) {
        const Word *w = &table->words[n];
        stem_table_prefetch(stems, table->words, n, table->used);
        term_numbers_prefetch(numbers, stems, table->words, n, table->used);
        Py_ssize_t found = word_number(numbers, stems, text, w, 1);
        if (found < 0) {
            return -1;
        }
        if (w->count > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "count_into: a count beyond 32 bits");
            return -1;
        }
        if (tally_number(numbers, found, (uint32_t)w->count, touched, touches) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
count_into(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7 || !PyUnicode_Check(args[0]) || !Py_IS_TYPE(args[1], &StemTableType)
        || !PyUnicode_Check(args[2]) || !Py_IS_TYPE(args[3], &TermNumbersType)
        || !PyByteArray_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "count_into(text: str, stems: StemTable, title: str, numbers: "
                        "TermNumbers, triples: bytearray, number, boost)");
        return NULL;
    }
    PyObject *text = args[0], *title = args[2], *triples = args[4];
    StemTable *stems = (StemTable *)args[1];
    TermNumbers *numbers = (TermNumbers *)args[3];
    uint32_t number, boost;
    if (as_uint32(args[5], "count_into: number", &number) < 0
        || as_uint32(args[6], "count_into: boost", &boost) < 0) {
        return NULL;
    }
    if (boost == 0) { /* (a tally of 0 is a term not met yet) */
        PyErr_SetString(PyExc_ValueError, "count_into: boost must be 1 or more");
        return NULL;
    }
    Table table = {NULL, 0, 256, NULL, 1023, 0}, heading = {NULL, 0, 256, NULL, 1023, 0};
    Py_ssize_t *touched = NULL, touches = 0, words = 0, headed = 0;
    PyObject *result = NULL;
    int mine = 0;
    if (numbers->counting) {
        PyErr_SetString(PyExc_RuntimeError, "count_into: its numbers are counting already");
        goto done;
    }
    numbers->counting = mine = 1;
    if (PyUnicode_READY(text) < 0) {
        goto done;
    }
    if (numbers->words_from != stems->serial) { /* (another table may give other terms) */
        slice_words_free(&numbers->words);
        numbers->words_from = stems->serial;
    }
    int one_byte = PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND;
    int scanned = one_byte ? 0 : scan_words(text, &table, &words);
    if (scanned == 0) {
        scanned = scan_words(title, &heading, &headed);
    }
    if (scanned != 0) {
        if (scanned > 0) {
            Py_INCREF(Py_None);
            result = Py_None;
        }
        goto done;
    }
    /* (the terms an article can touch: one a word, the text's and then the title's) */
    Py_ssize_t most = one_byte ? (PyUnicode_GET_LENGTH(text) + 1) / 2 : table.used;
    touched = PyMem_Malloc((size_t)(most + heading.used + 1) * sizeof(Py_ssize_t));
    if (touched == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (one_byte /* (news text, folded: the words counted straight into the slice) */
            ? count_in_slice(numbers, stems, text, touched, &touches, &words) < 0
            : count_by_table(numbers, stems, text, &table, touched, &touches) < 0) {
        goto done;
    }
    for (Py_ssize_t n = 0; n < heading.used; n++) { /* (not kept: a title's words are few) */
        const Word *w = &heading.words[n];
        Py_ssize_t term = word_number(numbers, stems, title, w, 1);
        if (term < 0) {
            goto done;
        }
        if (w->count > UINT32_MAX / boost) {
            PyErr_SetString(PyExc_OverflowError, "count_into: a count beyond 32 bits");
            goto done;
        }
        if (tally_number(numbers, term, (uint32_t)w->count * boost, touched, &touches) < 0) {
            goto done;
        }
    }
    Py_ssize_t held = PyByteArray_GET_SIZE(triples);
    if (PyByteArray_Resize(triples, held + 12 * touches) < 0) {
        goto done;
    }
    char *posting = PyByteArray_AS_STRING(triples) + held;
    for (Py_ssize_t k = 0; k < touches; k++) {
        uint32_t triple[3] = {(uint32_t)touched[k], number, numbers->tally[touched[k]]};
        memcpy(posting + 12 * k, triple, 12);
    }
    result = PyLong_FromSsize_t(words);
done:
    for (Py_ssize_t k = 0; k < touches; k++) {
        numbers->tally[touched[k]] = 0;
    }
    if (mine) {
        numbers->counting = 0;
    }
    PyMem_Free(touched);
    PyMem_Free(table.words);
    PyMem_Free(table.slots);
    PyMem_Free(heading.words);
    PyMem_Free(heading.slots);
    return result;
}

/* slice_add(terms, triples, number, counts): for each term of `counts`, the triple
   (the term's number in `terms`, given it when first met; `number`; its count), as
   three uint32 at the end of the bytearray `triples`. */
static PyObject *
slice_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !(PyDict_Check(args[0]) || Py_IS_TYPE(args[0], &TermNumbersType))
        || !PyByteArray_Check(args[1]) || !PyDict_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "slice_add(terms: dict or TermNumbers, triples: "
                                         "bytearray, number, counts: dict)");
        return NULL;
    }
    int numbered = Py_IS_TYPE(args[0], &TermNumbersType);
    PyObject *terms = args[0], *triples = args[1], *counts = args[3];
    Py_ssize_t wanted = PyDict_GET_SIZE(counts);
    if (wanted == 0) { /* (no posting: the number is not looked at) */
        Py_RETURN_NONE;
    }
    uint32_t number;
    if (as_uint32(args[2], "slice_add: number", &number) < 0) {
        return NULL;
    }
    Py_ssize_t held = PyByteArray_GET_SIZE(triples);
    if (PyByteArray_Resize(triples, held + 12 * wanted) < 0) {
        return NULL;
    }
    Py_ssize_t position = 0, written = 0;
    PyObject *term, *count;
    while (PyDict_Next(counts, &position, &term, &count)) {
        /* Held while `terms` is looked in and added to: a key's __hash__ or __eq__ may
           run Python that changes `counts`, `terms` or `triples`. */
        Py_INCREF(term);
        Py_INCREF(count);
        uint32_t triple[3] = {0, number, 0};
        int failed = as_uint32(count, "slice_add: count", &triple[2]) < 0;
        if (!failed && numbered) { /* (after the count, whose __index__ may run Python) */
            Py_ssize_t found = term_number((TermNumbers *)terms, term);
            failed = found < 0;
            triple[0] = (uint32_t)found;
        }
        else if (!failed) {
            PyObject *known = PyDict_GetItemWithError(terms, term);
            if (known != NULL) {
                failed = as_uint32(known, "slice_add: term number", &triple[0]) < 0;
            }
            else if (!PyErr_Occurred()) {
                PyObject *next = PyLong_FromSsize_t(PyDict_GET_SIZE(terms));
                failed = next == NULL || as_uint32(next, "slice_add: term number", &triple[0]) < 0
                         || PyDict_SetItem(terms, term, next) < 0;
                Py_XDECREF(next);
            }
            else {
                failed = 1;
            }
        }
        Py_DECREF(count);
        Py_DECREF(term);
        if (!failed && (written >= wanted || PyByteArray_GET_SIZE(triples) != held + 12 * wanted)) {
            PyErr_SetString(PyExc_RuntimeError, "slice_add: counts or triples changed size");
            failed = 1;
        }
        if (failed) {
            if (PyByteArray_GET_SIZE(triples) == held + 12 * wanted) {
                PyObject *type, *value, *traceback;
                PyErr_Fetch(&type, &value, &traceback);
                PyByteArray_Resize(triples, held); /* (what was there before) */
                PyErr_Restore(type, value, traceback);
            }
            return NULL;
        }
        memcpy(PyByteArray_AS_STRING(triples) + held + 12 * written, triple, 12);
        written++;
    }
    if (written != wanted) {
        PyByteArray_Resize(triples, held);
        PyErr_SetString(PyExc_RuntimeError, "slice_add: counts changed size");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* A run's record, for one term: its CRC-32 (uint32 in the machine's order), the size
   of its UTF-8, the UTF-8, how many postings, and each posting as the gap from the
   one before (from 0 for the first: its id) and its count; each number but the CRC
   as a varint (7 bits a byte, low first, the high bit set on all but the last). A
   posting took 8 bytes, and a record's head 12: a slice's gaps are below its size
   (48) and most counts are small, so each takes a byte, and the runs of a cold build
   of 10,000 articles, written and read back once, took 67 MB where they take 27. */
#define VARINT_MOST 5 /* (bytes of a uint32's varint) */

static inline Py_ssize_t
varint_size(uint32_t value)
{
    return value < (1u << 7) ? 1 : value < (1u << 14) ? 2 : value < (1u << 21) ? 3
         : value < (1u << 28) ? 4 : 5;
}

static inline char *
varint_put(char *at, uint32_t value)
{
    while (value >= 0x80) {
        *at++ = (char)(value | 0x80);
        value >>= 7;
    }
    *at++ = (char)value;
    return at;
}

/* The varint at data[*at], below `size`, into *value (past it: *at); -1 if it is cut
   short or holds more than 32 bits. */
static inline int
varint_get(const char *data, Py_ssize_t size, Py_ssize_t *at, uint32_t *value)
{
    uint64_t got = 0;
    for (int shift = 0; shift < 7 * VARINT_MOST && *at < size; shift += 7) {
        unsigned char c = (unsigned char)data[(*at)++];
        got |= (uint64_t)(c & 0x7F) << shift;
        if (c < 0x80) {
            if (got > UINT32_MAX) {
                return -1;
            }
            *value = (uint32_t)got;
            return 0;
        }
    }
    return -1;
}

typedef struct {
    PyObject *term;   /* held; NULL where its UTF-8 is a copy of the slice's */
    const char *utf8; /* the term's own (it lives as long as the term), or that copy */
    Py_ssize_t size;
    uint32_t crc;
    Py_ssize_t postings;
    Py_ssize_t group;
    Py_ssize_t at; /* in its group's run: where its record begins, then its next posting */
    uint32_t number; /* its number in a TermNumbers */
    uint32_t last;   /* the id of its last posting met (sized, then written) */
    Py_ssize_t bytes; /* of its postings' varints */
} SliceTerm;

/* Count the triple at data[at] among its term's postings, and the bytes of its varints
   (see varint_size); -1 with an exception if its id is not past the term's last. */
static inline int
sized(SliceTerm *t, const char *data, Py_ssize_t at)
{
    uint32_t id = uint32_at(data, at + 4);
    if (t->postings > 0 && id <= t->last) {
        PyErr_SetString(PyExc_ValueError, "slice_runs: a term's ids must rise");
        return -1;
    }
    t->postings++;
    t->bytes += varint_size(id - t->last) + varint_size(uint32_at(data, at + 8));
    t->last = id;
    return 0;
}

static Py_ssize_t
as_size(PyObject *number, Py_ssize_t most, const char *what)
{
    Py_ssize_t got = PyLong_Check(number) ? PyLong_AsSsize_t(number) : -1;
    if (got < 1 || got > most) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "%s: from 1 to %zd", what, most);
        }
        return -1;
    }
    return got;
}

/* slice_runs(terms, triples, groups, shards) -> list[bytes]: a slice's postings (as
   slice_add left them) as one run for each group of term files: each term with
   postings, whose CRC-32 % shards % groups is the group, with its postings in the
   order they were added (the terms in the order first met: in `terms`, a dict; in
   the slice's triples, from TermNumbers). What SliceWriter.close writes, and
   Gathering reads (which sorts the terms it writes: their order in a run is not seen).
   A TermNumbers may number the terms of many slices (see ColdMerge.postings): only
   those of this slice's triples are looked at, found through marks in its `tally`. */
/* (how far ahead slice_runs fetches a term's spelling, in triples, and its UTF-8, in
   terms) */
#define SPELLING_AHEAD 32
#define UTF8_AHEAD 8

static PyObject *
slice_runs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !(PyDict_Check(args[0]) || Py_IS_TYPE(args[0], &TermNumbersType))
        || !PyByteArray_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "slice_runs(terms: dict or TermNumbers, triples: "
                                         "bytearray, groups, shards)");
        return NULL;
    }
    TermNumbers *numbers =
        Py_IS_TYPE(args[0], &TermNumbersType) ? (TermNumbers *)args[0] : NULL;
    Py_ssize_t groups = as_size(args[2], 1 << 20, "slice_runs: groups");
    Py_ssize_t shards = groups < 0 ? -1 : as_size(args[3], 1 << 30, "slice_runs: shards");
    if (shards < 0) {
        return NULL;
    }
    Py_ssize_t count = numbers != NULL ? numbers->used : PyDict_GET_SIZE(args[0]);
    Py_ssize_t size = PyByteArray_GET_SIZE(args[1]);
    if (size % 12 != 0) {
        PyErr_SetString(PyExc_ValueError, "slice_runs: not a buffer of triples");
        return NULL;
    }
    if (numbers != NULL && numbers->counting) {
        PyErr_SetString(PyExc_RuntimeError, "slice_runs: its numbers are counting");
        return NULL;
    }
    /* (a dict's terms, each taken; a TermNumbers' terms with postings, at most one a
       triple, the room grown as they are taken: a slice of news takes about a fifth of
       its worker's terms, and room for all of them was a block of a megabyte a slice,
       which the room the render had let go could not hold: see render._tasks) */
    Py_ssize_t room = numbers != NULL ? Py_MIN(Py_MIN(count, size / 12), 1024) : count;
    SliceTerm *held = PyMem_Malloc(((size_t)room + 1) * sizeof(SliceTerm));
    Py_ssize_t *sizes = PyMem_Calloc((size_t)groups, sizeof(Py_ssize_t));
    char *data = PyMem_Malloc((size_t)size + 1);
    char *spelled = NULL; /* a TermNumbers' terms' UTF-8 (see spellings), copied */
    PyObject *result = NULL;
    Py_ssize_t taken = 0;
    if (held == NULL || sizes == NULL || data == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* (copied, and the terms held, before anything that may run Python) */
    memcpy(data, PyByteArray_AS_STRING(args[1]), (size_t)size);
    if (numbers != NULL) {
        /* Each term of the triples, in the order first met there: held[k], its number
           marked 1 + k in `tally` (zero but while count_into counts: it may not, till
           the marks are cleared below), with its UTF-8 as the slice keeps it, copied
           (a term's own string, held and read here, was a cache miss a term: see
           TermNumbers.spellings); the terms are held only where one has none (its
           string's error is raised). */
        numbers->counting = 1;
        size_t spelled_size = 0;
        for (Py_ssize_t at = 0; at < size; at += 12) {
            uint32_t t = uint32_at(data, at);
            if (at + 12 * SPELLING_AHEAD < size) {
                uint32_t ahead = uint32_at(data, at + 12 * SPELLING_AHEAD);
                if ((size_t)ahead < (size_t)count) {
                    PREFETCH(&numbers->spellings[ahead]);
                }
            }
            if ((size_t)t >= (size_t)count) { /* (unsigned: no wrap where Py_ssize_t is 32 bits) */
                PyErr_SetString(PyExc_ValueError, "slice_runs: a term number out of range");
                goto done;
            }
            if (numbers->tally[t] == 0) {
                if (taken == room) {
                    SliceTerm *more = grown(held, &room, sizeof(SliceTerm), 1024);
                    if (more == NULL) {
                        goto done;
                    }
                    held = more;
                }
                held[taken] = (SliceTerm){.number = t};
                numbers->tally[t] = (uint32_t)++taken;
                Spelling spelling = numbers->spellings[t];
                spelled_size += spelling.size == NO_UTF8 ? 0 : spelling.size;
            }
            if (sized(&held[numbers->tally[t] - 1], data, at) < 0) {
                goto done;
            }
        }
        spelled = PyMem_Malloc(spelled_size + 1);
        if (spelled == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        size_t used = 0;
        for (Py_ssize_t k = 0; k < taken; k++) {
            if (k + UTF8_AHEAD < taken) {
                Spelling ahead = numbers->spellings[held[k + UTF8_AHEAD].number];
                if (ahead.size != NO_UTF8 && ahead.size > 0) {
                    PREFETCH(numbers->utf8 + ahead.at);
                }
            }
            Spelling spelling = numbers->spellings[held[k].number];
            if (spelling.size == NO_UTF8) {
                held[k].term = numbers->order[held[k].number];
                Py_INCREF(held[k].term);
            }
            else {
                if (spelling.size > 0) { /* (no UTF-8 kept at all while every term is "") */
                    memcpy(spelled + used, numbers->utf8 + spelling.at, spelling.size);
                }
                held[k].utf8 = spelled + used;
                held[k].size = spelling.size;
                held[k].crc = spelling.crc;
                used += spelling.size;
            }
        }
    }
    Py_ssize_t position = 0;
    PyObject *term, *number;
    while (numbers == NULL && taken < count && PyDict_Next(args[0], &position, &term, &number)) {
        if (!PyUnicode_CheckExact(term) || !PyLong_CheckExact(number)
            || PyLong_AsSsize_t(number) != taken) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError,
                            "slice_runs: terms must map each str to its number, in order");
            goto done;
        }
        Py_INCREF(term);
        held[taken++] = (SliceTerm){.term = term};
    }
    for (Py_ssize_t at = 0; numbers == NULL && at < size; at += 12) {
        uint32_t t = uint32_at(data, at);
        if ((size_t)t >= (size_t)taken) { /* (unsigned: no wrap where Py_ssize_t is 32 bits) */
            PyErr_SetString(PyExc_ValueError, "slice_runs: a term number out of range");
            goto done;
        }
        if (sized(&held[t], data, at) < 0) {
            goto done;
        }
    }
    for (Py_ssize_t n = 0; n < taken; n++) {
        if (held[n].postings == 0) {
            continue;
        }
        if (held[n].term != NULL) {
            held[n].utf8 = PyUnicode_AsUTF8AndSize(held[n].term, &held[n].size);
        }
        if (held[n].utf8 == NULL) {
            goto done;
        }
        if (held[n].size > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "slice_runs: a term too long");
            goto done;
        }
        if (held[n].term != NULL) { /* (else the TermNumbers kept its CRC with its UTF-8) */
            held[n].crc = crc32_of(held[n].utf8, held[n].size);
        }
        held[n].group = (Py_ssize_t)(held[n].crc % (uint32_t)shards % (uint32_t)groups);
        if (held[n].postings > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "slice_runs: too many postings");
            goto done;
        }
        held[n].at = sizes[held[n].group];
        sizes[held[n].group] += 4 + varint_size((uint32_t)held[n].size) + held[n].size
                                + varint_size((uint32_t)held[n].postings) + held[n].bytes;
        held[n].last = 0;
    }
    result = PyList_New(groups);
    if (result == NULL) {
        goto done;
    }
    for (Py_ssize_t g = 0; g < groups; g++) {
        PyObject *run = PyBytes_FromStringAndSize(NULL, sizes[g]);
        if (run == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, g, run);
    }
    for (Py_ssize_t n = 0; n < taken; n++) {
        SliceTerm *t = &held[n];
        if (t->postings > 0) {
            char *run = PyBytes_AS_STRING(PyList_GET_ITEM(result, t->group));
            char *record = run + t->at;
            memcpy(record, &t->crc, 4);
            record = varint_put(record + 4, (uint32_t)t->size);
            memcpy(record, t->utf8, (size_t)t->size);
            t->at = varint_put(record + t->size, (uint32_t)t->postings) - run;
        }
    }
    for (Py_ssize_t at = 0; at < size; at += 12) {
        uint32_t n = uint32_at(data, at), id = uint32_at(data, at + 4);
        SliceTerm *t = &held[numbers != NULL ? numbers->tally[n] - 1 : n];
        char *into = PyBytes_AS_STRING(PyList_GET_ITEM(result, t->group)) + t->at;
        into = varint_put(varint_put(into, id - t->last), uint32_at(data, at + 8));
        t->at = into - PyBytes_AS_STRING(PyList_GET_ITEM(result, t->group));
        t->last = id;
    }
done:
    for (Py_ssize_t n = 0; n < taken; n++) {
        if (numbers != NULL) {
            numbers->tally[held[n].number] = 0;
        }
        Py_XDECREF(held[n].term);
    }
    if (numbers != NULL) {
        numbers->counting = 0;
    }
    PyMem_Free(held);
    PyMem_Free(sizes);
    PyMem_Free(data);
    PyMem_Free(spelled);
    return result;
}

/* Gathering(): one group's runs (see slice_runs), added slice by slice (`add`), each
   term's postings put end to end as they come (their ids must rise); then `write` puts
   each term file of the group in JSON, as index._shard_data does, and gives the
   terms' document counts. The terms are found by a keyed hash of their UTF-8 (Python's
   own), so that no text can be made to collide in it. */
typedef struct {
    uint64_t hash;
    uint32_t crc;
    uint32_t size;
    char *utf8;
    uint32_t *pairs; /* id, count, id, count ... */
    Py_ssize_t used; /* uint32 */
    Py_ssize_t allocated;
} Gathered;

typedef struct {
    PyObject_HEAD
    Gathered *entries;
    Py_ssize_t used;
    Py_ssize_t allocated;
    Py_ssize_t *slots; /* 1 + an index into entries, 0 when empty */
    size_t mask;
    int busy;  /* in add or write: a finalizer that calls either is refused */
    int spent; /* written: its entries are gone */
} Gathering;

static PyTypeObject GatheringType;

static Py_hash_t
bytes_hash(const char *data, Py_ssize_t size)
{
#if PY_VERSION_HEX >= 0x030E0000
    return Py_HashBuffer(data, size);
#else
    return _Py_HashBytes(data, size);
#endif
}

static void
gathering_free(Gathering *self)
{
    for (Py_ssize_t n = 0; n < self->used; n++) {
        PyMem_Free(self->entries[n].utf8);
        PyMem_Free(self->entries[n].pairs);
    }
    PyMem_Free(self->entries);
    PyMem_Free(self->slots);
    self->entries = NULL;
    self->slots = NULL;
    self->used = self->allocated = 0;
    self->mask = 0;
}

static int
gathering_grow(Gathering *self)
{
    size_t size = self->slots == NULL ? 1024 : (self->mask + 1) * 2;
    Py_ssize_t probes = 0;
    Py_ssize_t *slots = slots_for((const char *)self->entries, sizeof(Gathered),
                                  offsetof(Gathered, hash), self->used, size, &probes);
    if (slots == NULL) {
        return -1;
    }
    PyMem_Free(self->slots);
    self->slots = slots;
    self->mask = size - 1;
    return 0;
}

/* The entry of a term (made when new), or NULL with an exception set. */
static Gathered *
gathering_entry(Gathering *self, uint32_t crc, const char *utf8, uint32_t size)
{
    if ((size_t)(self->used + 1) * 2 > self->mask + 1 || self->slots == NULL) {
        if (gathering_grow(self) < 0) {
            return NULL;
        }
    }
    uint64_t hash = (uint64_t)bytes_hash(utf8, size);
    size_t at = (size_t)hash & self->mask;
    for (;;) {
        Py_ssize_t slot = self->slots[at];
        if (slot == 0) {
            break;
        }
        Gathered *found = &self->entries[slot - 1];
        if (found->hash == hash && found->size == size && memcmp(found->utf8, utf8, size) == 0) {
            if (found->crc != crc) {
                PyErr_SetString(PyExc_ValueError, "Gathering: a damaged run (a term's CRC)");
                return NULL;
            }
            return found;
        }
        at = (at + 1) & self->mask;
    }
    if (crc32_of(utf8, size) != crc) {
        PyErr_SetString(PyExc_ValueError, "Gathering: a damaged run (a term's CRC)");
        return NULL;
    }
    if (self->used == self->allocated) {
        Gathered *entries = grown(self->entries, &self->allocated, sizeof(Gathered), 1024);
        if (entries == NULL) {
            return NULL;
        }
        self->entries = entries;
    }
    char *copy = PyMem_Malloc((size_t)size + 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(copy, utf8, size);
    Gathered *entry = &self->entries[self->used];
    *entry = (Gathered){hash, crc, size, copy, NULL, 0, 0};
    self->used++;
    self->slots[at] = self->used;
    return entry;
}

static PyObject *
gathering_add(Gathering *self, PyObject *run)
{
    if (!PyBytes_Check(run)) {
        PyErr_SetString(PyExc_TypeError, "Gathering.add(run: bytes)");
        return NULL;
    }
    if (self->busy || self->spent) {
        PyErr_SetString(PyExc_RuntimeError, "Gathering: busy, or already written");
        return NULL;
    }
    self->busy = 1;
    const char *data = PyBytes_AS_STRING(run);
    Py_ssize_t size = PyBytes_GET_SIZE(run), at = 0;
    while (at < size) {
        uint32_t crc, length, postings;
        if (size - at < 4) {
            goto damaged;
        }
        memcpy(&crc, data + at, 4);
        at += 4;
        if (varint_get(data, size, &at, &length) < 0 || (uint64_t)(size - at) < length) {
            goto damaged;
        }
        const char *utf8 = data + at;
        at += length;
        /* (each posting takes two bytes at least) */
        if (varint_get(data, size, &at, &postings) < 0 || postings == 0
            || (uint64_t)(size - at) / 2 < postings) {
            goto damaged;
        }
        Gathered *entry = gathering_entry(self, crc, utf8, length);
        if (entry == NULL) {
            goto failed;
        }
        Py_ssize_t wanted = entry->used + 2 * (Py_ssize_t)postings;
        if (wanted > entry->allocated) {
            Py_ssize_t allocated = entry->allocated + entry->allocated / 2;
            allocated = allocated < wanted ? wanted : allocated;
            uint32_t *pairs = PyMem_Realloc(entry->pairs, (size_t)allocated * 4);
            if (pairs == NULL) {
                PyErr_NoMemory();
                goto failed;
            }
            entry->pairs = pairs;
            entry->allocated = allocated;
        }
        uint32_t *into = entry->pairs + entry->used;
        uint64_t id = 0; /* (the record's first gap is its first id) */
        for (uint32_t k = 0; k < postings; k++) {
            uint32_t gap, count;
            if (varint_get(data, size, &at, &gap) < 0 || varint_get(data, size, &at, &count) < 0) {
                goto damaged;
            }
            id += gap;
            if (id > UINT32_MAX) {
                goto damaged;
            }
            /* (each id past the last: the record's own, and the term's before it) */
            if ((k > 0 && gap == 0) || (k == 0 && entry->used > 0 && id <= into[-2])) {
                PyErr_SetString(PyExc_ValueError, "Gathering: postings out of order");
                goto failed;
            }
            into[2 * k] = (uint32_t)id;
            into[2 * k + 1] = count;
        }
        entry->used = wanted;
    }
    self->busy = 0;
    Py_RETURN_NONE;
damaged:
    PyErr_SetString(PyExc_ValueError, "Gathering: a damaged run");
failed: /* (what was added is let go: a gathering that failed is spent, as after write) */
    gathering_free(self);
    self->spent = 1;
    self->busy = 0;
    return NULL;
}

static int
gathered_order(const void *a, const void *b)
{
    const Gathered *x = *(Gathered *const *)a, *y = *(Gathered *const *)b;
    int by = memcmp(x->utf8, y->utf8, x->size < y->size ? x->size : y->size);
    return by != 0 ? by : (x->size > y->size) - (x->size < y->size);
}

/* A listed shard and its place in the list, sorted by shard (see gathering_write). */
typedef struct {
    Py_ssize_t shard;
    Py_ssize_t k;
} Place;

static int
place_order(const void *a, const void *b)
{
    Py_ssize_t x = ((const Place *)a)->shard, y = ((const Place *)b)->shard;
    return (x > y) - (x < y);
}

/* The place in the list of `shard`, or -1 when it is not listed. */
static Py_ssize_t
place_of(const Place *places, Py_ssize_t listed, Py_ssize_t shard)
{
    Py_ssize_t low = 0, high = listed;
    while (low < high) {
        Py_ssize_t middle = low + (high - low) / 2;
        if (places[middle].shard < shard) {
            low = middle + 1;
        }
        else {
            high = middle;
        }
    }
    return low < listed && places[low].shard == shard ? places[low].k : -1;
}

typedef struct {
    char *data;
    Py_ssize_t used;
    Py_ssize_t allocated;
} Text;

static int
text_room(Text *text, Py_ssize_t more)
{
    if (text->used + more <= text->allocated) {
        return 0;
    }
    Py_ssize_t allocated = text->allocated * 2 > text->used + more ? text->allocated * 2
                                                                   : text->used + more;
    char *data = PyMem_Realloc(text->data, (size_t)allocated);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    text->data = data;
    text->allocated = allocated;
    return 0;
}

/* `value` in decimal at `at` (room made for it); past it. (Written through a cursor of
   the caller's, not text->data[text->used++]: a store through a char pointer may change
   any memory, text->used too, so the compiler read and wrote it back at every digit.) */
static inline char *
text_number(char *at, uint32_t value)
{
    if (value < 10) { /* (most counts, and the gaps of common terms) */
        *at++ = (char)('0' + value);
        return at;
    }
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) {
        *at++ = digits[--n];
    }
    return at;
}

/* A term as orjson writes a str: " and \ escaped, and the characters below U+0020. */
static int
text_term(Text *text, const char *utf8, uint32_t size)
{
    if (text_room(text, 6 * (Py_ssize_t)size + 8) < 0) {
        return -1;
    }
    static const char hex[] = "0123456789abcdef";
    char *at = text->data + text->used; /* (a cursor: see text_number) */
    *at++ = '"';
    for (uint32_t k = 0; k < size; k++) {
        unsigned char c = (unsigned char)utf8[k];
        if (c == '"' || c == '\\') {
            at[0] = '\\', at[1] = (char)c, at += 2;
        }
        else if (c >= 0x20) {
            *at++ = (char)c;
        }
        else if (c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r') {
            at[0] = '\\';
            at[1] = c == '\b' ? 'b' : c == '\t' ? 't' : c == '\n' ? 'n' : c == '\f' ? 'f' : 'r';
            at += 2;
        }
        else {
            memcpy(at, "\\u00", 4);
            at[4] = hex[c >> 4], at[5] = hex[c & 15];
            at += 6;
        }
    }
    memcpy(at, "\":[", 3);
    text->used = at + 3 - text->data;
    return 0;
}

/* A term file: {term: [id, count, gap, count ...]} in the order of the terms. */
static PyObject *
shard_json(Gathered **entries, Py_ssize_t count, Text *text)
{
    text->used = 0;
    if (text_room(text, 2) < 0) {
        return NULL;
    }
    text->data[text->used++] = '{';
    for (Py_ssize_t n = 0; n < count; n++) {
        Gathered *entry = entries[n];
        if (n > 0) {
            if (text_room(text, 1) < 0) {
                return NULL;
            }
            text->data[text->used++] = ',';
        }
        if (text_term(text, entry->utf8, entry->size) < 0) {
            return NULL;
        }
        if (text_room(text, 11 * entry->used + 2) < 0) {
            return NULL;
        }
        uint32_t previous = 0;
        const uint32_t *pairs = entry->pairs;
        char *at = text->data + text->used;
        for (Py_ssize_t k = 0; k < entry->used; k += 2) {
            if (k > 0) {
                *at++ = ',';
            }
            at = text_number(at, pairs[k] - previous);
            previous = pairs[k];
            *at++ = ',';
            at = text_number(at, pairs[k + 1]);
        }
        *at++ = ']';
        text->used = at - text->data;
    }
    if (text_room(text, 1) < 0) {
        return NULL;
    }
    text->data[text->used++] = '}';
    return PyBytes_FromStringAndSize(text->data, text->used);
}

/* write(total, shards, write) -> {term: articles}: for each of `shards` (the group's
   term files, numbers below `total`, each once), write(shard, its JSON) with the terms
   whose CRC-32 % total is the shard, sorted; every term's count of articles. A term
   of no listed shard is an error. The gathering is spent after it. */
static PyObject *
gathering_write(Gathering *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_Check(args[1]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "Gathering.write(total, shards: list, write)");
        return NULL;
    }
    if (self->busy || self->spent) {
        PyErr_SetString(PyExc_RuntimeError, "Gathering: busy, or already written");
        return NULL;
    }
    Py_ssize_t total = as_size(args[0], 1 << 30, "Gathering.write: total");
    if (total < 0) {
        return NULL;
    }
    self->busy = 1;
    Py_ssize_t listed = PyList_GET_SIZE(args[1]);
    Place *places = PyMem_Malloc(((size_t)listed + 1) * sizeof(Place));
    Py_ssize_t *shards = PyMem_Malloc(((size_t)listed + 1) * sizeof(Py_ssize_t));
    Py_ssize_t *starts = PyMem_Calloc((size_t)listed + 2, sizeof(Py_ssize_t));
    Gathered **order = PyMem_Malloc(((size_t)self->used + 1) * sizeof(Gathered *));
    Text text = {NULL, 0, 0};
    PyObject *words = NULL;
    if (places == NULL || shards == NULL || starts == NULL || order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < listed; k++) { /* (read before any Python runs) */
        PyObject *item = PyList_GET_ITEM(args[1], k);
        Py_ssize_t shard = PyLong_Check(item) ? PyLong_AsSsize_t(item) : -1;
        if (shard < 0 || shard >= total) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "Gathering.write: shards must be distinct, below total");
            goto done;
        }
        places[k] = (Place){shard, k};
        shards[k] = shard;
    }
    qsort(places, (size_t)listed, sizeof(Place), place_order);
    for (Py_ssize_t k = 1; k < listed; k++) {
        if (places[k].shard == places[k - 1].shard) {
            PyErr_SetString(PyExc_ValueError, "Gathering.write: shards must be distinct, below total");
            goto done;
        }
    }
    for (Py_ssize_t n = 0; n < self->used; n++) {
        Py_ssize_t k = place_of(places, listed, self->entries[n].crc % (uint32_t)total);
        if (k < 0) {
            PyErr_SetString(PyExc_ValueError, "Gathering.write: a term of a shard not listed");
            goto done;
        }
        starts[k + 2]++;
    }
    for (Py_ssize_t k = 0; k < listed; k++) {
        starts[k + 2] += starts[k + 1];
    }
    for (Py_ssize_t n = 0; n < self->used; n++) {
        Py_ssize_t k = place_of(places, listed, self->entries[n].crc % (uint32_t)total);
        order[starts[k + 1]++] = &self->entries[n];
    }
    for (Py_ssize_t k = 0; k < listed; k++) {
        qsort(order + starts[k], (size_t)(starts[k + 1] - starts[k]), sizeof(Gathered *),
              gathered_order);
    }
    words = PyDict_New();
    if (words == NULL) {
        goto done;
    }
    for (Py_ssize_t n = 0; n < self->used; n++) {
        PyObject *term = PyUnicode_DecodeUTF8(order[n]->utf8, order[n]->size, NULL);
        PyObject *count = term == NULL ? NULL : PyLong_FromSsize_t(order[n]->used / 2);
        int failed = count == NULL || PyDict_SetItem(words, term, count) < 0;
        Py_XDECREF(term);
        Py_XDECREF(count);
        if (failed) {
            Py_CLEAR(words);
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < listed; k++) {
        PyObject *data = shard_json(order + starts[k], starts[k + 1] - starts[k], &text);
        PyObject *done = data == NULL ? NULL
                                      : PyObject_CallFunction(args[2], "nO", shards[k], data);
        Py_XDECREF(data);
        if (done == NULL) {
            Py_CLEAR(words);
            goto done;
        }
        Py_DECREF(done);
    }
done:
    PyMem_Free(places);
    PyMem_Free(shards);
    PyMem_Free(starts);
    PyMem_Free(order);
    PyMem_Free(text.data);
    gathering_free(self);
    self->spent = 1;
    self->busy = 0;
    return words;
}

static PyObject *
gathering_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Gathering() takes no arguments");
        return NULL;
    }
    return type->tp_alloc(type, 0);
}

static void
gathering_dealloc(Gathering *self)
{
    gathering_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef gathering_methods[] = {
    {"add", (PyCFunction)gathering_add, METH_O, "add(run: bytes) -> None"},
    {"write", (PyCFunction)(void (*)(void))gathering_write, METH_FASTCALL,
     "write(total, shards, write) -> dict[str, int]"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject GatheringType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "broadsheet.search._native.Gathering",
    .tp_basicsize = sizeof(Gathering),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Gathering(): one group's runs put end to end, then its term files written",
    .tp_new = gathering_new,
    .tp_dealloc = (destructor)gathering_dealloc,
    .tp_methods = gathering_methods,
};

static PyMethodDef methods[] = {
    {"count_words", (PyCFunction)(void (*)(void))count_words, METH_FASTCALL,
     "count_words(text, stems) -> (counts, words), or None"},
    {"text_of", (PyCFunction)(void (*)(void))text_of, METH_FASTCALL,
     "text_of(markup, blocks, inlines) -> str | None"},
    {"fold_join", (PyCFunction)(void (*)(void))fold_join, METH_FASTCALL,
     "fold_join(text, folds): terms._joined(terms._folded(text)), or None"},
    {"count_into", (PyCFunction)(void (*)(void))count_into, METH_FASTCALL,
     "count_into(text, stems, title, numbers, triples, number, boost) -> words"},
    {"slice_add", (PyCFunction)(void (*)(void))slice_add, METH_FASTCALL,
     "slice_add(terms, triples, number, counts) -> None"},
    {"slice_runs", (PyCFunction)(void (*)(void))slice_runs, METH_FASTCALL,
     "slice_runs(terms, triples, groups, shards) -> list[bytes]"},
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
        ascii_plain[c] = c != '<' && c != '&' && !Py_UNICODE_ISSPACE(c);
        ascii_word[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
                        || (c >= 'A' && c <= 'Z');
    }
    crc_table_fill();
    if (PyType_Ready(&StemTableType) < 0 || PyType_Ready(&GatheringType) < 0
        || PyType_Ready(&TermNumbersType) < 0) {
        return NULL;
    }
    PyObject *made = PyModule_Create(&module);
    if (made == NULL) {
        return NULL;
    }
    Py_INCREF(&StemTableType);
    if (PyModule_AddObject(made, "StemTable", (PyObject *)&StemTableType) < 0) {
        Py_DECREF(&StemTableType);
        Py_DECREF(made);
        return NULL;
    }
    Py_INCREF(&GatheringType);
    if (PyModule_AddObject(made, "Gathering", (PyObject *)&GatheringType) < 0) {
        Py_DECREF(&GatheringType);
        Py_DECREF(made);
        return NULL;
    }
    Py_INCREF(&TermNumbersType);
    if (PyModule_AddObject(made, "TermNumbers", (PyObject *)&TermNumbersType) < 0) {
        Py_DECREF(&TermNumbersType);
        Py_DECREF(made);
        return NULL;
    }
    return made;
}
