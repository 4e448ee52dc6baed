/* Serving through the public C API (include/leader.h + libleader.so), as an EHR host would call it.
 *
 *   c_api_bench CHECKPOINT [--quick]
 *
 * Patients are drawn from the checkpoint's own vocabularies (seeded; 1-5 visits, MIMIC-like set sizes:
 * ~11 diagnoses, ~4 procedures, ~9 medications per visit). Prints one JSON object:
 *   single-patient latency, 1 thread, fp32 and bf16 sessions: p50 / p99 (microseconds), interleaved rounds;
 *   batch throughput (leader_session_score_batch_ids, 10,000 patients, 1 and 2 threads);
 *   8 threads x 10,000 recommendations from one model, per-thread sessions, checked equal to a serial pass.
 * Build: cc -O2 -std=c11 -pthread -Iinclude bench/c_api_bench.c -Lbuild -lleader -Wl,-rpath,build */
#define _POSIX_C_SOURCE 200809L
#include <leader.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_VISITS 5
#define MAX_CODES 64

typedef struct {
    int32_t n_visits;
    int64_t d_off[MAX_VISITS + 1], p_off[MAX_VISITS + 1], m_off[MAX_VISITS + 1];
    const char *d[MAX_VISITS * MAX_CODES], *p[MAX_VISITS * MAX_CODES], *m[MAX_VISITS * MAX_CODES];
    int32_t di[MAX_VISITS * MAX_CODES], pi[MAX_VISITS * MAX_CODES], mi[MAX_VISITS * MAX_CODES];
} patient;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {   /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int32_t below(int64_t n) { return n > 0 ? (int32_t)(next_u64() % (uint64_t)n) : 0; }

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void die(const char *what, leader_status st) {
    fprintf(stderr, "c_api_bench: %s: %s (%s)\n", what, leader_status_string(st), leader_last_error());
    exit(1);
}

static const leader_model *model;
static int64_t vocab[3];

/* One set of `mean`-ish codes of `kind`, appended at *n. */
static void fill_set(int32_t kind, int mean, const char **codes, int32_t *ids, int64_t *n) {
    int k = 1 + below(2 * mean);
    if (k > MAX_CODES) k = MAX_CODES;
    for (int i = 0; i < k; i++) {
        int32_t id = below(vocab[kind]);
        leader_status st = leader_model_code(model, kind, id, &codes[*n], NULL);
        if (st != LEADER_OK) die("leader_model_code", st);
        ids[*n] = id;
        (*n)++;
    }
}

static void make_patient(patient *pt) {
    pt->n_visits = 1 + below(MAX_VISITS);
    int64_t nd = 0, np = 0, nm = 0;
    pt->d_off[0] = pt->p_off[0] = pt->m_off[0] = 0;
    for (int v = 0; v < pt->n_visits; v++) {
        fill_set(LEADER_KIND_DIAGNOSIS, 11, pt->d, pt->di, &nd);
        fill_set(LEADER_KIND_PROCEDURE, 4, pt->p, pt->pi, &np);
        if (v + 1 < pt->n_visits) fill_set(LEADER_KIND_MEDICATION, 9, pt->m, pt->mi, &nm);
        pt->d_off[v + 1] = nd; pt->p_off[v + 1] = np; pt->m_off[v + 1] = nm;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The same from ids (leader_session_recommend_ids). */
static void recommend_scores_ids(leader_session *s, const patient *pt, float *row, int64_t n_med) {
    int32_t ids[1024]; float sc[1024]; int64_t n = 0;
    leader_status st = leader_session_recommend_ids(s, pt->n_visits, pt->d_off, pt->di, pt->p_off, pt->pi, pt->m_off,
                                                    pt->mi, 0, NULL, 0, 0.0f, ids, sc, NULL, 1024, &n);
    if (st != LEADER_OK) die("leader_session_recommend_ids", st);
    for (int64_t i = 0; i < n && i < n_med; i++) row[ids[i]] = sc[i];
}

/* Scores of every medication of one patient through leader_session_recommend (top_k 0, threshold 0). */
static void recommend_scores(leader_session *s, const patient *pt, float *row, int64_t n_med) {
    int32_t ids[1024]; float sc[1024]; int64_t n = 0;
    leader_status st = leader_session_recommend(s, pt->n_visits, pt->d_off, pt->d, pt->p_off, pt->p, pt->m_off, pt->m, 0,
                                                NULL, NULL, 0, 0.0f, ids, sc, NULL, 1024, &n, NULL, 0, NULL);
    if (st != LEADER_OK) die("leader_session_recommend", st);
    for (int64_t i = 0; i < n && i < n_med; i++) row[ids[i]] = sc[i];
}

typedef struct {
    const patient *patients;
    int64_t count, n_med;
    float *scores;
    leader_status status;
} worker;

static void *serve(void *arg) {
    worker *w = arg;
    leader_session *s = NULL;
    w->status = leader_session_create(model, NULL, &s);
    if (w->status != LEADER_OK) return NULL;
    for (int64_t i = 0; i < w->count; i++) recommend_scores(s, &w->patients[i], w->scores + i * w->n_med, w->n_med);
    leader_session_free(s);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: c_api_bench CHECKPOINT [--quick]\n"); return 2; }
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    if (leader_abi_version() != LEADER_ABI_VERSION) { fprintf(stderr, "ABI mismatch\n"); return 1; }
    leader_model *m = NULL;
    leader_status st = leader_model_load(argv[1], &m);
    if (st != LEADER_OK) die("leader_model_load", st);
    model = m;
    for (int k = 0; k < 3; k++) if ((st = leader_model_vocabulary_size(model, k, &vocab[k])) != LEADER_OK) die("vocabulary", st);
    int64_t n_med = vocab[LEADER_KIND_MEDICATION];
    const int64_t n_patients = quick ? 1000 : 10000, rounds = quick ? 2 : 5, per_round = quick ? 200 : 1000;
    patient *patients = calloc((size_t)n_patients, sizeof *patients);
    if (!patients) return 1;
    for (int64_t i = 0; i < n_patients; i++) make_patient(&patients[i]);

    /* 1. single patient, 1 thread: fp32 strings, bf16 strings, fp32 ids, interleaved round by round */
    const char *precisions[3] = {"{\"precision\": \"fp32\"}", "{\"precision\": \"bf16\"}", "{\"precision\": \"fp32\"}"};
    leader_session *single[3];
    for (int p = 0; p < 3; p++) if ((st = leader_session_create(model, precisions[p], &single[p])) != LEADER_OK) die("session", st);
    double *lat[3];
    for (int p = 0; p < 3; p++) lat[p] = malloc(sizeof(double) * rounds * per_round);
    float *row = calloc((size_t)n_med, sizeof(float));
    for (int p = 0; p < 3; p++) for (int i = 0; i < 50; i++) recommend_scores(single[p], &patients[i], row, n_med);   /* warm */
    for (int64_t r = 0; r < rounds; r++)
        for (int p = 0; p < 3; p++)
            for (int64_t i = 0; i < per_round; i++) {
                const patient *pt = &patients[(r * per_round + i) % n_patients];
                double t0 = now_us();
                if (p == 2) recommend_scores_ids(single[p], pt, row, n_med); else recommend_scores(single[p], pt, row, n_med);
                lat[p][r * per_round + i] = now_us() - t0;
            }
    double p50[3], p99[3];
    for (int p = 0; p < 3; p++) {
        qsort(lat[p], (size_t)(rounds * per_round), sizeof(double), cmp_double);
        p50[p] = lat[p][rounds * per_round / 2];
        p99[p] = lat[p][rounds * per_round * 99 / 100];
    }

    /* 2. batch throughput from ids: all patients in one call, 1 and 2 threads (best of 3) */
    int64_t *visit_off = malloc(sizeof(int64_t) * (n_patients + 1));
    int64_t total_visits = 0;
    for (int64_t i = 0; i < n_patients; i++) total_visits += patients[i].n_visits;
    int64_t *d_off = malloc(sizeof(int64_t) * (total_visits + 1)), *p_off = malloc(sizeof(int64_t) * (total_visits + 1));
    int64_t *m_off = malloc(sizeof(int64_t) * (total_visits + 1));
    int32_t *d = malloc(sizeof(int32_t) * total_visits * MAX_CODES), *pr = malloc(sizeof(int32_t) * total_visits * MAX_CODES);
    int32_t *md = malloc(sizeof(int32_t) * total_visits * MAX_CODES);
    int64_t v = 0, nd = 0, np = 0, nm = 0;
    visit_off[0] = d_off[0] = p_off[0] = m_off[0] = 0;
    for (int64_t i = 0; i < n_patients; i++) {
        const patient *pt = &patients[i];
        for (int j = 0; j < pt->n_visits; j++, v++) {
            for (int64_t k = pt->d_off[j]; k < pt->d_off[j + 1]; k++) d[nd++] = pt->di[k];
            for (int64_t k = pt->p_off[j]; k < pt->p_off[j + 1]; k++) pr[np++] = pt->pi[k];
            for (int64_t k = pt->m_off[j]; k < pt->m_off[j + 1]; k++) md[nm++] = pt->mi[k];
            d_off[v + 1] = nd; p_off[v + 1] = np; m_off[v + 1] = nm;
        }
        visit_off[i + 1] = v;
    }
    float *batch = malloc(sizeof(float) * n_patients * n_med);
    double rate[2] = {0, 0};
    for (int t = 1; t <= 2; t++) {
        leader_session *s = NULL;
        char opt[64];
        snprintf(opt, sizeof opt, "{\"threads\": %d}", t);
        if ((st = leader_session_create(model, opt, &s)) != LEADER_OK) die("session", st);
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_us();
            st = leader_session_score_batch_ids(s, n_patients, visit_off, d_off, d, p_off, pr, m_off, md, NULL, batch,
                                                n_patients * n_med);
            if (st != LEADER_OK) die("leader_session_score_batch_ids", st);
            double r = (double)n_patients / ((now_us() - t0) / 1e6);
            if (r > rate[t - 1]) rate[t - 1] = r;
        }
        leader_session_free(s);
    }

    /* 3. 8 threads x n_patients recommendations from one model; equal to a serial pass */
    float *serial = calloc((size_t)(n_patients * n_med), sizeof(float)), *par = calloc((size_t)(8 * n_patients * n_med), sizeof(float));
    for (int64_t i = 0; i < n_patients; i++) recommend_scores(single[0], &patients[i], serial + i * n_med, n_med);
    worker workers[8];
    pthread_t threads[8];
    double t0 = now_us();
    for (int t = 0; t < 8; t++) {
        workers[t] = (worker){patients, n_patients, n_med, par + (int64_t)t * n_patients * n_med, LEADER_OK};
        pthread_create(&threads[t], NULL, serve, &workers[t]);
    }
    for (int t = 0; t < 8; t++) pthread_join(threads[t], NULL);
    double threaded_s = (now_us() - t0) / 1e6;
    int equal = 1;
    for (int t = 0; t < 8; t++) {
        if (workers[t].status != LEADER_OK) die("worker session", workers[t].status);
        if (memcmp(par + (int64_t)t * n_patients * n_med, serial, sizeof(float) * n_patients * n_med) != 0) equal = 0;
    }
    /* batch rows equal the one-by-one scores too */
    int batch_equal = memcmp(batch, serial, sizeof(float) * n_patients * n_med) == 0;

    printf("{\"build\": %s, \"medications\": %lld, \"patients\": %lld,\n", leader_build_info(), (long long)n_med,
           (long long)n_patients);
    printf(" \"single_fp32_p50_us\": %.1f, \"single_fp32_p99_us\": %.1f, \"single_bf16_p50_us\": %.1f, "
           "\"single_bf16_p99_us\": %.1f, \"single_fp32_ids_p50_us\": %.1f, \"single_fp32_ids_p99_us\": %.1f,\n",
           p50[0], p99[0], p50[1], p99[1], p50[2], p99[2]);
    printf(" \"batch_patients_per_s_1_thread\": %.0f, \"batch_patients_per_s_2_threads\": %.0f,\n", rate[0], rate[1]);
    printf(" \"threads8_recommendations\": %lld, \"threads8_seconds\": %.2f, \"threads8_equal_to_serial\": %s, "
           "\"batch_equal_to_serial\": %s}\n", (long long)(8 * n_patients), threaded_s, equal ? "true" : "false",
           batch_equal ? "true" : "false");
    for (int p = 0; p < 3; p++) { leader_session_free(single[p]); free(lat[p]); }
    leader_model_free(m);
    free(patients); free(row); free(visit_off); free(d_off); free(p_off); free(m_off); free(d); free(pr); free(md);
    free(batch); free(serial); free(par);
    return equal && batch_equal ? 0 : 1;
}
