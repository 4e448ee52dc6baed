/* A C host of libleader serving recommendations: loads a student checkpoint, opens a session, recommends
 * medications for one patient given as code strings, explains the top recommendation, and shows how a
 * too-small output buffer is handled. The patient's codes are taken from the model's own vocabularies at run
 * time (plus one code no model knows), so the example works with any checkpoint.
 * Usage: recommend CHECKPOINT            (exit status 0 when every call behaved as leader.h says)
 * Build: cc -std=c11 -Wall -Wextra -Werror -Iinclude recommend.c -L<dir> -lleader -lm -Wl,-rpath,<dir> */
#include <leader.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

/* A call that must succeed: prints the status and the thread's last error otherwise. */
static int ok(leader_status st, const char *what) {
    if (st == LEADER_OK) return 1;
    fprintf(stderr, "FAIL: %s -> %s: %s\n", what, leader_status_string(st), leader_last_error());
    failures++;
    return 0;
}

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static const char *const kind_names[3] = {"diagnosis", "procedure", "medication"};

/* The patient, as the CSR arrays leader_session_recommend takes (visit 0 = earlier, visit 1 = current). */
enum { MAX_CODES = 8 };
typedef struct {
    const char *diagnoses[MAX_CODES], *procedures[MAX_CODES], *medications[MAX_CODES];
    int64_t diagnosis_offsets[3], procedure_offsets[3], medication_offsets[3];
    const char *keys[1], *values[1];
    int32_t n_profile;
} patient;

static int64_t n_inputs(const patient *p) {
    return p->diagnosis_offsets[2] + p->procedure_offsets[2] + p->medication_offsets[2] + p->n_profile;
}

/* Describes input position `pos` (numbered as in leader.h: diagnoses, procedures, medications, profile). */
static void describe(const leader_model *model, const patient *p, int64_t pos, char *out, size_t size) {
    const int64_t nd = p->diagnosis_offsets[2], np = p->procedure_offsets[2], nm = p->medication_offsets[2];
    int32_t kind;
    const char *code;
    if (pos < nd) kind = LEADER_KIND_DIAGNOSIS, code = p->diagnoses[pos];
    else if (pos < nd + np) kind = LEADER_KIND_PROCEDURE, code = p->procedures[pos - nd];
    else if (pos < nd + np + nm) kind = LEADER_KIND_MEDICATION, code = p->medications[pos - nd - np];
    else if (pos < n_inputs(p)) {
        snprintf(out, size, "profile    %s=%s", p->keys[pos - nd - np - nm], p->values[pos - nd - np - nm]);
        return;
    } else {
        snprintf(out, size, "position %lld out of range", (long long)pos);
        return;
    }
    int32_t id = -1;
    const char *title = NULL;
    if (leader_model_code_id(model, kind, code, &id) == LEADER_OK && id >= 0)
        (void)leader_model_code(model, kind, id, NULL, &title);
    snprintf(out, size, "%-10s %s (%s)", kind_names[kind], code, title ? title : "unknown code");
}

/* The code of the i-th pick from vocabulary `kind`, spread over the vocabulary; NULL when it is empty. */
static const char *pick(const leader_model *model, int32_t kind, int64_t size, int64_t i) {
    if (size <= 0) return NULL;
    const char *code = NULL;
    if (!ok(leader_model_code(model, kind, (int32_t)((i * 37 + 1) % size), &code, NULL), "leader_model_code"))
        return NULL;
    return code;
}

