// leader.hpp — a C++17 header-only RAII wrapper over the C ABI of libleader (include/leader.h).
//
//   leader::Model model = leader::Model::load("student.safetensors");    // share one model between threads
//   leader::Session session(model);                                      // one session per thread
//   leader::Patient patient;
//   patient.diagnoses = {{"4019", "25000"}, {"4019", "5849"}};           // visits, oldest first; last = current
//   patient.procedures = {{}, {"3893"}};
//   patient.medications = {{"C09A", "A10B"}};                            // earlier visits' medications
//   patient.profile = {{"gender", "F"}};
//   for (const leader::Recommendation &r : session.recommend(patient, 10))
//       std::printf("%s %.3f\n", r.code.c_str(), r.score);
//
// Every failed call throws leader::Error (status + the library's message). Model, Session and Trainer are
// move-only owners of their handles; a Session keeps its model alive on the C side, so it may outlive the Model
// object it was created from. Threading is the C API's: a Model may be used by any number of threads, a Session
// or Trainer by one thread at a time.
//
// Not part of the library's ABI: this header is an example, compiled into the host. Needs only leader.h.
#ifndef LEADER_HPP
#define LEADER_HPP

#include <leader.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace leader {

// A failed library call: its status and leader_last_error() at the time of the failure.
class Error : public std::runtime_error {
public:
    Error(leader_status status, const std::string &message)
        : std::runtime_error(std::string(leader_status_string(status)) + ": " + message),
          status_(status), message_(message) {}
    leader_status status() const noexcept { return status_; }
    const std::string &message() const noexcept { return message_; }  // without the status name

private:
    leader_status status_;
    std::string message_;
};

namespace detail {
inline void check(leader_status status) {
    // Copy the message before any other leader_ call (it is valid until the next call on this thread).
    if (status != LEADER_OK) throw Error(status, std::string(leader_last_error()));
}
}  // namespace detail

inline int32_t abi_version() noexcept { return leader_abi_version(); }
inline std::string version() { return leader_version_string(); }
inline std::string build_info() { return leader_build_info(); }

// Throws when the library was built for another ABI than this header.
inline void check_abi() {
    if (leader_abi_version() != LEADER_ABI_VERSION)
        throw std::runtime_error("libleader ABI " + std::to_string(leader_abi_version()) + ", header ABI " +
                                 std::to_string(LEADER_ABI_VERSION));
}

inline void set_openmp_blocktime(int32_t milliseconds) { detail::check(leader_set_openmp_blocktime(milliseconds)); }

enum class Kind : int32_t {
    diagnosis = LEADER_KIND_DIAGNOSIS,
    procedure = LEADER_KIND_PROCEDURE,
    medication = LEADER_KIND_MEDICATION,
};

// One patient: per kind, the codes of each visit, oldest first; the last visit is the current one. The lists may
// differ in length: missing visits are empty (e.g. medications only for the earlier visits). Profile: field ->
// value (e.g. "gender" -> "F"); missing fields are unknown.
struct Patient {
    std::vector<std::vector<std::string>> diagnoses, procedures, medications;
    std::map<std::string, std::string> profile;

    std::size_t visits() const { return std::max({diagnoses.size(), procedures.size(), medications.size()}); }
};

struct Recommendation {
    int32_t id;        // medication id (Model::code(Kind::medication, id))
    float score;       // sigmoid probability
    std::string code;  // medication code
};

// What an input position of a patient is (numbering of leader.h: diagnoses, procedures, medications, profile).
enum class Input { diagnosis, procedure, medication, profile };

struct Contribution {
    int64_t position;    // input position (leader.h)
    float contribution;  // score(patient) - score(patient without this input); positive raises the score
    Input input;
    std::string code;    // the code, or "key=value" for a profile pair
};

namespace detail {
// The CSR arrays of leader.h for one or more patients; the pointers point into the patients' strings, so a Flat
// must not outlive them.
struct Flat {
    std::vector<int64_t> visit_offsets{0}, diagnosis_offsets{0}, procedure_offsets{0}, medication_offsets{0},
        profile_offsets{0};
    std::vector<const char *> diagnoses, procedures, medications, keys, values;

