// Unit tests of the pool that splits one call over threads (src/runtime/):
// the ranges a call is cut into depend only on the task count and the thread
// count, every task runs exactly once whichever thread claims its range, and
// an exception from any range reaches the caller and leaves the pool usable.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "runtime/thread_pool.hpp"

namespace {

using Range = std::pair<int64_t, int64_t>;

// The ranges parallel_for(n, threads) must use: `parts` equal cuts of [0, n).
std::vector<Range> expected_ranges(int64_t n, int threads) {
  const int64_t parts = std::min<int64_t>({threads, conv1d::available_cores(), n});
  std::vector<Range> ranges;
  for (int64_t p = 0; p < parts; ++p) ranges.emplace_back(n * p / parts, n * (p + 1) / parts);
  return ranges;
}

}  // namespace

TEST_CASE("thread pool: fixed ranges, each task exactly once, whoever runs them", "[pool]") {
  for (int threads : {1, 2, 3, 8}) {
    for (int64_t n : {1, 2, 3, 5, 7, 64, 1001}) {
      // Repeated: which thread claims which range varies from call to call.
      for (int rep = 0; rep < 40; ++rep) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::mutex m;
        std::vector<Range> ranges;
        conv1d::parallel_for(n, threads, [&](int64_t b, int64_t e) {
          {
            std::lock_guard<std::mutex> lock(m);
            ranges.emplace_back(b, e);
          }
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
        std::sort(ranges.begin(), ranges.end());
        INFO("threads " << threads << ", tasks " << n << ", call " << rep);
        REQUIRE(ranges == expected_ranges(n, threads));
        for (const auto& h : hits) REQUIRE(h.load() == 1);
      }
    }
  }
}

TEST_CASE("thread pool: no tasks, no call", "[pool]") {
  int calls = 0;
  conv1d::parallel_for(0, 2, [&](int64_t, int64_t) { ++calls; });
  REQUIRE(calls == 0);
}

TEST_CASE("thread pool: an exception from any range reaches the caller; the pool stays usable", "[pool]") {
  const int64_t n = 100;
  for (int64_t bad : {int64_t{0}, int64_t{99}}) {  // the caller's first range, and the last
    std::atomic<int64_t> done{0};
    REQUIRE_THROWS_WITH(conv1d::parallel_for(n, 2,
                                             [&](int64_t b, int64_t e) {
                                               if (b <= bad && bad < e) throw std::runtime_error("range failed");
                                               done.fetch_add(e - b);
                                             }),
                        "range failed");
    // The other range still ran to its end before the call returned.
    REQUIRE(done.load() == (conv1d::available_cores() > 1 ? n / 2 : 0));
  }
  std::atomic<int64_t> sum{0};
  conv1d::parallel_for(n, 2, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
  });
  REQUIRE(sum.load() == n * (n - 1) / 2);
}
