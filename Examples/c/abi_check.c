/* ABI freeze check for LEADER_ABI_VERSION 2: every function of leader.h, its address taken into a pointer whose
 * type is written out here independently of the header. Compiling (-Werror: an incompatible pointer type is an
 * error) proves that no signature changed without an ABI bump; linking proves that the library exports every
 * function; running calls leader_abi_version through its pointer. tools/run_host_tests.sh also checks that this
 * list names exactly the header's functions. When LEADER_ABI_VERSION is bumped, update this file with it.
 * Build: cc -std=c11 -Wall -Wextra -Werror -pedantic-errors -Iinclude abi_check.c -L<dir> -lleader -Wl,-rpath,<dir> */
#include <leader.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

_Static_assert(LEADER_ABI_VERSION == 2, "leader.h changed its ABI version: update abi_check.c");
_Static_assert(sizeof(leader_status) == 4, "leader_status is int32_t");
_Static_assert(LEADER_OK == 0 && LEADER_ERR_INVALID_ARGUMENT == 1 && LEADER_ERR_IO == 2 && LEADER_ERR_BAD_FILE == 3 &&
                   LEADER_ERR_INCOMPATIBLE == 4 && LEADER_ERR_OUT_OF_MEMORY == 5 &&
                   LEADER_ERR_BUFFER_TOO_SMALL == 6 && LEADER_ERR_CANCELLED == 7 && LEADER_ERR_OVERFLOW == 8 &&
                   LEADER_ERR_INTERNAL == 100,
               "status numbers are never changed");
_Static_assert(LEADER_KIND_DIAGNOSIS == 0 && LEADER_KIND_PROCEDURE == 1 && LEADER_KIND_MEDICATION == 2,
               "kind numbers are never changed");

typedef struct leader_model M;
typedef struct leader_session S;
typedef struct leader_trainer T;
typedef const char *const *strs;

#define F(name) {#name, (void (*)(void))(name##_p)}
static int32_t (*const leader_abi_version_p)(void) = leader_abi_version;
static const char *(*const leader_version_string_p)(void) = leader_version_string;
static const char *(*const leader_build_info_p)(void) = leader_build_info;
static const char *(*const leader_status_string_p)(int32_t) = leader_status_string;
static const char *(*const leader_last_error_p)(void) = leader_last_error;
static int32_t (*const leader_set_openmp_blocktime_p)(int32_t) = leader_set_openmp_blocktime;
static int32_t (*const leader_model_load_p)(const char *, M **) = leader_model_load;
static void (*const leader_model_free_p)(M *) = leader_model_free;
static int32_t (*const leader_model_info_json_p)(const M *, const char **) = leader_model_info_json;
static int32_t (*const leader_model_vocabulary_size_p)(const M *, int32_t, int64_t *) = leader_model_vocabulary_size;
static int32_t (*const leader_model_code_p)(const M *, int32_t, int32_t, const char **, const char **) =
    leader_model_code;
static int32_t (*const leader_model_code_id_p)(const M *, int32_t, const char *, int32_t *) = leader_model_code_id;
static int32_t (*const leader_session_create_p)(const M *, const char *, S **) = leader_session_create;
static void (*const leader_session_free_p)(S *) = leader_session_free;
static int32_t (*const leader_session_recommend_p)(S *, int32_t, const int64_t *, strs, const int64_t *, strs,
                                                   const int64_t *, strs, int32_t, strs, strs, int32_t, float,
                                                   int32_t *, float *, const char **, int64_t, int64_t *, int64_t *,
                                                   int64_t, int64_t *) = leader_session_recommend;
static int32_t (*const leader_session_recommend_ids_p)(S *, int32_t, const int64_t *, const int32_t *,
                                                       const int64_t *, const int32_t *, const int64_t *,
                                                       const int32_t *, int32_t, const int32_t *, int32_t, float,
                                                       int32_t *, float *, const char **, int64_t, int64_t *) =
    leader_session_recommend_ids;
static int32_t (*const leader_session_score_batch_p)(S *, int64_t, const int64_t *, const int64_t *, strs,
                                                     const int64_t *, strs, const int64_t *, strs, const int64_t *,
                                                     strs, strs, float *, int64_t, int64_t *) =
    leader_session_score_batch;
static int32_t (*const leader_session_score_batch_ids_p)(S *, int64_t, const int64_t *, const int64_t *,
                                                         const int32_t *, const int64_t *, const int32_t *,
                                                         const int64_t *, const int32_t *, const int32_t *, float *,
                                                         int64_t) = leader_session_score_batch_ids;
static int32_t (*const leader_session_explain_p)(S *, int32_t, const int64_t *, strs, const int64_t *, strs,
                                                 const int64_t *, strs, int32_t, strs, strs, int32_t, float *,
                                                 int64_t *, float *, int64_t, int64_t *) = leader_session_explain;
static int32_t (*const leader_trainer_create_p)(const char *, T **) = leader_trainer_create;
static int32_t (*const leader_trainer_run_p)(T *, int32_t (*)(const char *, void *), void *) = leader_trainer_run;
static int32_t (*const leader_trainer_result_json_p)(const T *, const char **) = leader_trainer_result_json;
static void (*const leader_trainer_free_p)(T *) = leader_trainer_free;
static int32_t (*const leader_sgemm_p)(int64_t, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t,
                                       float, float *, int64_t, int32_t) = leader_sgemm;

static const struct {
    const char *name;
    void (*fn)(void);
} functions[] = {
    F(leader_abi_version),
    F(leader_version_string),
    F(leader_build_info),
    F(leader_status_string),
    F(leader_last_error),
    F(leader_set_openmp_blocktime),
    F(leader_model_load),
    F(leader_model_free),
    F(leader_model_info_json),
    F(leader_model_vocabulary_size),
    F(leader_model_code),
    F(leader_model_code_id),
    F(leader_session_create),
    F(leader_session_free),
    F(leader_session_recommend),
    F(leader_session_recommend_ids),
    F(leader_session_score_batch),
    F(leader_session_score_batch_ids),
    F(leader_session_explain),
    F(leader_trainer_create),
    F(leader_trainer_run),
    F(leader_trainer_result_json),
    F(leader_trainer_free),
    F(leader_sgemm),
};

int main(void) {
    int missing = 0;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        if (!functions[i].fn) {
            fprintf(stderr, "FAIL: %s has no address\n", functions[i].name);
            missing++;
        }
    if (leader_abi_version_p() != LEADER_ABI_VERSION) {
        fprintf(stderr, "FAIL: library ABI %d, header ABI %d\n", (int)leader_abi_version_p(), LEADER_ABI_VERSION);
        return 1;
    }
    printf("%zu functions of ABI %d: typed as in this file, all exported\n", sizeof functions / sizeof functions[0],
           LEADER_ABI_VERSION);
    return missing != 0;
}
