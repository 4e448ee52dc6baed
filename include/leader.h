/* leader.h — public C ABI of libleader (LEADER medication recommendation).
 *
 * This file is the specification: anything not declared here is not API.
 *
 * Usage:
 *
 *     #include <leader.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         if (leader_abi_version() != LEADER_ABI_VERSION) {
 *             fprintf(stderr, "libleader ABI %d, header ABI %d\n",
 *                     (int)leader_abi_version(), LEADER_ABI_VERSION);
 *             return 1;
 *         }
 *         printf("libleader %s\n", leader_version_string());
 *         float a = 1, b = 2, c = 0;
 *         if (leader_sgemm(1, 1, -1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1, 0) != LEADER_OK)   // k < 0
 *             fprintf(stderr, "error: %s\n", leader_last_error());             // every failure has a message
 *         return 0;
 *     }
 *
 * Threading: functions without a handle are thread-safe. A leader_model is immutable after load and may be
 * shared by any number of threads; a leader_session or leader_trainer must not be used by two threads at
 * once. Every OpenMP region takes its thread count from the API; the library never reads or sets
 * OMP_NUM_THREADS.
 *
 * Errors: every fallible function returns a leader_status; the message of the last failure on the calling
 * thread is available from leader_last_error(). Messages never contain patient data.
 *
 * Ownership words used below: "new X, release with leader_X_free" (caller owns it); "borrowed: valid
 * until ..." (library owns it); "read only during the call" (inputs are never retained).
 */
#ifndef LEADER_H
#define LEADER_H

#include <stddef.h>
#include <stdint.h>

/* Bumped on every incompatible change; additions keep the number (docs/abi.md). */
#define LEADER_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes (explicit numbers, never reused) ------------------------------------------------ */
typedef int32_t leader_status;
enum {
    LEADER_OK = 0,
    LEADER_ERR_INVALID_ARGUMENT = 1,  /* NULL pointer, negative size, value out of range */
    LEADER_ERR_IO = 2,                /* a file could not be opened, read or written */
    LEADER_ERR_BAD_FILE = 3,          /* a file's bytes are malformed (checkpoint, dataset, model) */
    LEADER_ERR_INCOMPATIBLE = 4,      /* a well-formed file of a version or kind this build cannot use */
    LEADER_ERR_OUT_OF_MEMORY = 5,
    LEADER_ERR_BUFFER_TOO_SMALL = 6,  /* *out_n holds the needed count */
    LEADER_ERR_CANCELLED = 7,         /* a progress callback returned nonzero */
    LEADER_ERR_OVERFLOW = 8,          /* a size computation would overflow */
    LEADER_ERR_INTERNAL = 100
};

/* ---- Library info ----------------------------------------------------------------------------------- */

/* The ABI version the library was built with; compare with LEADER_ABI_VERSION. Never fails. */
int32_t leader_abi_version(void);

/* Library version, e.g. "0.1.0". Borrowed: static storage, never NULL. */
const char *leader_version_string(void);

/* Build details as a JSON object: version, ABI, active kernel ISA (avx512|avx2|generic), OpenMP.
 * Borrowed: static storage, never NULL. */
const char *leader_build_info(void);

/* A fixed English name for a status code ("ok", "invalid argument", ...; "unknown status" otherwise).
 * Borrowed: static storage, never NULL. */
const char *leader_status_string(leader_status status);

/* Message of the most recent failed call on THIS thread; "" after a successful call.
 * Borrowed: valid until the next leader_ call on this thread. Never NULL. */
const char *leader_last_error(void);

/* ---- Kernels (for hosts that want the library's math directly) ------------------------------------- */

/* C[m,n] = alpha * A[m,k] * B[k,n] + beta * C[m,n], row-major with leading dimensions lda, ldb, ldc
 * (lda >= k, ldb >= n, ldc >= n). A and B: read only during the call. n_threads: 1..1024, or 0 for the
 * number of online CPUs. Returns LEADER_ERR_INVALID_ARGUMENT (NULL pointer, negative size, bad leading dimension,
 * bad thread count) or LEADER_ERR_OVERFLOW (a matrix's element count does not fit in int64_t). */
leader_status leader_sgemm(int64_t m, int64_t n, int64_t k, float alpha,
                           const float *a, int64_t lda, const float *b, int64_t ldb,
                           float beta, float *c, int64_t ldc, int32_t n_threads);

#ifdef __cplusplus
}
#endif

#endif /* LEADER_H */
