/* The CSV reader's state, shared by its byte sources (csv_source.c) and its tokenizer (csv_tokenizer.c).
 * Internal to CLeaderIO: the public contract is include/CLeaderIO.h. */
#ifndef CLEADERIO_CSV_INTERNAL_H
#define CLEADERIO_CSV_INTERNAL_H

#include "CLeaderIO.h"

#include <pthread.h>
#include <zlib.h>

#define LIO_CHUNK (1 << 20)   /* inflater thread: bytes per chunk */
#define LIO_NCHUNK 4          /* inflater thread: chunks in flight */

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

/* Marks the reader failed (sticky) at line/column; returns st. */
static inline int32_t csv_fail(lio_csv *c, int32_t st, int64_t line, int64_t col) {
    c->failed = st;
    c->err_line = line;
    c->err_col = col;
    return st;
}

/* Moves unparsed bytes to the front, grows the buffer when full, reads more from the source. 0, or an LIO_ERR_*. */
int32_t csv_refill(lio_csv *c);

#endif
