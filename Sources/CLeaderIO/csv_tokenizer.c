/* The RFC 4180 tokenizer over the reader's buffer: records, quoted fields, the first-line sniffing (BOM, tab or
 * comma), blank lines (see include/CLeaderIO.h for the contract). */
#include "csv_internal.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* parse_record's two repeated steps. A field of `len` bytes at `start` (`esc`: it holds "" pairs to unescape): */
#define PUSH_FIELD(start, len, esc) \
    do {                            \
        fields[2 * nf] = (start);   \
        fields[2 * nf + 1] = (len); \
        escaped[nf] = (uint8_t)(esc); \
        nf++;                       \
    } while (0)
/* The record ends before byte `at`, `lines` newlines after its start: hand back its fields. */
#define RECORD_ENDS(at, lines) \
    do {                       \
        *n_out = nf;           \
        *rec_end = (at);       \
        *newlines = (lines);   \
        return LIO_ROW;        \
    } while (0)

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
            if (st) return csv_fail(c, st, c->line + nl, nf + 1);
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
                    if (c->eof) return csv_fail(c, LIO_ERR_UNTERMINATED, c->line, nf + 1);
                    return NEED_MORE;
                }
                if (qi + 1 >= end && !c->eof) return NEED_MORE;
                if (qi + 1 < end && b[qi + 1] == '"') {
                    esc = 1;
                    pos = qi + 2;
                    continue;
                }
                PUSH_FIELD(cs, qi - cs, esc);
                pos = qi + 1;
                break;
            }
            if (pos >= end) RECORD_ENDS(pos, nl);  /* eof right after the closing quote */
            uint8_t ch = b[pos];
            if (ch == delim) {
                pos++;
                continue;
            }
            if (ch == '\n') RECORD_ENDS(pos + 1, nl + 1);
            if (ch == '\r') {
                if (pos + 1 >= end && !c->eof) return NEED_MORE;
                if (pos + 1 >= end) RECORD_ENDS(pos + 1, nl);
                if (b[pos + 1] == '\n') RECORD_ENDS(pos + 2, nl + 1);
            }
            return csv_fail(c, LIO_ERR_QUOTE, c->line + nl, nf);
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
            PUSH_FIELD(fs, fl, 0);
            RECORD_ENDS(pos, nl);
        }
        if (b[pos] == delim) {
            PUSH_FIELD(fs, pos - fs, 0);
            pos++;
            continue;
        }
        /* newline */
        int64_t fl = pos - fs;
        if (fl > 0 && b[pos - 1] == '\r') fl--;
        PUSH_FIELD(fs, fl, 0);
        RECORD_ENDS(pos + 1, nl + 1);
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
            int32_t st = csv_refill(c);
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
            int32_t st = csv_refill(c);
            if (st) return st;
            continue;
        }
        int32_t nf = 0;
        int64_t rec_end = 0, nl = 0;
        int32_t st = parse_record(c, &nf, &rec_end, &nl);
        if (st == NEED_MORE) {
            st = csv_refill(c);
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

