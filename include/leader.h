/* leader.h — public C ABI of libleader (LEADER medication recommendation).
 *
 * This file is the specification: anything not declared here is not API.
 *
 * Usage — the main job: load a student checkpoint once, open a session per thread, recommend, free:
 *
 *     #include <leader.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         if (leader_abi_version() != LEADER_ABI_VERSION) return 1;     // header and library disagree
 *         leader_model *model = NULL;
 *         leader_session *session = NULL;
 *         if (leader_model_load("student.safetensors", &model) != LEADER_OK ||
 *             leader_session_create(model, "{\"precision\": \"auto\"}", &session) != LEADER_OK) {
 *             fprintf(stderr, "leader: %s\n", leader_last_error());   // every failure has a message
 *             leader_model_free(model);
 *             return 1;
 *         }
 *         // one patient: an earlier visit and the current one (whose medications are what we ask for)
 *         const char *diagnoses[] = {"4019", "25000", "4019", "5849"};
 *         const int64_t diagnosis_offsets[] = {0, 2, 4};                 // visit v: [offsets[v], offsets[v+1])
 *         const char *procedures[] = {"3893"};
 *         const int64_t procedure_offsets[] = {0, 0, 1};
 *         const char *medications[] = {"C09A", "A10B"};                  // the earlier visit's
 *         const int64_t medication_offsets[] = {0, 2, 2};
 *         const char *keys[] = {"gender"}, *values[] = {"F"};
 *         int32_t ids[16]; float scores[16]; const char *codes[16]; int64_t n = 0, unknown[8], n_unknown = 0;
 *         if (leader_session_recommend(session, 2, diagnosis_offsets, diagnoses, procedure_offsets, procedures,
 *                                      medication_offsets, medications, 1, keys, values,
 *                                      10, LEADER_THRESHOLD_DEFAULT,                 // at most 10, score >= threshold
 *                                      ids, scores, codes, 16, &n, unknown, 8, &n_unknown) == LEADER_OK)
 *             for (int64_t i = 0; i < n; i++) printf("%s %.3f\n", codes[i], scores[i]);
 *         leader_session_free(session);   // any order: a session keeps its model alive
 *         leader_model_free(model);
 *         return 0;
 *     }
 *
 * Threading: functions without a handle are thread-safe. A leader_model is immutable after load and may be
 * shared by any number of threads; a leader_session or leader_trainer must not be used by two threads at
 * once (give each thread its own session: they are cheap). Every OpenMP region takes its thread count from
 * the API; the library never reads or sets OMP_NUM_THREADS.
 *
 * Errors: every fallible function returns a leader_status; the message of the last failure on the calling
 * thread is available from leader_last_error(). Messages name files, fields and positions, never patient data
 * (no code strings of a patient).
 *
 * Ownership words used below: "new X, release with leader_X_free" (caller owns it); "borrowed: valid
 * until ..." (library owns it); "read only during the call" (inputs are never retained).
 */
#ifndef LEADER_H
#define LEADER_H

#include <stddef.h>
#include <stdint.h>

/* Bumped on every incompatible change; additions keep the number (docs/abi.md). */
#define LEADER_ABI_VERSION 2

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Opaque types -------------------------------------------------------------------------------------- */

typedef struct leader_model leader_model;       /* a student checkpoint ready to serve; immutable, shared */
typedef struct leader_session leader_session;   /* per-thread serving state of one model */
typedef struct leader_trainer leader_trainer;   /* one training / preparation / evaluation job */

