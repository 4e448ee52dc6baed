// A C++ host serving from many threads: one leader::Model shared by all, one leader::Session per thread, each
// thread recommending for many varied patients. Every result must be bitwise equal to a serial pass, and a batch
// call's rows must equal the one-by-one scores. Exit status 0 when all of that holds.
// Usage: serve_threads CHECKPOINT [THREADS=8] [PER_THREAD=1200]
// Build: c++ -std=c++17 -Wall -Wextra -Werror -pthread -Iinclude -IExamples/cpp serve_threads.cpp
//            -L<dir> -lleader -Wl,-rpath,<dir>
#include "leader.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const std::string &what) {
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
        failures++;
    }
}

bool same_float(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same(const std::vector<leader::Recommendation> &a, const std::vector<leader::Recommendation> &b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); i++)
        if (a[i].id != b[i].id || !same_float(a[i].score, b[i].score) || a[i].code != b[i].code) return false;
    return true;
}

// splitmix64: a fixed patient set for any seed-free run.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t below(int64_t n) { return n > 0 ? static_cast<int64_t>(next() % static_cast<uint64_t>(n)) : 0; }
};

// Patients of 1..4 visits built from the model's vocabularies, with a few unknown codes and profile pairs.
std::vector<leader::Patient> make_patients(const leader::Model &model, int count) {
    const leader::Kind kinds[3] = {leader::Kind::diagnosis, leader::Kind::procedure, leader::Kind::medication};
    int64_t vocab[3];
    for (int k = 0; k < 3; k++) vocab[k] = model.vocabulary_size(kinds[k]);
    const char *genders[] = {"F", "M", "X"};
    const char *insurances[] = {"Medicare", "Private", "Medicaid", "NoSuchInsurance"};
    Rng rng{12345};
    std::vector<leader::Patient> patients(static_cast<std::size_t>(count));
    for (leader::Patient &p : patients) {
        const int64_t visits = 1 + rng.below(4);
        std::vector<std::vector<std::string>> *lists[3] = {&p.diagnoses, &p.procedures, &p.medications};
        const int64_t most[3] = {7, 4, 6};
        for (int k = 0; k < 3; k++) {
            // medications: only the earlier visits (the current visit's are what is predicted)
            const int64_t n_visits = k == 2 ? visits - 1 : visits;
            for (int64_t v = 0; v < n_visits; v++) {
                std::vector<std::string> codes;
                const int64_t n = rng.below(most[k] + 1);
                for (int64_t j = 0; j < n && vocab[k] > 0; j++)
                    codes.push_back(model.code(kinds[k], static_cast<int32_t>(rng.below(vocab[k]))));
                if (rng.below(10) == 0) codes.push_back("UNKNOWN-" + std::to_string(rng.next() % 1000));
                lists[k]->push_back(std::move(codes));
            }
        }
        if (rng.below(3) != 0) p.profile["gender"] = genders[rng.below(3)];
        if (rng.below(2) != 0) p.profile["insurance"] = insurances[rng.below(4)];
    }
    return patients;
}

// Two ways of asking: every medication (top_k 0, threshold 0) and the checkpoint's recommendation (top 10).
std::vector<leader::Recommendation> ask(leader::Session &s, const leader::Patient &p, int mode,
                                        std::vector<int64_t> *unknown = nullptr) {
    return mode == 0 ? s.recommend(p, 0, 0.0f, unknown) : s.recommend(p, 10, LEADER_THRESHOLD_DEFAULT, unknown);
}