static leader_status recommend(leader_session *s, const patient *p, int32_t top_k, float threshold, int32_t *ids,
                               float *scores, const char **codes, int64_t capacity, int64_t *n, int64_t *unknown,
                               int64_t unknown_capacity, int64_t *n_unknown) {
    return leader_session_recommend(s, 2, p->diagnosis_offsets, p->diagnoses, p->procedure_offsets, p->procedures,
                                    p->medication_offsets, p->medications, p->n_profile, p->keys, p->values, top_k,
                                    threshold, ids, scores, codes, capacity, n, unknown, unknown_capacity, n_unknown);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CHECKPOINT\n", argv[0]);
        return 2;
    }
    if (leader_abi_version() != LEADER_ABI_VERSION) {
        fprintf(stderr, "libleader ABI %d, header ABI %d\n", (int)leader_abi_version(), LEADER_ABI_VERSION);
        return 1;
    }
    printf("libleader %s\n", leader_version_string());

    /* Errors come back as a status and a message; the out-pointer is NULL. */
    leader_model *model = (leader_model *)&failures;  /* any non-NULL value: a failed load must reset it */
    leader_status st = leader_model_load("/nonexistent/student.safetensors", &model);
    check(st == LEADER_ERR_IO && model == NULL, "missing checkpoint: LEADER_ERR_IO and NULL model");
    check(leader_last_error()[0] != '\0', "missing checkpoint: a message");
    printf("missing checkpoint -> %s: %s\n", leader_status_string(st), leader_last_error());

    if (!ok(leader_model_load(argv[1], &model), "leader_model_load")) return 1;
    leader_session *session = NULL;
    st = leader_session_create(model, "{\"no such option\": 1}", &session);
    check(st == LEADER_ERR_INVALID_ARGUMENT && session == NULL, "unknown session option: LEADER_ERR_INVALID_ARGUMENT");
    if (!ok(leader_session_create(model, "{\"threads\": 1, \"precision\": \"fp32\"}", &session),
            "leader_session_create")) {
        leader_model_free(model);
        return 1;
    }

    int64_t vocab[3] = {0, 0, 0};
    for (int32_t k = 0; k < 3; k++) ok(leader_model_vocabulary_size(model, k, &vocab[k]), "vocabulary size");
    printf("vocabularies: %lld diagnoses, %lld procedures, %lld medications\n", (long long)vocab[0],
           (long long)vocab[1], (long long)vocab[2]);
    if (vocab[LEADER_KIND_MEDICATION] < 1) {
        fprintf(stderr, "FAIL: the checkpoint has no medications\n");
        return 1;
    }

    /* The patient: an earlier visit (3 diagnoses, 1 procedure, 2 medications) and the current one (2 known
     * diagnoses plus one unknown code, 1 procedure). Picks from a small vocabulary may repeat; a repeat within a
     * set counts once, so keep each set free of repeats. */
    static const char unknown_code[] = "LEADER-EXAMPLE-NOT-A-CODE";
    int32_t unknown_id = 0;
    ok(leader_model_code_id(model, LEADER_KIND_DIAGNOSIS, unknown_code, &unknown_id), "leader_model_code_id");
    check(unknown_id == -1, "an unknown code has id -1");

    patient p;
    memset(&p, 0, sizeof p);
    int64_t next[3] = {0, 0, 0};
    const int per_visit[2][3] = {{3, 1, 2}, {2, 1, 0}};
    const char **lists[3] = {p.diagnoses, p.procedures, p.medications};
    int64_t *offsets[3] = {p.diagnosis_offsets, p.procedure_offsets, p.medication_offsets};
    int64_t unknown_position = -1;
    for (int v = 0; v < 2; v++) {
        for (int k = 0; k < 3; k++) {
            int64_t at = offsets[k][v], start = at;
            for (int j = 0; j < per_visit[v][k]; j++) {
                const char *c = pick(model, k, vocab[k], next[k]++);
                int repeat = 0;
                for (int64_t q = start; c && q < at; q++) repeat |= strcmp(lists[k][q], c) == 0;
                if (c && !repeat) lists[k][at++] = c;
            }
            if (k == LEADER_KIND_DIAGNOSIS && v == 1) {
                unknown_position = at;  /* diagnoses come first in the position numbering */
                lists[k][at++] = unknown_code;
            }
            offsets[k][v + 1] = at;
        }
    }
    p.keys[0] = "gender";
    p.values[0] = "F";
    p.n_profile = 1;

    /* 1. The recommendation: at most 10, score >= the checkpoint's threshold. */
    int32_t ids[10];
    float scores[10];
    const char *codes[10];
    int64_t n = 0, unknown[8], n_unknown = 0;
    if (!ok(recommend(session, &p, 10, LEADER_THRESHOLD_DEFAULT, ids, scores, codes, 10, &n, unknown, 8, &n_unknown),
            "leader_session_recommend"))
        return 1;
    int32_t top_k = 10;
    float threshold = LEADER_THRESHOLD_DEFAULT;
    if (n == 0) {  /* nothing reaches the threshold (a barely trained checkpoint): show the best 5 instead */
        printf("no medication reaches the checkpoint's threshold; the best 5:\n");
        top_k = 5;
        threshold = 0.0f;
        if (!ok(recommend(session, &p, top_k, threshold, ids, scores, codes, 10, &n, unknown, 8, &n_unknown),
                "leader_session_recommend (top 5)"))
            return 1;
    }
    if (n < 1 || n > top_k) {
        fprintf(stderr, "FAIL: %lld results for top_k %d\n", (long long)n, (int)top_k);
        return 1;
    }
    printf("recommended (%lld):\n", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const char *code = NULL, *title = NULL;
        ok(leader_model_code(model, LEADER_KIND_MEDICATION, ids[i], &code, &title), "leader_model_code");
        printf("  %-8s %.4f  %s\n", codes[i], scores[i], title ? title : "");
        check(code != NULL && codes[i] != NULL && strcmp(code, codes[i]) == 0, "out_codes match leader_model_code");
        check(scores[i] >= 0.0f && scores[i] <= 1.0f, "score is a probability");
        check(i == 0 || scores[i] <= scores[i - 1], "best first");
    }
    printf("unknown inputs (%lld):", (long long)n_unknown);
    int found = 0;
    for (int64_t i = 0; i < n_unknown && i < 8; i++) {
        char what[256];
        describe(model, &p, unknown[i], what, sizeof what);
        printf(" [%lld: %s]", (long long)unknown[i], what);
        found |= unknown[i] == unknown_position;
    }
    printf("\n");
    check(found, "the unknown diagnosis is reported by its position");

    /* 2. A buffer too small: capacity 1 for every medication -> LEADER_ERR_BUFFER_TOO_SMALL with the needed count
     *    in *out_n and nothing else written; then the retry with a buffer of that size. */
    int32_t one_id = -7;
    float one_score = -7.0f;
    const char *one_code = unknown_code;
    int64_t needed = 0;
    st = recommend(session, &p, 0, 0.0f, &one_id, &one_score, &one_code, 1, &needed, NULL, 0, NULL);
    if (vocab[LEADER_KIND_MEDICATION] > 1) {
        check(st == LEADER_ERR_BUFFER_TOO_SMALL, "capacity 1: LEADER_ERR_BUFFER_TOO_SMALL");
        check(needed == vocab[LEADER_KIND_MEDICATION], "capacity 1: *out_n = the needed count");
        check(one_id == -7 && one_score == -7.0f && one_code == unknown_code, "capacity 1: nothing else written");
        printf("capacity 1 -> %s (%s), %lld needed\n", leader_status_string(st), leader_last_error(),
               (long long)needed);
    } else {
        check(st == LEADER_OK && needed == 1, "one medication fits capacity 1");
    }
    if (needed < 1 || needed > 1000000) {
        fprintf(stderr, "FAIL: implausible needed count %lld\n", (long long)needed);
        return 1;
    }
    int32_t *all_ids = malloc((size_t)needed * sizeof *all_ids);
    float *all_scores = malloc((size_t)needed * sizeof *all_scores);
    if (!all_ids || !all_scores) return 1;
    int64_t n_all = 0;
    if (ok(recommend(session, &p, 0, 0.0f, all_ids, all_scores, NULL, needed, &n_all, NULL, 0, NULL),
           "retry with the needed capacity")) {
        check(n_all == needed, "retry: every medication");
        for (int64_t i = 1; i < n_all; i++) check(all_scores[i] <= all_scores[i - 1], "retry: best first");
        /* The same patient in the same session gives bitwise the same scores. */
        for (int64_t i = 0; i < n; i++) {
            int same = 0;
            for (int64_t j = 0; j < n_all; j++)
                if (all_ids[j] == ids[i]) same = same_float(all_scores[j], scores[i]);
            check(same, "every medication list holds the recommended scores bitwise");
        }
    }

    /* 3. The same from vocabulary ids (known codes only, no profile) equals the string call without the unknown
     *    code and the profile. */
    {
        patient known = p;
        int32_t id_lists[3][MAX_CODES];
        const char **src[3] = {known.diagnoses, known.procedures, known.medications};
        int64_t *off[3] = {known.diagnosis_offsets, known.procedure_offsets, known.medication_offsets};
        for (int k = 0; k < 3; k++) {
            const int64_t original[3] = {off[k][0], off[k][1], off[k][2]};
            int64_t w = 0;
            for (int v = 0; v < 2; v++) {
                for (int64_t q = original[v]; q < original[v + 1]; q++) {
                    int32_t id = -1;
                    ok(leader_model_code_id(model, k, src[k][q], &id), "leader_model_code_id");
                    if (id >= 0) id_lists[k][w] = id, src[k][w++] = src[k][q];
                }
                off[k][v + 1] = w;
            }
        }
        known.n_profile = 0;
        int32_t s_ids[5], i_ids[5];
        float s_scores[5], i_scores[5];
        int64_t s_n = 0, i_n = 0, s_unknown = -1;
        ok(recommend(session, &known, 5, 0.0f, s_ids, s_scores, NULL, 5, &s_n, NULL, 0, &s_unknown),
           "recommend (known codes)");
        ok(leader_session_recommend_ids(session, 2, known.diagnosis_offsets, id_lists[0], known.procedure_offsets,
                                        id_lists[1], known.medication_offsets, id_lists[2], 0, NULL, 5, 0.0f, i_ids,
                                        i_scores, NULL, 5, &i_n),
           "leader_session_recommend_ids");
        check(s_unknown == 0, "known codes: no unknown inputs");
        check(s_n == i_n, "ids and strings: same count");
        for (int64_t i = 0; i < s_n && i < i_n; i++)
            check(s_ids[i] == i_ids[i] && same_float(s_scores[i], i_scores[i]), "ids and strings: same results");
        printf("the same patient by ids: %lld results, equal to the string call\n", (long long)i_n);
    }

    /* 4. Why the top medication: each known input's contribution (occlusion), largest first. */
    {
        const int64_t cap = n_inputs(&p);
        int64_t positions[3 * MAX_CODES + 1], n_exp = 0;
        float contributions[3 * MAX_CODES + 1], score = -1.0f;
        if (ok(leader_session_explain(session, 2, p.diagnosis_offsets, p.diagnoses, p.procedure_offsets, p.procedures,
                                      p.medication_offsets, p.medications, p.n_profile, p.keys, p.values, ids[0],
                                      &score, positions, contributions, cap, &n_exp),
               "leader_session_explain")) {
            printf("why %s (score %.4f); top contributing inputs:\n", codes[0], score);
            check(fabsf(score - scores[0]) <= 1e-5f, "explain's score matches the recommendation");
            check(n_exp == cap - n_unknown, "one contribution per known input");
            for (int64_t i = 0; i < n_exp; i++) {
                char what[256];
                describe(model, &p, positions[i], what, sizeof what);
                if (i < 5) printf("  %+.4f  %s\n", contributions[i], what);
                check(positions[i] >= 0 && positions[i] < cap && positions[i] != unknown_position,
                      "contribution positions are known inputs");
                check(i == 0 || contributions[i] <= contributions[i - 1], "contributions largest first");
            }
        }
    }

    /* 5. Bad arguments: a status and a message, never a crash. */
    st = leader_session_recommend(session, 0, p.diagnosis_offsets, p.diagnoses, p.procedure_offsets, p.procedures,
                                  NULL, NULL, 0, NULL, NULL, 10, 0.0f, ids, scores, NULL, 10, &n, NULL, 0, NULL);
    check(st == LEADER_ERR_INVALID_ARGUMENT && leader_last_error()[0] != '\0', "n_visits 0: invalid argument");
    printf("n_visits 0 -> %s: %s\n", leader_status_string(st), leader_last_error());
    st = recommend(session, &p, 10, 1.5f, ids, scores, NULL, 10, &n, NULL, 0, NULL);
    check(st == LEADER_ERR_INVALID_ARGUMENT, "threshold > 1: invalid argument");
    st = leader_session_explain(session, 2, p.diagnosis_offsets, p.diagnoses, p.procedure_offsets, p.procedures,
                                p.medication_offsets, p.medications, 0, NULL, NULL, (int32_t)vocab[2], NULL, NULL,
                                NULL, 0, &n);
    check(st == LEADER_ERR_INVALID_ARGUMENT, "explain: medication id out of range");

    /* 6. Release in any order: the session keeps the model alive, so it still serves after leader_model_free. */
    leader_model_free(model);
    int64_t n_after = 0;
    int32_t after_ids[10];
    float after_scores[10];
    const char *after_codes[10];
    if (ok(recommend(session, &p, top_k, threshold, after_ids, after_scores, after_codes, 10, &n_after, NULL, 0, NULL),
           "recommend after leader_model_free")) {
        check(n_after == n, "after leader_model_free: same count");
        for (int64_t i = 0; i < n && i < n_after; i++)
            check(after_ids[i] == ids[i] && same_float(after_scores[i], scores[i]) &&
                      strcmp(after_codes[i], codes[i]) == 0,
                  "after leader_model_free: same results");
    }
    leader_session_free(session);
    leader_session_free(NULL);
    leader_model_free(NULL);
    free(all_ids);
    free(all_scores);

    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all recommend checks passed\n");
    return 0;
}
