/* A PostgreSQL table as a byte stream: COPY ... TO STDOUT through libpq, loaded at run time (see CLeaderIO.h). */
#include "CLeaderIO.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few libpq entry points used, with libpq's own types reduced to what crosses the call. */
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
enum { LIBPQ_CONNECTION_OK = 0, LIBPQ_COMMAND_OK = 1, LIBPQ_COPY_OUT = 3 };

static struct {
    PGconn *(*connectdb)(const char *);
    int (*status)(const PGconn *);
    char *(*error_message)(const PGconn *);
    PGresult *(*exec)(PGconn *, const char *);
    int (*result_status)(const PGresult *);
    char *(*result_error_message)(const PGresult *);
    void (*clear)(PGresult *);
    int (*get_copy_data)(PGconn *, char **, int);
    PGresult *(*get_result)(PGconn *);
    void (*freemem)(void *);
    void (*finish)(PGconn *);
    int loaded;
} pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void load_libpq(void) {
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
#define PQSYM(field, name)                              \
    do {                                                \
        *(void **)(&pq.field) = dlsym(h, name);         \
        if (!pq.field) return;                          \
    } while (0)
    PQSYM(connectdb, "PQconnectdb");
    PQSYM(status, "PQstatus");
    PQSYM(error_message, "PQerrorMessage");
    PQSYM(exec, "PQexec");
    PQSYM(result_status, "PQresultStatus");
    PQSYM(result_error_message, "PQresultErrorMessage");
    PQSYM(clear, "PQclear");
    PQSYM(get_copy_data, "PQgetCopyData");
    PQSYM(get_result, "PQgetResult");
    PQSYM(freemem, "PQfreemem");
    PQSYM(finish, "PQfinish");
#undef PQSYM
    pq.loaded = 1;
}

struct lio_pg_copy {
    PGconn *conn;
    char *chunk;      /* the row libpq handed over, not yet all copied out */
    int64_t chunk_n, chunk_off;
    int done;         /* the COPY finished (or failed) */
    char error[512];
};

/* Copies msg (libpq's, ending in a newline) into out[cap], trimmed. */
static void set_message(char *out, size_t cap, const char *msg) {
    if (!out || cap == 0) return;
    snprintf(out, cap, "%s", msg ? msg : "");
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = 0;
}

/* Runs a command that returns no rows; 0 or LIO_PG_QUERY with the message in err. */
static int32_t run_command(PGconn *conn, const char *sql, char *err, size_t cap) {
    PGresult *r = pq.exec(conn, sql);
    int ok = r && pq.result_status(r) == LIBPQ_COMMAND_OK;
    if (!ok) set_message(err, cap, r ? pq.result_error_message(r) : pq.error_message(conn));
    if (r) pq.clear(r);
    return ok ? 0 : LIO_PG_QUERY;
}

int32_t lio_pg_copy_open(lio_pg_copy **out, const char *conninfo, const char *copy_sql, char *err, size_t cap) {
    if (!out) return LIO_ERR_ARG;
    *out = NULL;
    if (!conninfo || !copy_sql) return LIO_ERR_ARG;
    set_message(err, cap, "");
    pthread_once(&pq_once, load_libpq);
    if (!pq.loaded) {
        set_message(err, cap, "libpq.so.5 (PostgreSQL's client library) could not be loaded; install libpq5");
        return LIO_PG_NO_LIBPQ;
    }
    lio_pg_copy *pg = calloc(1, sizeof *pg);
    if (!pg) return LIO_ERR_NOMEM;
    pg->conn = pq.connectdb(conninfo);
    if (!pg->conn || pq.status(pg->conn) != LIBPQ_CONNECTION_OK) {
        set_message(err, cap, pg->conn ? pq.error_message(pg->conn) : "out of memory");
        lio_pg_copy_close(pg);
        return LIO_PG_CONNECT;
    }
    if (run_command(pg->conn, "SET DateStyle TO ISO; SET client_encoding TO 'UTF8'", err, cap)) {
        lio_pg_copy_close(pg);
        return LIO_PG_QUERY;
    }
    PGresult *r = pq.exec(pg->conn, copy_sql);
    int ok = r && pq.result_status(r) == LIBPQ_COPY_OUT;
    if (!ok) set_message(err, cap, r ? pq.result_error_message(r) : pq.error_message(pg->conn));
    if (r) pq.clear(r);
    if (!ok) {
        lio_pg_copy_close(pg);
        return LIO_PG_QUERY;
    }
    *out = pg;
    return 0;
}

int64_t lio_pg_copy_read(void *ctx, uint8_t *buf, int64_t cap) {
    lio_pg_copy *pg = ctx;
    if (!pg || !buf || cap <= 0) return -1;
    int64_t n = 0;
    while (n < cap) {
        if (pg->chunk) {
            int64_t take = pg->chunk_n - pg->chunk_off;
            if (take > cap - n) take = cap - n;
            memcpy(buf + n, pg->chunk + pg->chunk_off, (size_t)take);
            n += take;
            pg->chunk_off += take;
            if (pg->chunk_off == pg->chunk_n) {
                pq.freemem(pg->chunk);
                pg->chunk = NULL;
            }
            continue;
        }
        if (pg->done) break;
        char *row = NULL;
        int got = pq.get_copy_data(pg->conn, &row, 0);
        if (got > 0) {
            pg->chunk = row;
            pg->chunk_n = got;
            pg->chunk_off = 0;
            continue;
        }
        if (row) pq.freemem(row);
        pg->done = 1;
        if (got == -2) {
            set_message(pg->error, sizeof pg->error, pq.error_message(pg->conn));
            return -1;
        }
        /* -1: the COPY ended; its final result says whether it succeeded */
        int failed = 0;
        PGresult *r;
        while ((r = pq.get_result(pg->conn)) != NULL) {
            if (pq.result_status(r) != LIBPQ_COMMAND_OK && !failed) {
                failed = 1;
                set_message(pg->error, sizeof pg->error, pq.result_error_message(r));
            }
            pq.clear(r);
        }
        if (failed) return -1;
    }
    return n;
}

const char *lio_pg_copy_error(const lio_pg_copy *pg) { return pg ? pg->error : ""; }

void lio_pg_copy_close(void *ctx) {
    lio_pg_copy *pg = ctx;
    if (!pg) return;
    if (pg->chunk) pq.freemem(pg->chunk);
    if (pg->conn) pq.finish(pg->conn);   /* an unfinished COPY ends with the connection */
    free(pg);
}
