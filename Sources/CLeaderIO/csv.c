/* Streaming RFC 4180 tokenizer over plain or gzip files (see include/CLeaderIO.h for the contract). */
#include "CLeaderIO.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define LIO_INITIAL_BUFFER (1 << 20)
#define LIO_CHUNK (1 << 20)   /* inflater thread: bytes per chunk */
#define LIO_NCHUNK 4          /* inflater thread: chunks in flight */
#define LIO_DEFAULT_MAX_RECORD ((int64_t)256 << 20)

struct lio_csv {
    gzFile gz;          /* NULL for memory and stream readers */
    lio_read_fn read;   /* stream readers: the source, its close function and its state */
    lio_close_fn close;
    void *ctx;
    /* gzip files: a producer thread inflates into a ring of chunks while the caller tokenizes. */
    int threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_data, cv_space;
    uint8_t *chunk[LIO_NCHUNK];
    int64_t chunk_n[LIO_NCHUNK];
    int head, count;    /* ring: oldest filled chunk, filled chunks */
    int64_t head_off;   /* bytes of the head chunk already consumed */
    int prod_done;      /* producer finished: eof or error */
    int32_t prod_status;/* 0 or LIO_ERR_READ */
    int32_t prod_errno;
    int stop;           /* consumer asks the producer to quit */
    uint8_t *buf;       /* [cap] */
    int64_t cap;
    int64_t start;      /* first unparsed byte */
    int64_t end;        /* end of valid bytes */
    int eof;            /* no more bytes will come */
    int failed;         /* sticky error status (0 when fine) */
    int first_fill;
    uint8_t delim;      /* ',' or '\t' (sniffed from the first line) */
    int quoting;        /* RFC 4180 quotes (CSV); off for tab-separated files */
    int64_t max_record;
    int64_t read_chunk; /* most bytes per refill (0 = as many as fit); a test hook for buffer boundaries */
    int64_t *fields;    /* [2 * field_cap] */
    uint8_t *escaped;   /* [field_cap]: field holds "" pairs to unescape */
    int32_t field_cap;
    int64_t line;       /* line of the next record */
    int64_t err_line, err_col;
    int32_t err_errno;
    int64_t consumed;
};

static int32_t fail(lio_csv *c, int32_t st, int64_t line, int64_t col) {
    c->failed = st;
    c->err_line = line;
    c->err_col = col;
    return st;
}

static lio_csv *alloc_reader(int64_t max_record) {
    lio_csv *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max_record = max_record > 0 ? max_record : LIO_DEFAULT_MAX_RECORD;
    c->field_cap = 64;
    c->fields = malloc(sizeof(int64_t) * 2 * (size_t)c->field_cap);
    c->escaped = malloc((size_t)c->field_cap);
    c->line = 1;
    c->first_fill = 1;
    c->delim = ',';
    c->quoting = 1;
    if (!c->fields || !c->escaped) {
        free(c->fields);
        free(c->escaped);
        free(c);
        return NULL;
    }
    return c;
}

static void *inflater(void *arg) {
    lio_csv *c = arg;
    int tail = 0;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (c->count == LIO_NCHUNK && !c->stop) pthread_cond_wait(&c->cv_space, &c->mu);
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop) return NULL;
        errno = 0;
        int got = gzread(c->gz, c->chunk[tail], LIO_CHUNK);  /* the tail slot is free: count < LIO_NCHUNK */
        int32_t status = 0, err = 0;
        if (got < 0) {
            status = LIO_ERR_READ;
            err = errno;
        } else if (got == 0) {
            int zerr = Z_OK;
            gzerror(c->gz, &zerr);
            if (zerr != Z_OK) {  /* truncated or corrupt gzip stream */
                status = LIO_ERR_READ;
                err = errno;
            }
        }
        pthread_mutex_lock(&c->mu);
        if (got > 0) {
            c->chunk_n[tail] = got;
            tail = (tail + 1) % LIO_NCHUNK;
            c->count++;
        } else {
            c->prod_done = 1;
            c->prod_status = status;
            c->prod_errno = err;
        }
        pthread_cond_signal(&c->cv_data);
        pthread_mutex_unlock(&c->mu);
        if (got <= 0) return NULL;
    }
}

