/* CLeaderIO — streaming CSV (RFC 4180) over plain or gzip files, for the EHR loaders.
 *
 * Internal to the leader package (hidden visibility, not part of include/leader.h).
 *
 *   lio_csv *csv = NULL;
 *   int32_t st = lio_csv_open(&csv, "PRESCRIPTIONS.csv.gz", 0);
 *   lio_row row;
 *   while ((st = lio_csv_next(csv, &row)) == LIO_ROW) {
 *       for (int32_t i = 0; i < row.n_fields; i++) use(row.base + row.fields[2*i], row.fields[2*i+1]);
 *   }
 *   if (st != LIO_EOF) report(lio_csv_error_line(csv), lio_csv_error_column(csv), st);
 *   lio_csv_free(csv);
 *
 * Files are read through zlib's gzread, which reads gzip and plain files alike. A UTF-8 byte-order mark at the
 * start is skipped. A file whose first line holds a tab and no comma is read as tab-separated without quote
 * processing (OHDSI Athena vocabulary exports are TSV named .csv, with bare quotes in concept names). Records end at LF or CRLF outside quotes; blank lines are skipped; a last record without a
 * trailing newline is returned. Quoted fields may hold commas, quotes ("" → ") and newlines; their bytes are
 * unescaped in place. Field bytes are borrowed: valid until the next lio_csv_next or lio_csv_free.
 * For gzip files a background thread inflates ahead of the caller (4 x 1 MiB chunks); lio_csv_free stops and
 * joins it. One reader must not be used by two threads at once; distinct readers are independent.
 * Nothing here allocates per row; buffers grow only for records longer than the current buffer, up to
 * max_record_bytes (then LIO_ERR_RECORD_TOO_LONG).
 */
#ifndef CLEADERIO_H
#define CLEADERIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIO_ROW 1                   /* a row was returned */
#define LIO_EOF 0                   /* no more rows */
#define LIO_ERR_OPEN -1             /* cannot open the file (errno in lio_csv_errno) */
#define LIO_ERR_READ -2             /* read or decompression error (corrupt gzip, I/O) */
#define LIO_ERR_QUOTE -3            /* a closing quote followed by a byte other than , CR LF */
#define LIO_ERR_UNTERMINATED -4     /* end of file inside a quoted field */
#define LIO_ERR_RECORD_TOO_LONG -5  /* a record longer than max_record_bytes */
#define LIO_ERR_TOO_MANY_FIELDS -6  /* more than LIO_MAX_FIELDS fields in one record */
#define LIO_ERR_NOMEM -7            /* allocation failed */
#define LIO_ERR_ARG -8              /* NULL argument */

#define LIO_MAX_FIELDS 65536

typedef struct lio_csv lio_csv;

/** One record. fields holds n_fields pairs (offset from base, length in bytes). Borrowed. */
typedef struct {
    const uint8_t *base;
    const int64_t *fields;  /* [2 * n_fields] */
    int32_t n_fields;
    int64_t line;           /* 1-based physical line where the record starts */
} lio_row;

/** Opens path (plain or gzip). max_record_bytes <= 0 means 256 MiB. On failure *out is NULL. */
int32_t lio_csv_open(lio_csv **out, const char *path, int64_t max_record_bytes);

/** Opens an in-memory buffer (copied). Used by tests and the benchmark. */
int32_t lio_csv_open_memory(lio_csv **out, const uint8_t *data, size_t n, int64_t max_record_bytes);

/** A byte source: copies up to cap bytes into buf; returns the count, 0 at the end, or < 0 on an error. */
typedef int64_t (*lio_read_fn)(void *ctx, uint8_t *buf, int64_t cap);
typedef void (*lio_close_fn)(void *ctx);

/** Opens a reader over a stream (a database COPY, a pipe): read is called whenever the buffer needs bytes; close
 * (may be NULL) is called once with ctx by lio_csv_free, or at once when opening fails. A read error is LIO_ERR_READ. */
