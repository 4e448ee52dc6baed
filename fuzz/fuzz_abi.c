/* libFuzzer targets over the public C ABI (include/leader.h), linked against the built libleader.so: every
 * input a host hands the library must give a status, never a crash. One binary, the target chosen at build
 * time with -DTARGET=...:
 *   checkpoint  the bytes of a checkpoint file        -> leader_model_load (+ recommend when it loads)
 *   patient     CSR arrays and strings built from the bytes -> recommend / recommend_ids / score_batch / explain
 *   options     session options JSON                  -> leader_session_create
 *   trainer     trainer config JSON                   -> leader_trainer_create (no run: jobs read files)
 *   dataset     the bytes of a prepared dataset (.ldata) -> an evaluate job (frequency baseline) that reads it
 *   gguf        the bytes of a GGUF model file          -> a teacher-export job that loads it as the base model
 *   csv         the bytes of MIMIC-III PRESCRIPTIONS.csv (the other tables valid) -> a prepare job
 * The patient target serves the checkpoint named by $LEADER_FUZZ_CHECKPOINT; the gguf target reads the dataset
 * $LEADER_FUZZ_DATASET; the csv target copies the MIMIC-III folder $LEADER_FUZZ_MIMIC (fuzz/run.sh makes all
 * three). The file targets write the input into a folder of their own under $TMPDIR and run the job on it.
 * Build and run: fuzz/run.sh [SECONDS] (make fuzz FUZZ_SECONDS=N). */
#define _POSIX_C_SOURCE 200809L
#include <leader.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(expr) do { leader_status st_ = (expr); if (st_ < 0 || (st_ > 8 && st_ != 100)) abort(); } while (0)

static leader_model *served;
static leader_session *session;

static void open_served(void) {
    if (served) return;
    const char *path = getenv("LEADER_FUZZ_CHECKPOINT");
    if (!path || leader_model_load(path, &served) != LEADER_OK ||
        leader_session_create(served, "{\"threads\": 2}", &session) != LEADER_OK) {
        fprintf(stderr, "fuzz: set LEADER_FUZZ_CHECKPOINT to a loadable checkpoint (%s)\n", leader_last_error());
        abort();
    }
}

/* A reader over the fuzz input. */
typedef struct { const uint8_t *d; size_t n, i; } reader;
static uint8_t byte(reader *r) { return r->i < r->n ? r->d[r->i++] : 0; }

/* A NUL-terminated string of up to 12 bytes from the input; every few strings a real code of the model. */
static const char *string(reader *r, char *buf, int32_t kind) {
    uint8_t b = byte(r);
    if (b % 3 == 0 && served) {
        int64_t n = 0;
        const char *code = NULL;
        if (leader_model_vocabulary_size(served, kind, &n) == LEADER_OK && n > 0 &&
            leader_model_code(served, kind, (int32_t)(byte(r) % n), &code, NULL) == LEADER_OK) return code;
    }
    size_t len = b % 13;
    for (size_t i = 0; i < len; i++) buf[i] = (char)byte(r);
    buf[len] = '\0';
    return buf;
}