/* Starts the inflater thread for a gzip file; on any failure the reader stays single-threaded. */
static void start_inflater(lio_csv *c) {
    if (gzdirect(c->gz)) return;  /* plain file: nothing to overlap */
    for (int i = 0; i < LIO_NCHUNK; i++) {
        c->chunk[i] = malloc(LIO_CHUNK);
        if (!c->chunk[i]) return;
    }
    if (pthread_mutex_init(&c->mu, NULL)) return;
    if (pthread_cond_init(&c->cv_data, NULL)) {
        pthread_mutex_destroy(&c->mu);
        return;
    }
    if (pthread_cond_init(&c->cv_space, NULL)) {
        pthread_cond_destroy(&c->cv_data);
        pthread_mutex_destroy(&c->mu);
        return;
    }
    if (pthread_create(&c->thread, NULL, inflater, c)) {
        pthread_cond_destroy(&c->cv_space);
        pthread_cond_destroy(&c->cv_data);
        pthread_mutex_destroy(&c->mu);
        return;
    }
    c->threaded = 1;
}

int32_t lio_csv_open(lio_csv **out, const char *path, int64_t max_record_bytes) {
    if (!out) return LIO_ERR_ARG;
    *out = NULL;
    if (!path) return LIO_ERR_ARG;
    lio_csv *c = alloc_reader(max_record_bytes);
    if (!c) return LIO_ERR_NOMEM;
    errno = 0;
    c->gz = gzopen(path, "rb");
    if (!c->gz) {
        int e = errno;
        lio_csv_free(c);
        errno = e;
        return LIO_ERR_OPEN;
    }
    gzbuffer(c->gz, 1 << 18);
    c->cap = LIO_INITIAL_BUFFER;
    c->buf = malloc((size_t)c->cap);
    if (!c->buf) {
        lio_csv_free(c);
        return LIO_ERR_NOMEM;
    }
    start_inflater(c);
    *out = c;
    return 0;
}

int32_t lio_csv_open_memory(lio_csv **out, const uint8_t *data, size_t n, int64_t max_record_bytes) {
    if (!out) return LIO_ERR_ARG;
    *out = NULL;
    if (!data && n) return LIO_ERR_ARG;
    if (n > (size_t)INT64_MAX - 1) return LIO_ERR_NOMEM;
    lio_csv *c = alloc_reader(max_record_bytes);
    if (!c) return LIO_ERR_NOMEM;
    c->cap = (int64_t)n + 1;
    c->buf = malloc((size_t)c->cap);
    if (!c->buf) {
        lio_csv_free(c);
        return LIO_ERR_NOMEM;
    }
    if (n) memcpy(c->buf, data, n);
    c->end = (int64_t)n;
    c->eof = 1;
    *out = c;
    return 0;
}

int32_t lio_csv_open_stream(lio_csv **out, lio_read_fn read, lio_close_fn close, void *ctx,
                            int64_t max_record_bytes) {
    if (!out) return LIO_ERR_ARG;
    *out = NULL;
    if (!read) return LIO_ERR_ARG;
    lio_csv *c = alloc_reader(max_record_bytes);
    if (!c) {
        if (close) close(ctx);
        return LIO_ERR_NOMEM;
    }
    c->read = read;
    c->close = close;
    c->ctx = ctx;
    c->cap = LIO_INITIAL_BUFFER;
    c->buf = malloc((size_t)c->cap);
    if (!c->buf) {
        lio_csv_free(c);
        return LIO_ERR_NOMEM;
    }
    *out = c;
    return 0;
}

void lio_csv_free(lio_csv *c) {
    if (!c) return;
    if (c->close) c->close(c->ctx);
    if (c->threaded) {
        pthread_mutex_lock(&c->mu);
        c->stop = 1;
        pthread_cond_signal(&c->cv_space);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
        pthread_cond_destroy(&c->cv_space);
        pthread_cond_destroy(&c->cv_data);
        pthread_mutex_destroy(&c->mu);
    }
    for (int i = 0; i < LIO_NCHUNK; i++) free(c->chunk[i]);
    if (c->gz) gzclose(c->gz);
    free(c->buf);
    free(c->fields);
    free(c->escaped);
    free(c);
}

