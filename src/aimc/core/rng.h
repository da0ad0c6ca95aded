// Counter-based random numbers (Philox4x32-10, Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011). A value is a pure function of (key, counter): there is no
// state to share between threads, so results never depend on the thread count or on the
// order in which elements are visited.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace aimc {

using PhiloxBlock = std::array<uint32_t, 4>;

// One Philox4x32-10 block: four 32-bit words for the 128-bit counter under the 64-bit key.
constexpr PhiloxBlock philox4x32_10(PhiloxBlock counter, uint64_t key) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  auto k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t{kMul0} * counter[0];
    uint64_t p1 = uint64_t{kMul1} * counter[2];
    counter = {static_cast<uint32_t>(p1 >> 32) ^ counter[1] ^ k0, static_cast<uint32_t>(p1),
               static_cast<uint32_t>(p0 >> 32) ^ counter[3] ^ k1, static_cast<uint32_t>(p0)};
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return counter;
}

// 64-bit mixing (SplitMix64 finaliser) used to derive stream keys from several fields.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr uint64_t hash_string(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001B3ull;
  return h;
}

// A stream of random numbers identified by (seed, trial, node, purpose). Element i of the
// stream is the same whoever asks for it and in whatever order.
class RngStream {
 public:
  RngStream(uint64_t seed, uint64_t trial, std::string_view node, std::string_view purpose)
      : key_(mix64(mix64(mix64(seed) ^ trial) ^ hash_string(node)) ^ hash_string(purpose)) {}
  explicit RngStream(uint64_t key) : key_(key) {}

  uint64_t key() const { return key_; }

  // Four independent 32-bit words for index i.
  PhiloxBlock block(uint64_t i) const {
    return philox4x32_10({static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32), 0u, 0u}, key_);
  }
  // Uniform in (0, 1) for index i (never exactly 0 or 1).
  double uniform(uint64_t i) const {
    PhiloxBlock b = block(i);
    return to_unit(b[0], b[1]);
  }
  // Standard normal for index i (Box-Muller on the block's two 64-bit uniforms).
  double normal(uint64_t i) const {
    PhiloxBlock b = block(i);
    double u1 = to_unit(b[0], b[1]);
    double u2 = to_unit(b[2], b[3]);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
  }

  // A second, faster standard normal sequence in float (not the same values as normal(i)),
  // by inversion of Philox words (core/rng.cpp). Values come in groups of 32:
  // element i = 32g + 8w + l is word w of block 8g + l, so that eight blocks computed side
  // by side fill one group without a transpose. A pure function of i, like the rest.
  float fast_normal(uint64_t i) const;
  // out[j] = fast_normal(first + j) for j in [0, count), on AVX2 where the CPU has it (the
  // values are the same either way: the inversion is plain arithmetic in both builds).
  void fill_fast_normal(uint64_t first, int64_t count, float* out) const;

 private:
  static double to_unit(uint32_t lo, uint32_t hi) {
    uint64_t bits = ((uint64_t{hi} << 32) | lo) >> 11;  // 53 random bits
    return (static_cast<double>(bits) + 0.5) * (1.0 / 9007199254740992.0);
  }
  uint64_t key_;
};

}  // namespace aimc