/* ---- Status codes (explicit numbers, never reused) ------------------------------------------------ */
typedef int32_t leader_status;
enum {
    LEADER_OK = 0,
    LEADER_ERR_INVALID_ARGUMENT = 1,  /* NULL pointer, negative size, value out of range, malformed JSON */
    LEADER_ERR_IO = 2,                /* a file could not be opened, read or written */
    LEADER_ERR_BAD_FILE = 3,          /* a file's bytes are malformed (checkpoint, dataset, model) */
    LEADER_ERR_INCOMPATIBLE = 4,      /* a well-formed file of a version or kind this build cannot use */
    LEADER_ERR_OUT_OF_MEMORY = 5,
    LEADER_ERR_BUFFER_TOO_SMALL = 6,  /* *out_n holds the needed count; nothing else was written */
    LEADER_ERR_CANCELLED = 7,         /* a progress callback returned nonzero */
    LEADER_ERR_OVERFLOW = 8,          /* a size computation would overflow */
    LEADER_ERR_INTERNAL = 100
};

/* Code kinds: the vocabularies of a model. */
enum {
    LEADER_KIND_DIAGNOSIS = 0,
    LEADER_KIND_PROCEDURE = 1,
    LEADER_KIND_MEDICATION = 2
};

/* The `threshold` argument's "use the checkpoint's configured threshold". */
#define LEADER_THRESHOLD_DEFAULT (-1.0f)

/* ---- Library info ----------------------------------------------------------------------------------- */

/* The ABI version the library was built with; compare with LEADER_ABI_VERSION. Never fails. */
int32_t leader_abi_version(void);

/* Library version, e.g. "0.1.0". Borrowed: static storage, never NULL. */
const char *leader_version_string(void);

/* Build details as a JSON object: version, ABI, active kernel ISA (avx512|avx2|generic), OpenMP, the bf16
 * path (amx|avx512-bf16|portable). Borrowed: static storage, never NULL. */
const char *leader_build_info(void);

/* A fixed English name for a status code ("ok", "invalid argument", ...; "unknown status" otherwise).
 * Borrowed: static storage, never NULL. */
const char *leader_status_string(leader_status status);

/* Message of the most recent failed call on THIS thread; "" after a successful call.
 * Borrowed: valid until the next leader_ call on this thread. Never NULL. */
const char *leader_last_error(void);

/* How long (milliseconds) the OpenMP worker threads of the library spin after a parallel region before they
 * sleep, for every thread that calls the library from now on (libomp's KMP_BLOCKTIME; its default is 200 ms,
 * which costs a host that shares its cores most of a core after each call). 0 = sleep at once (less CPU,
 * higher latency of small multi-threaded calls); -1 = libomp's default. Returns LEADER_ERR_INVALID_ARGUMENT
 * outside -1..60000. */
leader_status leader_set_openmp_blocktime(int32_t milliseconds);

/* ---- Model ------------------------------------------------------------------------------------------- */

/* Loads a student checkpoint (safetensors, docs/checkpoint-format.md) and prepares it for serving: one packed
 * copy of the weights, vocabulary indexes. Every tensor's name, dtype, shape and values are validated against
 * the checkpoint's config before anything is used.
 * out: new model, release with leader_model_free; NULL on failure.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL), LEADER_ERR_IO, LEADER_ERR_BAD_FILE, LEADER_ERR_INCOMPATIBLE
 * (another format version or kind), LEADER_ERR_OUT_OF_MEMORY, LEADER_ERR_OVERFLOW. */
leader_status leader_model_load(const char *path, leader_model **out_model);

/* Releases the caller's reference; the model lives on while sessions created from it are alive. NULL: no-op. */
void leader_model_free(leader_model *model);

/* The model as a JSON object: "config" (the student config), "vocabularies" ({"medications"|"diagnoses"|
 * "procedures": {"keys": [...], "titles": [...]}}, index = id), "profile" ({"fields": [{"name", "values"}]},
 * label = index in values, 0 = unknown), "thresholds", "metrics" (recorded at training: epochs, best epoch,
 * best validation PRAUC, best-Jaccard threshold), "provenance" (library version, data fingerprint, source).
 * out_json: borrowed: valid until the model's last reference is released.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL). */
leader_status leader_model_info_json(const leader_model *model, const char **out_json);

/* The vocabulary size of `kind` (LEADER_KIND_*) in *out_n.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, unknown kind). */
leader_status leader_model_vocabulary_size(const leader_model *model, int32_t kind, int64_t *out_n);