static void fuzz_patient(const uint8_t *data, size_t size) {
    open_served();
    reader r = {data, size, 0};
    int32_t visits = (int32_t)(byte(&r) % 7) - 1;   /* -1..5: invalid counts too */
    enum { MAXC = 64 };
    int64_t off[3][8];
    static char bufs[3][MAXC][16], pkb[8][16], pvb[8][16];
    const char *codes[3][MAXC];
    int32_t ids[3][MAXC];
    for (int k = 0; k < 3; k++) {
        off[k][0] = byte(&r) % 11 == 0 ? 1 : 0;   /* sometimes a bad first offset */
        for (int v = 0; v < 7; v++) {
            int64_t step = byte(&r) % 5;
            if (byte(&r) % 17 == 0) step = -1;       /* sometimes decreasing */
            off[k][v + 1] = off[k][v] + step;
            if (off[k][v + 1] > MAXC) off[k][v + 1] = MAXC;
        }
        for (int i = 0; i < MAXC; i++) {
            codes[k][i] = string(&r, bufs[k][i], k);
            ids[k][i] = (int32_t)(int8_t)byte(&r);
        }
    }
    int32_t np = byte(&r) % 4;
    const char *keys[8], *values[8];
    int32_t labels[64];
    static const char *fields[] = {"gender", "insurance", "age", "ethnicity"};
    for (int i = 0; i < 8; i++) {
        uint8_t b = byte(&r);
        keys[i] = b % 2 ? fields[b % 4] : string(&r, pkb[i], 0);
        values[i] = string(&r, pvb[i], 0);
    }
    for (int i = 0; i < 64; i++) labels[i] = (int32_t)(int8_t)byte(&r) % 5;
    int32_t ids_out[512]; float scores[512]; const char *names[512]; int64_t n = 0, unknown[16], n_unknown = 0;
    int64_t cap = byte(&r) % 2 ? 512 : byte(&r) % 4;
    int32_t top_k = (int32_t)(int8_t)byte(&r);
    float thresholds[] = {LEADER_THRESHOLD_DEFAULT, 0.0f, 0.5f, 1.0f, 2.0f, -0.0f};
    float th = thresholds[byte(&r) % 6];
    const int64_t *moff = byte(&r) % 4 ? off[2] : NULL;
    CHECK(leader_session_recommend(session, visits, off[0], codes[0], off[1], codes[1], moff, codes[2], np, keys, values,
                                   top_k, th, ids_out, scores, names, cap, &n, unknown, byte(&r) % 17, &n_unknown));
    CHECK(leader_session_recommend_ids(session, visits, off[0], ids[0], off[1], ids[1], moff, ids[2], np, labels, top_k,
                                       th, ids_out, scores, names, cap, &n));
    int64_t pos[256]; float contrib[256];
    CHECK(leader_session_explain(session, visits, off[0], codes[0], off[1], codes[1], moff, codes[2], np, keys, values,
                                 (int32_t)(int8_t)byte(&r), scores, pos, contrib, byte(&r) % 2 ? 256 : 1, &n));
    /* batch: up to 3 patients over the same visit arrays */
    int64_t patients = byte(&r) % 4, voff[4] = {0, 0, 0, 0}, poff[4] = {0, 0, 0, 0};
    for (int p = 0; p < patients; p++) {
        voff[p + 1] = voff[p] + byte(&r) % 3;
        if (voff[p + 1] > 7) voff[p + 1] = 7;
        poff[p + 1] = poff[p] + byte(&r) % 3;
        if (poff[p + 1] > 8) poff[p + 1] = 8;
    }
    static float batch[3 * 512];
    int64_t bad_unknown = 0;
    CHECK(leader_session_score_batch(session, patients, voff, off[0], codes[0], off[1], codes[1], moff, codes[2],
                                     byte(&r) % 2 ? poff : NULL, keys, values, batch, byte(&r) % 2 ? 3 * 512 : 7,
                                     &bad_unknown));
    CHECK(leader_session_score_batch_ids(session, patients, voff, off[0], ids[0], off[1], ids[1], moff, ids[2],
                                         byte(&r) % 2 ? labels : NULL, batch, 3 * 512));
}

/* Writes the bytes to a private file and loads it. */
static void fuzz_checkpoint(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/leader-fuzz-%d.safetensors", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    leader_model *m = NULL;
    leader_status st = leader_model_load(path, &m);
    CHECK(st);
    if (st == LEADER_OK) {
        leader_session *s = NULL;
        CHECK(leader_session_create(m, NULL, &s));
        const char *info = NULL;
        CHECK(leader_model_info_json(m, &info));
        const char *d[] = {"x"};
        int64_t off[] = {0, 1}, zero[] = {0, 0}, n = 0;
        int32_t ids[4]; float sc[4];
        CHECK(leader_session_recommend(s, 1, off, d, zero, NULL, NULL, NULL, 0, NULL, NULL, 4, 0.0f, ids, sc, NULL, 4, &n,
                                       NULL, 0, NULL));
        leader_session_free(s);
    }
    leader_model_free(m);
}