int64_t lio_csv_error_line(const lio_csv *c) { return c ? c->err_line : 0; }
int64_t lio_csv_error_column(const lio_csv *c) { return c ? c->err_col : 0; }
int32_t lio_csv_errno(const lio_csv *c) { return c ? c->err_errno : 0; }
int64_t lio_csv_bytes_consumed(const lio_csv *c) { return c ? c->consumed : 0; }
int32_t lio_csv_delimiter(const lio_csv *c) { return c ? c->delim : 0; }

void lio_csv_set_read_chunk(lio_csv *c, int64_t bytes) {
    if (c) c->read_chunk = bytes > 0 ? bytes : 0;
}

/* Moves unparsed bytes to the front, grows the buffer when full, reads more. 0, or an LIO_ERR_*. */
static int32_t refill(lio_csv *c) {
    if (c->eof) return 0;
    if (c->start > 0) {
        int64_t keep = c->end - c->start;
        if (keep > 0) memmove(c->buf, c->buf + c->start, (size_t)keep);
        c->start = 0;
        c->end = keep;
    }
    if (c->end == c->cap) {
        if (c->cap >= c->max_record) return fail(c, LIO_ERR_RECORD_TOO_LONG, c->line, 1);
        int64_t ncap = c->cap > c->max_record / 2 ? c->max_record : c->cap * 2;
        uint8_t *nb = realloc(c->buf, (size_t)ncap);
        if (!nb) return fail(c, LIO_ERR_NOMEM, c->line, 1);
        c->buf = nb;
        c->cap = ncap;
    }
    int64_t room = c->cap - c->end;
    if (c->read_chunk > 0 && room > c->read_chunk) room = c->read_chunk;
    if (c->threaded) {
        pthread_mutex_lock(&c->mu);
        while (c->count == 0 && !c->prod_done) pthread_cond_wait(&c->cv_data, &c->mu);
        if (c->count == 0) {  /* producer done */
            int32_t st = c->prod_status, e = c->prod_errno;
            pthread_mutex_unlock(&c->mu);
            if (st) {
                c->err_errno = e;
                return fail(c, st, c->line, 1);
            }
            c->eof = 1;
            return 0;
        }
        int slot = c->head;
        int64_t avail = c->chunk_n[slot] - c->head_off;
        pthread_mutex_unlock(&c->mu);
        int64_t n = avail < room ? avail : room;
        memcpy(c->buf + c->end, c->chunk[slot] + c->head_off, (size_t)n);
        c->end += n;
        c->head_off += n;
        if (c->head_off == c->chunk_n[slot]) {
            pthread_mutex_lock(&c->mu);
            c->head = (c->head + 1) % LIO_NCHUNK;
            c->count--;
            c->head_off = 0;
            pthread_cond_signal(&c->cv_space);
            pthread_mutex_unlock(&c->mu);
        }
        return 0;
    }
    if (c->read) {
        int64_t got = c->read(c->ctx, c->buf + c->end, room);
        if (got < 0) return fail(c, LIO_ERR_READ, c->line, 1);
        if (got == 0) c->eof = 1;
        c->end += got > room ? room : got;
        return 0;
    }
    unsigned want = room > (1 << 30) ? (1u << 30) : (unsigned)room;
    errno = 0;
    int got = gzread(c->gz, c->buf + c->end, want);
    if (got < 0) {
        c->err_errno = errno;
        return fail(c, LIO_ERR_READ, c->line, 1);
    }
    if (got == 0) {
        int zerr = Z_OK;
        gzerror(c->gz, &zerr);
        if (zerr != Z_OK) {  /* truncated or corrupt gzip stream */
            c->err_errno = errno;
            return fail(c, LIO_ERR_READ, c->line, 1);
        }
        c->eof = 1;
    }
    c->end += got;
    return 0;
}

static int grow_fields(lio_csv *c) {
    if (c->field_cap >= LIO_MAX_FIELDS) return LIO_ERR_TOO_MANY_FIELDS;
    int32_t ncap = c->field_cap * 2;
    int64_t *nf = realloc(c->fields, sizeof(int64_t) * 2 * (size_t)ncap);
    if (!nf) return LIO_ERR_NOMEM;
    c->fields = nf;
    uint8_t *ne = realloc(c->escaped, (size_t)ncap);
    if (!ne) return LIO_ERR_NOMEM;
    c->escaped = ne;
    c->field_cap = ncap;
    return 0;
}

