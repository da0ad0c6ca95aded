#include "aimc/runtime/threads.h"

#include <cblas.h>

#include "aimc/core/parallel.h"

namespace aimc::runtime {

void set_threads(int threads) {
  set_num_threads(threads);
  // OpenBLAS's results depend on its thread count: it runs single-threaded and our pool
  // spreads the GEMM tiles (runtime/kernels_linalg.cpp).
  openblas_set_num_threads(1);
}

}  // namespace aimc::runtime
