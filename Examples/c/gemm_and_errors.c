/* A C host of libleader: checks the ABI version, multiplies two matrices through the library, and shows
 * that bad arguments come back as a status plus a message instead of a crash.
 * Build: cc -std=c11 -Wall -Wextra -Werror -Iinclude gemm_and_errors.c -L<dir> -lleader -Wl,-rpath,<dir> */
#include <leader.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

int main(void) {
    if (leader_abi_version() != LEADER_ABI_VERSION) {
        fprintf(stderr, "libleader ABI %d, header ABI %d\n", (int)leader_abi_version(), LEADER_ABI_VERSION);
        return 1;
    }
    printf("libleader %s\n%s\n", leader_version_string(), leader_build_info());

    /* C(2x2) = A(2x3) * B(3x2) */
    const float a[6] = {1, 2, 3, 4, 5, 6};
    const float b[6] = {7, 8, 9, 10, 11, 12};
    float c[4] = {0};
    leader_status st = leader_sgemm(2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2, 1);
    check(st == LEADER_OK, "sgemm status");
    check(c[0] == 58 && c[1] == 64 && c[2] == 139 && c[3] == 154, "sgemm values");
    check(strcmp(leader_last_error(), "") == 0, "no error after success");

    /* Bad arguments: each gives a status and a message, never a crash. */
    st = leader_sgemm(2, 2, -1, 1.0f, a, 3, b, 2, 0.0f, c, 2, 1);
    check(st == LEADER_ERR_INVALID_ARGUMENT, "negative k");
    check(strstr(leader_last_error(), "negative") != NULL, "message names the problem");
    printf("negative k -> %s: %s\n", leader_status_string(st), leader_last_error());
    st = leader_sgemm(2, 2, 3, 1.0f, NULL, 3, b, 2, 0.0f, c, 2, 1);
    check(st == LEADER_ERR_INVALID_ARGUMENT, "NULL a");
    st = leader_sgemm(INT64_MAX / 2, 4, 3, 1.0f, a, 3, b, 4, 0.0f, c, 4, 1);
    check(st == LEADER_ERR_OVERFLOW, "overflowing m*ldc");
    st = leader_sgemm(2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2, -3);
    check(st == LEADER_ERR_INVALID_ARGUMENT, "negative thread count");
    check(strcmp(leader_status_string(12345), "unknown status") == 0, "unknown status string");

    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all C host checks passed\n");
    return 0;
}