template <class F>
bool throws_status(leader_status expected, F &&f) {
    try {
        f();
    } catch (const leader::Error &e) {
        std::printf("  %s\n", e.what());
        return e.status() == expected && !e.message().empty();
    }
    return false;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2 || argc > 4) {
        std::fprintf(stderr, "usage: %s CHECKPOINT [THREADS=8] [PER_THREAD=1200]\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    const int n_threads = argc > 2 ? std::atoi(argv[2]) : 8;
    const int per_thread = argc > 3 ? std::atoi(argv[3]) : 1200;
    try {
        leader::check_abi();
        std::printf("libleader %s\n", leader::version().c_str());

        std::printf("errors:\n");
        check(throws_status(LEADER_ERR_IO, [] { leader::Model::load("/nonexistent/student.safetensors"); }),
              "missing checkpoint throws LEADER_ERR_IO");
        const leader::Model model = leader::Model::load(path);
        check(throws_status(LEADER_ERR_INVALID_ARGUMENT, [&] { leader::Session(model, "{\"threads\": \"many\"}"); }),
              "bad session option throws LEADER_ERR_INVALID_ARGUMENT");
        {
            leader::Session s(model);
            check(throws_status(LEADER_ERR_INVALID_ARGUMENT, [&] { s.recommend(leader::Patient{}); }),
                  "a patient without visits throws LEADER_ERR_INVALID_ARGUMENT");
        }

        const std::vector<leader::Patient> patients = make_patients(model, 240);
        const auto n = static_cast<int64_t>(patients.size());

        // Serial pass: the reference.
        std::vector<std::vector<leader::Recommendation>> serial[2];
        int64_t unknown_total = 0;
        {
            leader::Session s(model);
            for (int mode = 0; mode < 2; mode++)
                for (const leader::Patient &p : patients) {
                    std::vector<int64_t> unknown;
                    serial[mode].push_back(ask(s, p, mode, &unknown));
                    if (mode == 0) unknown_total += static_cast<int64_t>(unknown.size());
                }
        }
        for (const auto &r : serial[0]) check(r.size() == static_cast<std::size_t>(model.vocabulary_size(
                                                                leader::Kind::medication)),
                                              "top_k 0, threshold 0: every medication");

        // Threads: one shared Model, one Session each, bitwise equal to the serial pass.
        std::atomic<int64_t> done{0}, mismatches{0};
        std::mutex first_error_lock;
        std::string first_error;
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> threads;
        for (int t = 0; t < n_threads; t++)
            threads.emplace_back([&, t] {
                try {
                    leader::Session s(model, "{\"threads\": 1}");
                    for (int j = 0; j < per_thread; j++) {
                        const int64_t i = (static_cast<int64_t>(t) * 7919 + static_cast<int64_t>(j) * 31) % n;
                        const int mode = (j + t) % 2;
                        if (!same(ask(s, patients[static_cast<std::size_t>(i)], mode),
                                  serial[mode][static_cast<std::size_t>(i)]))
                            mismatches++;
                        done++;
                    }
                } catch (const std::exception &e) {
                    std::lock_guard<std::mutex> g(first_error_lock);
                    if (first_error.empty()) first_error = e.what();
                }
            });
        for (std::thread &th : threads) th.join();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%d threads: %lld recommendations in %.2f s (%.0f/s), %lld differ from the serial pass\n",
                    n_threads, static_cast<long long>(done.load()), seconds, static_cast<double>(done.load()) / seconds,
                    static_cast<long long>(mismatches.load()));
        check(first_error.empty(), "no thread failed: " + first_error);
        check(done.load() == static_cast<int64_t>(n_threads) * per_thread, "every recommendation ran");
        check(mismatches.load() == 0, "threaded results bitwise equal to the serial pass");

        // Batch: each row equals the one-by-one scores; the batch's thread count does not change a bit.
        const int64_t m = model.vocabulary_size(leader::Kind::medication);
        for (const char *options : {"{\"threads\": 1}", "{\"threads\": 4}"}) {
            leader::Session s(model, options);
            int64_t unknown = -1;
            const std::vector<float> batch = s.score_batch(patients, &unknown);
            check(static_cast<int64_t>(batch.size()) == n * m, "batch size is patients x medications");
            int64_t rows_differ = 0;
            for (int64_t i = 0; i < n && static_cast<int64_t>(batch.size()) == n * m; i++) {
                bool row_same = true;
                for (const leader::Recommendation &r : serial[0][static_cast<std::size_t>(i)])
                    row_same = row_same && same_float(batch[static_cast<std::size_t>(i * m + r.id)], r.score);
                rows_differ += row_same ? 0 : 1;
            }
            std::printf("score_batch %s: %lld rows, %lld differ from recommend, %lld unknown inputs\n", options,
                        static_cast<long long>(n), static_cast<long long>(rows_differ),
                        static_cast<long long>(unknown));
            check(rows_differ == 0, std::string("score_batch rows bitwise equal to recommend ") + options);
            check(unknown == unknown_total, "score_batch counts the same unknown inputs as recommend");
        }

        // Explain the first patient's top medication.
        {
            leader::Session s(model);
            const leader::Patient &p = patients[0];
            const leader::Recommendation &top = serial[0][0].front();
            float score = -1.0f;
            const std::vector<leader::Contribution> why = s.explain(p, top.id, &score);
            std::printf("why %s (%s, score %.4f):\n", top.code.c_str(),
                        model.title(leader::Kind::medication, top.id).c_str(), score);
            const char *inputs[] = {"diagnosis", "procedure", "medication", "profile"};
            for (std::size_t i = 0; i < why.size() && i < 5; i++)
                std::printf("  %+.4f  %-10s %s\n", why[i].contribution, inputs[static_cast<int>(why[i].input)],
                            why[i].code.c_str());
            check(same_float(score, top.score), "explain's score equals the recommendation's");
            for (std::size_t i = 1; i < why.size(); i++)
                check(why[i].contribution <= why[i - 1].contribution, "contributions largest first");
        }

        // A Session outlives the Model object it came from (it keeps the C model alive).
        {
            std::optional<leader::Session> s;
            {
                const leader::Model scoped = leader::Model::load(path);
                s.emplace(scoped);
            }
            check(same(ask(*s, patients[1], 1), serial[1][1]), "a session serves after its Model is destroyed");
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "FAIL: %s\n", e.what());
        return 1;
    }
    if (failures) {
        std::fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    std::printf("all serve_threads checks passed\n");
    return 0;
}
