// Threading: a small pool of worker threads that sleep when idle (so they never steal cycles
// from OpenBLAS's own threads, as spinning OpenMP workers do). The thread count is set once per
// process (`--threads`) and never changes a result: work is split into contiguous static
// chunks, and kernels must not make an element's value depend on which chunk computed it.
#pragma once

#include <cstdint>
#include <functional>

namespace aimc {

int num_threads();
void set_num_threads(int threads);  // <= 0: every core; at most max_threads()
// The most threads aimc runs: 4 x the hardware threads, at most 256.
int max_threads();

// Runs range_body(first, last) over a static split of [begin, end) into at most
// num_threads() contiguous chunks of at least `grain` iterations; returns when all are done.
// Called from inside a worker it runs serially. The first exception thrown by a chunk is
// rethrown here after every chunk has finished.
void parallel_for_ranges(int64_t begin, int64_t end, int64_t grain,
                         const std::function<void(int64_t, int64_t)>& range_body);

// Calls body(i) for i in [begin, end), in chunks of at least `grain` iterations.
template <typename Body>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const Body& body) {
  if (end - begin <= 0) return;
  if (end - begin <= grain || num_threads() <= 1) {
    for (int64_t i = begin; i < end; ++i) body(i);
    return;
  }
  parallel_for_ranges(begin, end, grain, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) body(i);
  });
}

}  // namespace aimc
