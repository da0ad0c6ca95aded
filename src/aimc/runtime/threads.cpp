#include "aimc/runtime/threads.h"

#include <cblas.h>

#include "aimc/core/parallel.h"

namespace aimc::runtime {

void set_threads(int threads) {
  set_num_threads(threads);
  openblas_set_num_threads(num_threads());
}

}  // namespace aimc::runtime
