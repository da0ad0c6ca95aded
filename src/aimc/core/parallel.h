// Threading. aimc parallelises with OpenMP; the thread count is set once per process
// (`--threads` or OMP_NUM_THREADS) and never changes a result.
#pragma once

#include <cstdint>

namespace aimc {

int num_threads();
void set_num_threads(int threads);  // <= 0: use every core

// Calls body(i) for i in [begin, end) on the thread pool, in chunks of at least `grain`
// iterations. body must not depend on which thread runs it.
template <typename Body>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const Body& body) {
  int64_t n = end - begin;
  if (n <= 0) return;
  if (n <= grain || num_threads() <= 1) {
    for (int64_t i = begin; i < end; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = begin; i < end; ++i) body(i);
}

}  // namespace aimc
