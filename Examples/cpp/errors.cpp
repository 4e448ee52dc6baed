// A C++ host of libleader: the C header used from C++17, errors turned into exceptions with RAII-free code.
// Build: c++ -std=c++17 -Wall -Wextra -Werror -Iinclude errors.cpp -L<dir> -lleader -Wl,-rpath,<dir>
#include <leader.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
void check(leader_status st) {
    if (st != LEADER_OK) throw std::runtime_error(std::string(leader_status_string(st)) + ": " + leader_last_error());
}
}  // namespace

int main() {
    std::vector<float> a(4 * 5, 1.0f), b(5 * 3, 2.0f), c(4 * 3, 0.0f);
    check(leader_sgemm(4, 3, 5, 1.0f, a.data(), 5, b.data(), 3, 0.0f, c.data(), 3, 0));
    for (float v : c)
        if (v != 10.0f) { std::fprintf(stderr, "FAIL: wrong product %f\n", v); return 1; }
    try {
        check(leader_sgemm(4, 3, 5, 1.0f, a.data(), 2, b.data(), 3, 0.0f, c.data(), 3, 0));  // lda < k
        std::fprintf(stderr, "FAIL: no exception for lda < k\n");
        return 1;
    } catch (const std::runtime_error &e) {
        std::printf("caught: %s\n", e.what());
    }
    std::printf("all C++ host checks passed\n");
    return 0;
}
