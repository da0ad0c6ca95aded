#include "aimc/core/parallel.h"

#include <omp.h>

namespace aimc {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  omp_set_num_threads(threads);
}

}  // namespace aimc
