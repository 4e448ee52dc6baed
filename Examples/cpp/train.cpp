// A C++ host training and evaluating a student through leader::Trainer: progress events, cancellation from the
// callback, an exception thrown by the callback, then serving from the new checkpoint.
// Usage: train DATA.ldata OUT_DIR     (exit status 0 when every step behaved as leader.h says)
// Build: c++ -std=c++17 -Wall -Wextra -Werror -Iinclude -IExamples/cpp train.cpp -L<dir> -lleader -Wl,-rpath,<dir>
#include "leader.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const std::string &what) {
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
        failures++;
    }
}

bool exists(const std::string &path) { return std::ifstream(path).good(); }

std::string student_job(const std::string &data, const std::string &out) {
    return "{\"task\": \"student\", \"data\": " + leader::json_string(data) + ", \"out\": " + leader::json_string(out) +
           ", \"config\": {\"epochs\": 2}, \"threads\": 1}";
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s DATA.ldata OUT_DIR\n", argv[0]);
        return 2;
    }
    const std::string data = argv[1], dir = argv[2];
    try {
        leader::check_abi();

        // Jobs are validated when created.
        for (const char *bad : {"{\"task\": \"student\"", "{\"task\": \"no such task\"}",
                                "{\"task\": \"evaluate\", \"no such key\": 1}"}) {
            try {
                leader::Trainer t(bad);
                check(false, std::string("no error for ") + bad);
            } catch (const leader::Error &e) {
                std::printf("%s -> %s\n", bad, e.what());
                check(e.status() == LEADER_ERR_INVALID_ARGUMENT, std::string("invalid argument for ") + bad);
            }
        }

        // Cancelled at the first progress event: LEADER_ERR_CANCELLED, and no partial output.
        {
            const std::string out = dir + "/cancelled.safetensors";
            leader::Trainer t(student_job(data, out));
            int events = 0;
            try {
                t.run([&](const std::string &) { return ++events < 1; });
                check(false, "a cancelled job returned normally");
            } catch (const leader::Error &e) {
                std::printf("cancelled after %d event(s) -> %s\n", events, e.what());
                check(e.status() == LEADER_ERR_CANCELLED, "cancel gives LEADER_ERR_CANCELLED");
            }
            check(events == 1, "the callback is not called after it cancelled");
            check(!exists(out), "a cancelled job leaves no output");
        }

        // An exception in the callback cancels the job and comes back out of run() unchanged.
        {
            leader::Trainer t(student_job(data, dir + "/thrown.safetensors"));
            try {
                t.run([](const std::string &) -> bool { throw std::logic_error("stop from the host"); });
                check(false, "the callback's exception was lost");
            } catch (const std::logic_error &e) {
                std::printf("callback exception rethrown: %s\n", e.what());
            }
            check(!exists(dir + "/thrown.safetensors"), "an interrupted job leaves no output");
        }

        // The real run, with progress; a trainer can be run again.
        const std::string checkpoint = dir + "/student.safetensors";
        leader::Trainer t(student_job(data, checkpoint));
        int events = 0;
        std::string last_event;
        const std::string result = t.run([&](const std::string &event) {
            events++;
            last_event = event;
            return true;
        });
        std::printf("student: %d progress events, last %s\nresult: %.300s\n", events, last_event.c_str(),
                    result.c_str());
        check(events > 0, "progress events arrive");
        check(exists(checkpoint), "the checkpoint is written");
        check(result == t.result_json(), "result_json is the run's result");
        check(!result.empty() && result.front() == '{', "the result is a JSON object");

        leader::Trainer eval("{\"task\": \"evaluate\", \"data\": " + leader::json_string(data) +
                             ", \"checkpoint\": " + leader::json_string(checkpoint) + ", \"threads\": 1}");
        const std::string metrics = eval.run();
        std::printf("evaluate: %.300s\n", metrics.c_str());

        // Serve from it.
        const leader::Model model = leader::Model::load(checkpoint);
        leader::Session session(model);
        leader::Patient p;
        p.diagnoses = {{model.code(leader::Kind::diagnosis, 0)}, {model.code(leader::Kind::diagnosis, 1)}};
        const auto recs = session.recommend(p, 3, 0.0f);
        check(static_cast<int64_t>(recs.size()) == std::min<int64_t>(3, session.medications()),
              "the new checkpoint serves");
        for (const auto &r : recs) std::printf("  %s %.4f\n", r.code.c_str(), r.score);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "FAIL: %s\n", e.what());
        return 1;
    }
    if (failures) {
        std::fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    std::printf("all train checks passed\n");
    return 0;
}