/* The code and title of id `id` of vocabulary `kind`. out_code, out_title (either may be NULL): borrowed:
 * valid until the model's last reference is released.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL model, unknown kind, id out of range). */
leader_status leader_model_code(const leader_model *model, int32_t kind, int32_t id, const char **out_code,
                                const char **out_title);

/* The id of `code` in vocabulary `kind` in *out_id, or -1 when the vocabulary does not hold it (not an error).
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, unknown kind). */
leader_status leader_model_code_id(const leader_model *model, int32_t kind, const char *code, int32_t *out_id);

/* ---- Session (serving) --------------------------------------------------------------------------------------
 *
 * A patient is given as CSR arrays over its visits, oldest first; the last visit is the current one:
 *   diagnoses[diagnosis_offsets[v] .. diagnosis_offsets[v+1]) are visit v's diagnosis codes (v < n_visits),
 *   the same for procedures and medications; offsets hold n_visits + 1 non-decreasing values from 0.
 *   The current visit's medications are what is predicted: any given there are ignored. medication_offsets
 *   and medications may be NULL (no medication history). Visits before the session's history window are
 *   ignored. Codes repeated within a set count once.
 *   The profile is n_profile key/value pairs (e.g. "gender" = "F"); the checkpoint's fields are listed by
 *   leader_model_info_json. A missing field is "unknown".
 * Codes the model does not know are skipped and reported by POSITION: position p numbers the patient's input
 * strings in one sequence: diagnoses (all visits) first, then procedures, then medications, then the profile
 * pairs: p < nd is diagnoses[p]; nd <= p < nd+np is procedures[p-nd]; then medications[p-nd-np]; then
 * profile pair p-nd-np-nm (an unknown key, or a value the field does not know, which counts as unknown),
 * where nd = diagnosis_offsets[n_visits], np and nm likewise.
 * Limits: one offsets entry spans at most 1,000,000 codes (visits, pairs); a batch holds at most 10^8
 * patients; larger values are LEADER_ERR_INVALID_ARGUMENT before anything is allocated.
 * Scores are sigmoid probabilities in [0, 1]. All inputs are read only during the call. */

/* A serving state for one thread. options_json (NULL or "" = defaults), unknown keys are errors:
 *   "threads": worker threads of the batch calls (default 1; 0 = all online CPUs);
 *   "precision": "fp32" (default), "bf16" (bf16 operands, f32 sums; AMX tiles or AVX512-BF16 where the CPU has
 *                them) or "auto" (bf16 where the CPU has one of those fast bf16 paths, else fp32);
 *   "historyVisits": earlier visits used, the most recent ones (default: the checkpoint's maxVisits - 1);
 *   "ddiFilter": path of a DDI pair CSV (atc3_a,atc3_b): recommendations drop the lower-scored drug of every
 *                interacting pair (scores are unchanged).
 * out: new session, release with leader_session_free; it keeps `model` alive.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, bad JSON or value), LEADER_ERR_IO / LEADER_ERR_BAD_FILE (the DDI
 * file), LEADER_ERR_OUT_OF_MEMORY. */
leader_status leader_session_create(const leader_model *model, const char *options_json,
                                    leader_session **out_session);

/* Releases the session (and its reference to the model). NULL: no-op. */
void leader_session_free(leader_session *session);

/* The medications to give one patient: those with score >= threshold, best first, at most top_k of them
 * (top_k 0: no limit; threshold 0: plain top-k; LEADER_THRESHOLD_DEFAULT: the checkpoint's configured one).
 * out_ids (medication ids), out_scores and out_codes (borrowed: valid until the model's last reference is
 * released; may be NULL) receive up to `capacity` entries, *out_n the count.
 * out_unknown (may be NULL when unknown_capacity is 0) receives the positions of the first unknown_capacity
 * unknown codes, *out_n_unknown (may be NULL) their total count — not an error.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, bad offsets, n_visits < 1, top_k < 0, threshold > 1),
 * LEADER_ERR_BUFFER_TOO_SMALL (more results than capacity; *out_n = the count needed). */
