/* LeakSanitizer over load / session / recommend / free cycles of the public API, both free orders, with error
 * paths and trainer create/free mixed in (make sanitize). Usage: leak_check CHECKPOINT CYCLES */
#include <leader.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int cycles = atoi(argv[2]);
    const char *d[] = {"x", "y"}; const int64_t off[] = {0, 2}, zero[] = {0, 0};
    int32_t ids[512]; float sc[512]; int64_t n = 0, unknown[4], nu = 0;
    for (int i = 0; i < cycles; i++) {
        leader_model *m = NULL; leader_session *s = NULL; leader_trainer *t = NULL;
        if (leader_model_load(argv[1], &m) != LEADER_OK) { fprintf(stderr, "%s\n", leader_last_error()); return 1; }
        if (leader_session_create(m, i % 2 ? "{\"threads\": 2}" : NULL, &s) != LEADER_OK) return 1;
        if (i % 2) leader_model_free(m);   /* both free orders */
        if (leader_session_recommend(s, 1, off, d, zero, NULL, NULL, NULL, 0, NULL, NULL, 3, 0.0f, ids, sc, NULL, 512, &n,
                                     unknown, 4, &nu) != LEADER_OK) return 1;
        leader_session_recommend(s, 0, off, d, zero, NULL, NULL, NULL, 0, NULL, NULL, 3, 0.0f, ids, sc, NULL, 512, &n,
                                 NULL, 0, NULL);   /* an error path too */
        leader_model *missing = NULL;
        leader_model_load("/nonexistent", &missing);   /* an I/O error path */
        leader_trainer_create("{\"task\": \"student\", \"data\": \"a\", \"out\": \"b\"}", &t);
        leader_trainer_free(t);
        leader_trainer_create("{\"task\": 3}", &t);
        leader_session_free(s);
        if (!(i % 2)) leader_model_free(m);
    }
    printf("%d cycles\n", cycles);
    return 0;
}