    explicit Flat(const std::vector<const Patient *> &patients) {
        for (const Patient *p : patients) add(*p);
    }

    void add(const Patient &p) {
        const std::size_t n = p.visits();
        for (std::size_t v = 0; v < n; v++) {
            append(p.diagnoses, v, diagnoses, diagnosis_offsets);
            append(p.procedures, v, procedures, procedure_offsets);
            append(p.medications, v, medications, medication_offsets);
        }
        visit_offsets.push_back(visit_offsets.back() + static_cast<int64_t>(n));
        for (const auto &kv : p.profile) {
            keys.push_back(kv.first.c_str());
            values.push_back(kv.second.c_str());
        }
        profile_offsets.push_back(static_cast<int64_t>(keys.size()));
    }

    int32_t n_visits() const { return narrow(visit_offsets.back(), "visits"); }
    int32_t n_profile() const { return narrow(static_cast<int64_t>(keys.size()), "profile pairs"); }
    int64_t n_inputs() const {
        return static_cast<int64_t>(diagnoses.size() + procedures.size() + medications.size() + keys.size());
    }

    // A non-NULL pointer even for an empty list (the library checks pointers, not only counts).
    static const char *const *data(const std::vector<const char *> &v) {
        static const char *const empty[1] = {""};
        return v.empty() ? empty : v.data();
    }

    // Input position -> what it is (for Session::explain and unknown-code reports).
    std::pair<Input, std::string> describe(int64_t position) const {
        auto nd = static_cast<int64_t>(diagnoses.size()), np = static_cast<int64_t>(procedures.size()),
             nm = static_cast<int64_t>(medications.size());
        if (position < 0 || position >= n_inputs()) return {Input::profile, "?"};
        if (position < nd) return {Input::diagnosis, diagnoses[position]};
        position -= nd;
        if (position < np) return {Input::procedure, procedures[position]};
        position -= np;
        if (position < nm) return {Input::medication, medications[position]};
        position -= nm;
        return {Input::profile, std::string(keys[position]) + "=" + values[position]};
    }

private:
    static void append(const std::vector<std::vector<std::string>> &visits, std::size_t v,
                       std::vector<const char *> &codes, std::vector<int64_t> &offsets) {
        if (v < visits.size())
            for (const std::string &c : visits[v]) codes.push_back(c.c_str());
        offsets.push_back(static_cast<int64_t>(codes.size()));
    }
    static int32_t narrow(int64_t n, const char *what) {
        if (n > std::numeric_limits<int32_t>::max()) throw std::length_error(std::string("leader: too many ") + what);
        return static_cast<int32_t>(n);
    }
};
}  // namespace detail

class Session;

// A student checkpoint ready to serve. Immutable: share one between threads (by reference).
class Model {
public:
    static Model load(const std::string &path) {
        leader_model *m = nullptr;
        detail::check(leader_model_load(path.c_str(), &m));
        return Model(m);
    }

    int64_t vocabulary_size(Kind kind) const {
        int64_t n = 0;
        detail::check(leader_model_vocabulary_size(get(), static_cast<int32_t>(kind), &n));
        return n;
    }
    std::string code(Kind kind, int32_t id) const {
        const char *c = nullptr;
        detail::check(leader_model_code(get(), static_cast<int32_t>(kind), id, &c, nullptr));
        return c ? c : "";
    }
    std::string title(Kind kind, int32_t id) const {
        const char *t = nullptr;
        detail::check(leader_model_code(get(), static_cast<int32_t>(kind), id, nullptr, &t));
        return t ? t : "";
    }
    // The id of `code`, or nullopt when the vocabulary does not hold it.
    std::optional<int32_t> id(Kind kind, const std::string &code) const {
        int32_t i = -1;
        detail::check(leader_model_code_id(get(), static_cast<int32_t>(kind), code.c_str(), &i));
        return i >= 0 ? std::optional<int32_t>(i) : std::nullopt;
    }
    // leader_model_info_json: config, vocabularies, profile fields, thresholds, metrics, provenance.
    std::string info_json() const {
        const char *j = nullptr;
        detail::check(leader_model_info_json(get(), &j));
        return j ? j : "";
    }