leader_status leader_session_recommend(leader_session *session, int32_t n_visits,
                                       const int64_t *diagnosis_offsets, const char *const *diagnoses,
                                       const int64_t *procedure_offsets, const char *const *procedures,
                                       const int64_t *medication_offsets, const char *const *medications,
                                       int32_t n_profile, const char *const *profile_keys,
                                       const char *const *profile_values, int32_t top_k, float threshold,
                                       int32_t *out_ids, float *out_scores, const char **out_codes,
                                       int64_t capacity, int64_t *out_n, int64_t *out_unknown,
                                       int64_t unknown_capacity, int64_t *out_n_unknown);

/* The same from vocabulary ids (leader_model_code_id) instead of strings: codes are int32 ids of their
 * kind's vocabulary; profile_labels holds one label per profile field of the checkpoint, in its order
 * (n_profile must equal the field count, or be 0 for all unknown). Ids out of range are errors here.
 * Returns LEADER_ERR_INVALID_ARGUMENT (as above, or an id or label out of range), LEADER_ERR_BUFFER_TOO_SMALL. */
leader_status leader_session_recommend_ids(leader_session *session, int32_t n_visits,
                                           const int64_t *diagnosis_offsets, const int32_t *diagnoses,
                                           const int64_t *procedure_offsets, const int32_t *procedures,
                                           const int64_t *medication_offsets, const int32_t *medications,
                                           int32_t n_profile, const int32_t *profile_labels, int32_t top_k,
                                           float threshold, int32_t *out_ids, float *out_scores,
                                           const char **out_codes, int64_t capacity, int64_t *out_n);

/* Scores of every medication for n_patients patients in one call, spread over the session's threads; each
 * row is bitwise equal to scoring that patient alone. Patient p's visits are visits
 * visit_offsets[p] .. visit_offsets[p+1] of the visit-level CSR arrays (which then span all patients'
 * visits: diagnosis_offsets has visit_offsets[n_patients] + 1 entries); its profile pairs are
 * profile_offsets[p] .. profile_offsets[p+1] of profile_keys / profile_values (profile_offsets may be NULL:
 * no profile). out_scores: n_patients x n_medications row-major (capacity = its float count).
 * *out_n_unknown (may be NULL): the number of unknown codes over all patients.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, bad offsets, a patient without visits),
 * LEADER_ERR_BUFFER_TOO_SMALL (capacity < n_patients x n_medications; *out_n_unknown untouched). */
leader_status leader_session_score_batch(leader_session *session, int64_t n_patients, const int64_t *visit_offsets,
                                         const int64_t *diagnosis_offsets, const char *const *diagnoses,
                                         const int64_t *procedure_offsets, const char *const *procedures,
                                         const int64_t *medication_offsets, const char *const *medications,
                                         const int64_t *profile_offsets, const char *const *profile_keys,
                                         const char *const *profile_values, float *out_scores, int64_t capacity,
                                         int64_t *out_n_unknown);

/* The same from ids: profile_labels is n_patients x n_fields (n_fields = the checkpoint's profile field count;
 * NULL: all unknown). */
leader_status leader_session_score_batch_ids(leader_session *session, int64_t n_patients,
                                             const int64_t *visit_offsets, const int64_t *diagnosis_offsets,
                                             const int32_t *diagnoses, const int64_t *procedure_offsets,
                                             const int32_t *procedures, const int64_t *medication_offsets,
                                             const int32_t *medications, const int32_t *profile_labels,
                                             float *out_scores, int64_t capacity);

