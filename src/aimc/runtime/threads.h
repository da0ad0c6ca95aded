// One place that sets how many threads aimc uses (its own pool and OpenBLAS alike).
#pragma once

namespace aimc::runtime {

// threads <= 0: every core. Results never depend on this number.
void set_threads(int threads);

}  // namespace aimc::runtime
