// Integer helpers shared by the modules that cut work or hardware into blocks.
#pragma once

#include <cstdint>

namespace aimc {

// ceil(a / b) for a >= 0, b > 0.
constexpr int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace aimc