/* Why one medication is recommended: the contribution of each known input code (and profile pair) to the
 * score of medication `medication_id`, by OCCLUSION: contribution = score(patient) - score(patient without
 * that code; a profile pair set to unknown), all computed in one batch. Positive = the code raises the
 * score. out_positions (numbered as for unknown codes above) and out_contributions receive up to `capacity`
 * entries sorted by contribution, largest first; *out_n the count (known codes only). *out_score (may be
 * NULL): the patient's score for the medication.
 * Returns LEADER_ERR_INVALID_ARGUMENT (as for recommend, or medication_id out of range),
 * LEADER_ERR_BUFFER_TOO_SMALL (*out_n = the count needed). */
leader_status leader_session_explain(leader_session *session, int32_t n_visits,
                                     const int64_t *diagnosis_offsets, const char *const *diagnoses,
                                     const int64_t *procedure_offsets, const char *const *procedures,
                                     const int64_t *medication_offsets, const char *const *medications,
                                     int32_t n_profile, const char *const *profile_keys,
                                     const char *const *profile_values, int32_t medication_id,
                                     float *out_score, int64_t *out_positions, float *out_contributions,
                                     int64_t capacity, int64_t *out_n);

/* ---- Training, preparation, evaluation ----------------------------------------------------------------------
 *
 * A trainer runs one job described by a JSON object (docs/trainer.md) whose "task" is one of:
 *   "prepare"        {"source": "mimic3"|"mimic4"|"omop"|"synthetic", "input", "maps", "out", "config",
 *                     "patients", "seed", "schema", "vocabularySchema"}  -> a prepared dataset (.ldata);
 *                     omop "input" may be a postgresql:// URI (libpq5 is loaded then)
 *   "student"        {"data", "out", "config", "teacherFeatures", "threads"}  -> a student checkpoint
 *   "evaluate"       {"data", "checkpoint" | "baseline" | "scores", "ddi", "threshold", "threads", "seed", "precision"}
 *   "teacher-train"  {"data", "model", "out", "config", "threads", "precision"}   -> LoRA + head checkpoint
 *   "teacher-export" {"data", "model", "teacher", "out", "split", "threads", "precision"} -> teacher features
 *   "pipeline"       {"out", "source"|"data", "teacher", "student", "seeds", ...} -> the whole method in one
 *                     folder: cohort, teacher, features, students, report.md / report.json (docs/pipeline.md)
 * Files are written atomically: a failed or cancelled job leaves no partial output behind. */

/* Progress of a running job: event_json is one JSON object ({"task", "stage", "done", "total", ...}; read only
 * during the call). Runs on the thread that called leader_trainer_run, never on a worker. Return 0 to go on,
 * nonzero to cancel (leader_trainer_run then returns LEADER_ERR_CANCELLED). */
typedef int32_t (*leader_progress_fn)(const char *event_json, void *user_data);

/* A job from its JSON description, validated now (unknown keys and tasks are errors; files are opened by run).
 * out: new trainer, release with leader_trainer_free.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, bad JSON, unknown task or key, bad value). */
leader_status leader_trainer_create(const char *config_json, leader_trainer **out_trainer);

/* Runs the job on the calling thread (its kernels use the job's "threads"). progress may be NULL; user_data
 * is passed to it unchanged. A trainer can be run again (the job starts over).
 * Returns LEADER_ERR_INVALID_ARGUMENT, LEADER_ERR_IO, LEADER_ERR_BAD_FILE, LEADER_ERR_INCOMPATIBLE,
 * LEADER_ERR_OUT_OF_MEMORY, LEADER_ERR_CANCELLED, LEADER_ERR_OVERFLOW. */
leader_status leader_trainer_run(leader_trainer *trainer, leader_progress_fn progress, void *user_data);

/* The result of the last successful run as a JSON object (what the job wrote and measured).
 * out_json: borrowed: valid until the next leader_trainer_run or leader_trainer_free of this trainer.
 * Returns LEADER_ERR_INVALID_ARGUMENT (NULL, or no successful run yet). */
leader_status leader_trainer_result_json(const leader_trainer *trainer, const char **out_json);

/* Releases the trainer. NULL: no-op. */
void leader_trainer_free(leader_trainer *trainer);

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
