/* The CSV reader's byte sources: plain or gzip files (a background thread inflates ahead), memory, and caller
 * streams (a database COPY), and the buffer refill the tokenizer calls (see include/CLeaderIO.h). */
#include "csv_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define LIO_INITIAL_BUFFER (1 << 20)
#define LIO_DEFAULT_MAX_RECORD ((int64_t)256 << 20)

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

int32_t csv_refill(lio_csv *c) {
    if (c->eof) return 0;
    if (c->start > 0) {
        int64_t keep = c->end - c->start;
        if (keep > 0) memmove(c->buf, c->buf + c->start, (size_t)keep);
        c->start = 0;
        c->end = keep;
    }
    if (c->end == c->cap) {
        if (c->cap >= c->max_record) return csv_fail(c, LIO_ERR_RECORD_TOO_LONG, c->line, 1);
        int64_t ncap = c->cap > c->max_record / 2 ? c->max_record : c->cap * 2;
        uint8_t *nb = realloc(c->buf, (size_t)ncap);
        if (!nb) return csv_fail(c, LIO_ERR_NOMEM, c->line, 1);
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
                return csv_fail(c, st, c->line, 1);
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
        if (got < 0) return csv_fail(c, LIO_ERR_READ, c->line, 1);
        if (got == 0) c->eof = 1;
        c->end += got > room ? room : got;
        return 0;
    }
    unsigned want = room > (1 << 30) ? (1u << 30) : (unsigned)room;
    errno = 0;
    int got = gzread(c->gz, c->buf + c->end, want);
    if (got < 0) {
        c->err_errno = errno;
        return csv_fail(c, LIO_ERR_READ, c->line, 1);
    }
    if (got == 0) {
        int zerr = Z_OK;
        gzerror(c->gz, &zerr);
        if (zerr != Z_OK) {  /* truncated or corrupt gzip stream */
            c->err_errno = errno;
            return csv_fail(c, LIO_ERR_READ, c->line, 1);
        }
        c->eof = 1;
    }
    c->end += got;
    return 0;
}