#define NEED_MORE 2

/* Parses one record at c->start. LIO_ROW (record in fields; *rec_end set), NEED_MORE, or an error. */
static int32_t parse_record(lio_csv *c, int32_t *n_out, int64_t *rec_end, int64_t *newlines) {
    /* Locals, not c->…: stores through uint8_t pointers may alias anything, so the compiler would reload
     * every c-> field after each store. */
    const uint8_t *b = c->buf;
    const int64_t end = c->end;
    const uint8_t delim = c->delim;
    const int quoting = c->quoting;
    int64_t *fields = c->fields;
    uint8_t *escaped = c->escaped;
    int32_t field_cap = c->field_cap;
    int64_t pos = c->start;
    int32_t nf = 0;
    int64_t nl = 0;
#if defined(__SSE2__)
    const __m128i vdelim = _mm_set1_epi8((char)delim), vnl = _mm_set1_epi8('\n');
#endif
    for (;;) {
        if (nf == field_cap) {
            int32_t st = grow_fields(c);
            if (st) return fail(c, st, c->line + nl, nf + 1);
            b = c->buf;
            fields = c->fields;
            escaped = c->escaped;
            field_cap = c->field_cap;
        }
        if (quoting && pos < end && b[pos] == '"') {
            int64_t cs = ++pos;
            int esc = 0;
            for (;;) {
                const uint8_t *q = pos < end ? memchr(b + pos, '"', (size_t)(end - pos)) : NULL;
                int64_t qi = q ? (int64_t)(q - b) : end;
                for (int64_t i = pos; i < qi; i++) nl += b[i] == '\n';
                if (!q) {
                    if (c->eof) return fail(c, LIO_ERR_UNTERMINATED, c->line, nf + 1);
                    return NEED_MORE;
                }
                if (qi + 1 >= end && !c->eof) return NEED_MORE;
                if (qi + 1 < end && b[qi + 1] == '"') {
                    esc = 1;
                    pos = qi + 2;
                    continue;
                }
                fields[2 * nf] = cs;
                fields[2 * nf + 1] = qi - cs;
                escaped[nf] = (uint8_t)esc;
                nf++;
                pos = qi + 1;
                break;
            }
            if (pos >= end) {  /* eof right after the closing quote */
                *n_out = nf;
                *rec_end = pos;
                *newlines = nl;
                return LIO_ROW;
            }
            uint8_t ch = b[pos];
            if (ch == delim) {
                pos++;
                continue;
            }
            if (ch == '\n') {
                *n_out = nf;
                *rec_end = pos + 1;
                *newlines = nl + 1;
                return LIO_ROW;
            }
            if (ch == '\r') {
                if (pos + 1 >= end && !c->eof) return NEED_MORE;
                if (pos + 1 >= end) {
                    *n_out = nf;
                    *rec_end = pos + 1;
                    *newlines = nl;
                    return LIO_ROW;
                }
                if (b[pos + 1] == '\n') {
                    *n_out = nf;
                    *rec_end = pos + 2;
                    *newlines = nl + 1;
                    return LIO_ROW;
                }
            }
            return fail(c, LIO_ERR_QUOTE, c->line + nl, nf);
        }
        /* unquoted field */
        int64_t fs = pos;
#if defined(__SSE2__)
        for (;;) {
            if (pos + 16 <= end) {
                __m128i v = _mm_loadu_si128((const __m128i *)(b + pos));
                unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, vdelim), _mm_cmpeq_epi8(v, vnl)));
                if (m) {
                    pos += __builtin_ctz(m);
                    break;
                }
                pos += 16;
                continue;
            }
            while (pos < end && b[pos] != delim && b[pos] != '\n') pos++;
            break;
        }
#else
        while (pos < end) {
            uint8_t ch = b[pos];
            if (ch == delim || ch == '\n') break;
            pos++;
        }