    inline Session session(const std::string &options_json = "") const;

    const leader_model *get() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(leader_model *m) const noexcept { leader_model_free(m); }
    };
    explicit Model(leader_model *m) : handle_(m) {}
    std::unique_ptr<leader_model, Free> handle_;
};

// Per-thread serving state of one model. Use from one thread at a time.
class Session {
public:
    // options_json: see leader_session_create ("threads", "precision", "historyVisits"); "" = defaults.
    explicit Session(const Model &model, const std::string &options_json = "") {
        leader_session *s = nullptr;
        detail::check(leader_session_create(model.get(), options_json.c_str(), &s));
        handle_.reset(s);
        medications_ = model.vocabulary_size(Kind::medication);
    }

    int64_t medications() const noexcept { return medications_; }

    // The medications to give: score >= threshold, best first, at most top_k (0: no limit; threshold 0: plain
    // top-k; LEADER_THRESHOLD_DEFAULT: the checkpoint's). unknown (optional): positions of the unknown inputs.
    std::vector<Recommendation> recommend(const Patient &patient, int32_t top_k = 0,
                                          float threshold = LEADER_THRESHOLD_DEFAULT,
                                          std::vector<int64_t> *unknown = nullptr) {
        const detail::Flat f({&patient});
        int64_t capacity = std::max<int64_t>(1, top_k > 0 ? std::min<int64_t>(top_k, medications_) : medications_);
        std::vector<int64_t> unknown_positions(static_cast<std::size_t>(std::max<int64_t>(1, f.n_inputs())));
        for (int attempt = 0;; attempt++) {
            std::vector<int32_t> ids(static_cast<std::size_t>(capacity));
            std::vector<float> scores(ids.size());
            std::vector<const char *> codes(ids.size());
            int64_t n = 0, n_unknown = 0;
            const leader_status st = leader_session_recommend(
                get(), f.n_visits(), f.diagnosis_offsets.data(), f.data(f.diagnoses), f.procedure_offsets.data(),
                f.data(f.procedures), f.medication_offsets.data(), f.data(f.medications), f.n_profile(),
                f.data(f.keys), f.data(f.values), top_k, threshold, ids.data(), scores.data(), codes.data(), capacity,
                &n, unknown_positions.data(), static_cast<int64_t>(unknown_positions.size()), &n_unknown);
            if (st == LEADER_ERR_BUFFER_TOO_SMALL && attempt == 0 && n > capacity) {
                capacity = n;  // cannot happen with capacity = all medications, but the contract allows it
                continue;
            }
            detail::check(st);
            std::vector<Recommendation> out;
            out.reserve(static_cast<std::size_t>(n));
            for (int64_t i = 0; i < n; i++) out.push_back({ids[i], scores[i], codes[i] ? codes[i] : ""});
            if (unknown) {
                const auto kept = std::min<int64_t>(n_unknown, static_cast<int64_t>(unknown_positions.size()));
                unknown->assign(unknown_positions.begin(), unknown_positions.begin() + kept);
            }
            return out;
        }
    }

    // Every medication's score for each patient: patients.size() x medications(), row-major; each row bitwise
    // equal to scoring that patient alone. n_unknown (optional): unknown inputs over all patients.
    std::vector<float> score_batch(const std::vector<Patient> &patients, int64_t *n_unknown = nullptr) {
        std::vector<const Patient *> ps;
        ps.reserve(patients.size());
        for (const Patient &p : patients) ps.push_back(&p);
        const detail::Flat f(ps);
        const auto n_patients = static_cast<int64_t>(patients.size());
        if (medications_ > 0 && n_patients > std::numeric_limits<int64_t>::max() / medications_)
            throw std::length_error("leader: score_batch output too large");
        std::vector<float> scores(static_cast<std::size_t>(std::max<int64_t>(1, n_patients * medications_)));
        int64_t unknown = 0;
        detail::check(leader_session_score_batch(
            get(), n_patients, f.visit_offsets.data(), f.diagnosis_offsets.data(), f.data(f.diagnoses),
            f.procedure_offsets.data(), f.data(f.procedures), f.medication_offsets.data(), f.data(f.medications),
            f.profile_offsets.data(), f.data(f.keys), f.data(f.values), scores.data(),
            static_cast<int64_t>(scores.size()), &unknown));
        scores.resize(static_cast<std::size_t>(n_patients * medications_));
        if (n_unknown) *n_unknown = unknown;
        return scores;
    }