int32_t lio_csv_open_stream(lio_csv **out, lio_read_fn read, lio_close_fn close, void *ctx, int64_t max_record_bytes);

/** Next record: LIO_ROW, LIO_EOF or an LIO_ERR_* (then error line/column are set; the reader stays failed). */
int32_t lio_csv_next(lio_csv *csv, lio_row *row);

int64_t lio_csv_error_line(const lio_csv *csv);    /* 1-based physical line of the error */
int64_t lio_csv_error_column(const lio_csv *csv);  /* 1-based field (column) number of the error */
int32_t lio_csv_errno(const lio_csv *csv);         /* errno of a failed open/read, or 0 */
int64_t lio_csv_bytes_consumed(const lio_csv *csv);/* decompressed bytes consumed so far */
int32_t lio_csv_delimiter(const lio_csv *csv);     /* ',' or '\t'; valid after the first lio_csv_next */
void lio_csv_free(lio_csv *csv);

/** Test hook: read at most `bytes` per refill (0 = no limit), so that records straddle buffer refills. */
void lio_csv_set_read_chunk(lio_csv *csv, int64_t bytes);

/** CRC-32 (zlib) of n bytes, continuing from crc (start with 0). Used by the .ldata checksum. */
uint32_t lio_crc32(uint32_t crc, const uint8_t *data, size_t n);

/** Writes n bytes to path with gzip compression level (1..9), or plain when level == 0. 0 on success, else -1. */
int32_t lio_write_file(const char *path, const uint8_t *data, size_t n, int32_t level);

/** The path of the binary this code was loaded from (libleader.so in a host, the leader program when linked in),
 * as the dynamic loader names it, into out[cap] with its NUL. 0 on success, -1 when unknown or too long. */
int32_t lio_image_path(char *out, size_t cap);

/* ---- PostgreSQL: a table streamed by COPY ... TO STDOUT (CSV, HEADER), through libpq loaded at run time -------
 *
 *   lio_pg_copy *pg = NULL;
 *   char err[512];
 *   if (lio_pg_copy_open(&pg, "postgresql:///cdm?host=/run/postgresql", "COPY (SELECT * FROM \"cdm\".\"person\") "
 *                        "TO STDOUT WITH (FORMAT csv, HEADER true)", err, sizeof err) == 0)
 *       lio_csv_open_stream(&csv, lio_pg_copy_read, lio_pg_copy_close, pg, 0);   // the reader owns pg now
 *
 * libpq.so.5 is loaded on first use (dlopen), so the library needs it only when a PostgreSQL source is used.
 * Each COPY has its own connection (conninfo: a libpq connection string or URI; passwords come from PGPASSWORD or
 * ~/.pgpass as libpq reads them). The session runs with DateStyle ISO and client_encoding UTF8. */
typedef struct lio_pg_copy lio_pg_copy;

#define LIO_PG_NO_LIBPQ -20     /* libpq.so.5 could not be loaded */
#define LIO_PG_CONNECT -21      /* the connection failed (message in err) */
#define LIO_PG_QUERY -22        /* the COPY was refused (message in err) */

/** Connects and starts the COPY. 0, LIO_ERR_ARG, LIO_ERR_NOMEM or an LIO_PG_* with libpq's message in err[cap]. */
int32_t lio_pg_copy_open(lio_pg_copy **out, const char *conninfo, const char *copy_sql, char *err, size_t cap);
/** lio_read_fn over the COPY data; < 0 when the server reports an error (lio_pg_copy_error says which). */
int64_t lio_pg_copy_read(void *pg, uint8_t *buf, int64_t cap);
/** The server's message after a failed read ("" if none); valid until close. */
const char *lio_pg_copy_error(const lio_pg_copy *pg);
/** Ends the COPY (cancelling it when unfinished) and closes the connection. NULL: no-op. */
void lio_pg_copy_close(void *pg);

#ifdef __cplusplus
}
#endif
#endif