#endif
        if (pos >= end) {
            if (!c->eof) return NEED_MORE;
            int64_t fl = pos - fs;
            if (fl > 0 && b[pos - 1] == '\r') fl--;
            fields[2 * nf] = fs;
            fields[2 * nf + 1] = fl;
            escaped[nf] = 0;
            nf++;
            *n_out = nf;
            *rec_end = pos;
            *newlines = nl;
            return LIO_ROW;
        }
        if (b[pos] == delim) {
            fields[2 * nf] = fs;
            fields[2 * nf + 1] = pos - fs;
            escaped[nf] = 0;
            nf++;
            pos++;
            continue;
        }
        /* newline */
        int64_t fl = pos - fs;
        if (fl > 0 && b[pos - 1] == '\r') fl--;
        fields[2 * nf] = fs;
        fields[2 * nf + 1] = fl;
        escaped[nf] = 0;
        nf++;
        *n_out = nf;
        *rec_end = pos + 1;
        *newlines = nl + 1;
        return LIO_ROW;
    }
}

static void unescape(lio_csv *c, int32_t nf) {
    for (int32_t f = 0; f < nf; f++) {
        if (!c->escaped[f]) continue;
        uint8_t *p = c->buf + c->fields[2 * f];
        int64_t n = c->fields[2 * f + 1], w = 0;
        for (int64_t r = 0; r < n; r++) {
            p[w++] = p[r];
            if (p[r] == '"') r++;  /* the second quote of a "" pair */
        }
        c->fields[2 * f + 1] = w;
    }
}

int32_t lio_csv_next(lio_csv *c, lio_row *row) {
    if (!c || !row) return LIO_ERR_ARG;
    if (c->failed) return c->failed;
    if (c->first_fill) {
        /* Buffer the whole first line (up to 64 KiB) for the BOM check and the delimiter sniff. */
        while (!c->eof && c->end - c->start < 65536 &&
               !memchr(c->buf + c->start, '\n', (size_t)(c->end - c->start))) {
            int32_t st = refill(c);
            if (st) return st;
        }
        const uint8_t *b = c->buf + c->start;
        if (c->end - c->start >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) c->start += 3;
        c->first_fill = 0;
        /* Tab-separated when the first line (as far as buffered) has a tab and no comma (Athena exports). */
        int tabs = 0, commas = 0;
        for (int64_t i = c->start; i < c->end && c->buf[i] != '\n'; i++) {
            tabs += c->buf[i] == '\t';
            commas += c->buf[i] == ',';
        }
        if (tabs > 0 && commas == 0) {
            c->delim = '\t';
            c->quoting = 0;
        }
    }
    for (;;) {
        if (c->start >= c->end) {
            if (c->eof) return LIO_EOF;
            int32_t st = refill(c);
            if (st) return st;
            continue;
        }
        int32_t nf = 0;
        int64_t rec_end = 0, nl = 0;
        int32_t st = parse_record(c, &nf, &rec_end, &nl);
        if (st == NEED_MORE) {
            st = refill(c);
            if (st) return st;
            continue;
        }
        if (st != LIO_ROW) return st;
        int64_t line = c->line;
        c->line += nl;
        c->consumed += rec_end - c->start;
        int64_t rec_start = c->start;
        c->start = rec_end;
        /* a blank line (LF or CRLF only) is skipped */
        if (nf == 1 && c->fields[1] == 0 && (c->buf[rec_start] != '"' || !c->quoting)) continue;
        unescape(c, nf);
        row->base = c->buf;
        row->fields = c->fields;
        row->n_fields = nf;
        row->line = line;
        return LIO_ROW;
    }
}

uint32_t lio_crc32(uint32_t crc, const uint8_t *data, size_t n) {
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, data, chunk);
        data += chunk;
        n -= chunk;
    }
    return crc;
}

int32_t lio_write_file(const char *path, const uint8_t *data, size_t n, int32_t level) {
    if (!path || (!data && n)) return -1;
    char mode[8] = "wb";
    if (level <= 0) {
        mode[2] = 'T';  /* transparent: plain write */
        mode[3] = 0;
    } else {
        mode[2] = (char)('0' + (level > 9 ? 9 : level));
        mode[3] = 0;
    }
    gzFile gz = gzopen(path, mode);
    if (!gz) return -1;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int w = gzwrite(gz, data, chunk);
        if (w <= 0) {
            gzclose(gz);
            return -1;
        }
        data += w;
        n -= (size_t)w;
    }
    return gzclose(gz) == Z_OK ? 0 : -1;
}