    // Why medication `medication_id`: each known input's contribution by occlusion, largest first.
    // score (optional): the patient's score for the medication.
    std::vector<Contribution> explain(const Patient &patient, int32_t medication_id, float *score = nullptr) {
        const detail::Flat f({&patient});
        int64_t capacity = std::max<int64_t>(1, f.n_inputs());  // at most one per input
        for (int attempt = 0;; attempt++) {
            std::vector<int64_t> positions(static_cast<std::size_t>(capacity));
            std::vector<float> contributions(positions.size());
            int64_t n = 0;
            const leader_status st = leader_session_explain(
                get(), f.n_visits(), f.diagnosis_offsets.data(), f.data(f.diagnoses), f.procedure_offsets.data(),
                f.data(f.procedures), f.medication_offsets.data(), f.data(f.medications), f.n_profile(),
                f.data(f.keys), f.data(f.values), medication_id, score, positions.data(), contributions.data(),
                capacity, &n);
            if (st == LEADER_ERR_BUFFER_TOO_SMALL && attempt == 0 && n > capacity) {
                capacity = n;
                continue;
            }
            detail::check(st);
            std::vector<Contribution> out;
            out.reserve(static_cast<std::size_t>(n));
            for (int64_t i = 0; i < n; i++) {
                auto what = f.describe(positions[i]);
                out.push_back({positions[i], contributions[i], what.first, std::move(what.second)});
            }
            return out;
        }
    }

    leader_session *get() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(leader_session *s) const noexcept { leader_session_free(s); }
    };
    std::unique_ptr<leader_session, Free> handle_;
    int64_t medications_ = 0;
};

inline Session Model::session(const std::string &options_json) const { return Session(*this, options_json); }

// One training / preparation / evaluation job (leader_trainer_create; the JSON of leader.h).
class Trainer {
public:
    // Called with each progress event (JSON) on the thread that runs the job; return false to cancel.
    using Progress = std::function<bool(const std::string &event_json)>;

    explicit Trainer(const std::string &config_json) {
        leader_trainer *t = nullptr;
        detail::check(leader_trainer_create(config_json.c_str(), &t));
        handle_.reset(t);
    }

    // Runs the job; returns its result JSON. Cancelling throws Error(LEADER_ERR_CANCELLED); an exception thrown by
    // `progress` cancels the job and is rethrown here (it never crosses the C library).
    std::string run(const Progress &progress = {}) {
        struct Context {
            const Progress *progress;
            std::exception_ptr error;
        } context{&progress, nullptr};
        leader_progress_fn trampoline = [](const char *event_json, void *user_data) -> int32_t {
            auto *c = static_cast<Context *>(user_data);
            try {
                return (*c->progress)(event_json ? event_json : "") ? 0 : 1;
            } catch (...) {
                c->error = std::current_exception();
                return 1;
            }
        };
        const leader_status st =
            leader_trainer_run(get(), progress ? trampoline : nullptr, progress ? &context : nullptr);
        if (context.error) std::rethrow_exception(context.error);
        detail::check(st);
        return result_json();
    }

    std::string result_json() const {
        const char *j = nullptr;
        detail::check(leader_trainer_result_json(get(), &j));
        return j ? j : "";
    }

    leader_trainer *get() const noexcept { return handle_.get(); }

private:
    struct Free {
        void operator()(leader_trainer *t) const noexcept { leader_trainer_free(t); }
    };
    std::unique_ptr<leader_trainer, Free> handle_;
};

// A JSON string literal of `s` (for building job descriptions with paths).
inline std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                static const char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

}  // namespace leader

#endif  // LEADER_HPP