/* ---- file targets: the input becomes a file that a trainer job reads --------------------------------- */

static char workdir[256];

/* A fresh folder for this process (removed by fuzz/run.sh's temporary root). */
static const char *work(void) {
    if (!workdir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(workdir, sizeof workdir, "%s/leader-fuzz-%ld", t && *t ? t : "/tmp", (long)getpid());
        if (mkdir(workdir, 0700) != 0 && errno != EEXIST) abort();
    }
    return workdir;
}

static void write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
}

/* Creates and runs one job; every status must be one of the header's. */
static void run_job(const char *json) {
    leader_trainer *t = NULL;
    leader_status st = leader_trainer_create(json, &t);
    CHECK(st);
    if (st == LEADER_OK) CHECK(leader_trainer_run(t, NULL, NULL));
    leader_trainer_free(t);
}

static const char *env_path(const char *name) {
    const char *p = getenv(name);
    if (!p || !*p) { fprintf(stderr, "fuzz: set %s (fuzz/run.sh does)\n", name); abort(); }
    return p;
}

static void fuzz_dataset(const uint8_t *data, size_t size) {
    char path[320], json[1024];
    snprintf(path, sizeof path, "%s/d.ldata", work());
    write_file(path, data, size);
    snprintf(json, sizeof json, "{\"task\": \"evaluate\", \"data\": \"%s\", \"baseline\": \"frequency\", \"threads\": 1}",
             path);
    run_job(json);
}

static void fuzz_gguf(const uint8_t *data, size_t size) {
    char path[320], json[2048];
    snprintf(path, sizeof path, "%s/m.gguf", work());
    write_file(path, data, size);
    /* The teacher checkpoint does not exist: a model that loads ends the job there (an I/O status). */
    snprintf(json, sizeof json, "{\"task\": \"teacher-export\", \"data\": \"%s\", \"model\": \"%s\", "
             "\"teacher\": \"%s/none.safetensors\", \"out\": \"%s/f.safetensors\", \"threads\": 1}",
             env_path("LEADER_FUZZ_DATASET"), path, work(), work());
    run_job(json);
}

static void fuzz_csv(const uint8_t *data, size_t size) {
    char dir[320], path[400], json[2048];
    snprintf(dir, sizeof dir, "%s/mimic", work());
    static int copied;
    if (!copied) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", env_path("LEADER_FUZZ_MIMIC"), dir);
        if (system(cmd) != 0) abort();
        copied = 1;
    }
    snprintf(path, sizeof path, "%s/PRESCRIPTIONS.csv", dir);
    write_file(path, data, size);
    snprintf(json, sizeof json, "{\"task\": \"prepare\", \"source\": \"mimic3\", \"input\": \"%s\", "
             "\"maps\": \"%s/maps\", \"out\": \"%s/p.ldata\"}", dir, dir, work());
    run_job(json);
}

/* The bytes as a NUL-terminated string. */
static char *text(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#if defined(TARGET_checkpoint)
    fuzz_checkpoint(data, size);
#elif defined(TARGET_patient)
    fuzz_patient(data, size);
#elif defined(TARGET_options)
    open_served();
    char *json = text(data, size);
    leader_session *s = NULL;
    CHECK(leader_session_create(served, json, &s));
    leader_session_free(s);
    free(json);
#elif defined(TARGET_trainer)
    char *json = text(data, size);
    leader_trainer *t = NULL;
    CHECK(leader_trainer_create(json, &t));
    leader_trainer_free(t);
    free(json);
#elif defined(TARGET_dataset)
    fuzz_dataset(data, size);
#elif defined(TARGET_gguf)
    fuzz_gguf(data, size);
#elif defined(TARGET_csv)
    fuzz_csv(data, size);
#else
#error "build with -DTARGET_checkpoint, -DTARGET_patient, -DTARGET_options, -DTARGET_trainer, -DTARGET_dataset, -DTARGET_gguf or -DTARGET_csv"
#endif
    return 0;
}
