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

namespace detail {

// Marsaglia & Tsang's 128-layer ziggurat for the standard normal ("The ziggurat method for
// generating random variables", J. Stat. Softw. 5(8), 2000): layer i covers |x| < k[i]·w[i]
// with a 31-bit magnitude; f[i] = exp(-x_i²/2) at the layer's outer edge.
struct ZigguratTables {
  uint32_t k[128];
  double w[128];
  double f[128];
};

inline ZigguratTables make_ziggurat_tables() {
  ZigguratTables t{};
  const double m1 = 2147483648.0;  // 2^31
  double dn = 3.442619855899, tn = dn;
  const double vn = 9.91256303526217e-3;  // area of each layer
  const double q = vn / std::exp(-0.5 * dn * dn);
  t.k[0] = static_cast<uint32_t>((dn / q) * m1);
  t.k[1] = 0;
  t.w[0] = q / m1;
  t.w[127] = dn / m1;
  t.f[0] = 1.0;
  t.f[127] = std::exp(-0.5 * dn * dn);
  for (int i = 126; i >= 1; --i) {
    dn = std::sqrt(-2.0 * std::log(vn / dn + std::exp(-0.5 * dn * dn)));
    t.k[i + 1] = static_cast<uint32_t>((dn / tn) * m1);
    tn = dn;
    t.f[i] = std::exp(-0.5 * dn * dn);
    t.w[i] = dn / m1;
  }
  return t;
}

inline const ZigguratTables& ziggurat_tables() {
  static const ZigguratTables tables = make_ziggurat_tables();
  return tables;
}

}  // namespace detail

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

  // A second, faster standard normal sequence (not the same values as normal(i)): element i
  // is a pure function of i, drawn by the ziggurat from block i/3: word i%3 is its signed
  // 32-bit magnitude, bits [7·(i%3), 7·(i%3) + 7) of word 3 its layer (independent bits).
  // The ~1 % of draws that fall outside the layers' rectangles take further words from the
  // blocks with counter (i/3, attempt, 1 + i%3), attempt = 1, 2, ..., never used elsewhere.
  double fast_normal(uint64_t i) const {
    const uint64_t group = i / 3;
    const auto lane = static_cast<int>(i - group * 3);
    const PhiloxBlock b = block(group);
    return ziggurat(group, lane, b[lane], b[3] >> (7 * lane), detail::ziggurat_tables());
  }
  // out[j] = fast_normal(first + j) for j in [0, count), one Philox block per three values.
  // The blocks are computed kLanes at a time on vectors, so that Philox's multiplies
  // vectorise; callers compiled for AVX2 (target_clones) get four lanes per instruction.
  [[gnu::always_inline]] inline void fill_fast_normal(uint64_t first, int64_t count,
                                                      double* out) const {
    const detail::ZigguratTables& tables = detail::ziggurat_tables();
    int64_t j = 0;
    for (; j < count && (first + j) % 3 != 0; ++j) out[j] = fast_normal(first + j);
    uint32_t words[4][kLanes];
    while (count - j >= 3) {
      const uint64_t group = (first + j) / 3;
      const int64_t groups = std::min<int64_t>(kLanes, (count - j) / 3);
      blocks(group, words);
      for (int64_t l = 0; l < groups; ++l)
        for (int lane = 0; lane < 3; ++lane)
          out[j + 3 * l + lane] =
              ziggurat(group + l, lane, words[lane][l], words[3][l] >> (7 * lane), tables);
      j += 3 * groups;
    }
    for (; j < count; ++j) out[j] = fast_normal(first + j);
  }

 private:
  static constexpr int kLanes = 16;
  // words[w][l] = block(first + l)[w] for l in [0, kLanes): philox4x32_10 on vectors of four
  // 64-bit lanes holding 32-bit words, so that each 32x32->64 multiply is one vpmuludq (AVX2)
  // or two pmuludq (SSE2).
  [[gnu::always_inline]] inline void blocks(uint64_t first, uint32_t (&words)[4][kLanes]) const {
    using Lanes = uint64_t __attribute__((vector_size(32)));
    constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
    constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
    constexpr uint64_t kLow = 0xFFFFFFFFu;
    for (int group = 0; group < kLanes / 4; ++group) {
      Lanes c0, c1, c2 = {0, 0, 0, 0}, c3 = {0, 0, 0, 0};
      for (int l = 0; l < 4; ++l) {
        const uint64_t i = first + group * 4 + l;
        c0[l] = i & kLow;
        c1[l] = i >> 32;
      }
      uint64_t k0 = key_ & kLow, k1 = key_ >> 32;
      for (int round = 0; round < 10; ++round) {
        const Lanes p0 = (c0 & kLow) * kMul0, p1 = (c2 & kLow) * kMul1;
        c0 = (p1 >> 32) ^ c1 ^ k0;
        c2 = (p0 >> 32) ^ c3 ^ k1;
        c1 = p1 & kLow;
        c3 = p0 & kLow;
        k0 = (k0 + kWeyl0) & kLow;
        k1 = (k1 + kWeyl1) & kLow;
      }
      for (int l = 0; l < 4; ++l) {
        words[0][group * 4 + l] = static_cast<uint32_t>(c0[l]);
        words[1][group * 4 + l] = static_cast<uint32_t>(c1[l]);
        words[2][group * 4 + l] = static_cast<uint32_t>(c2[l]);
        words[3][group * 4 + l] = static_cast<uint32_t>(c3[l]);
      }
    }
  }
  // The ziggurat draw from a signed magnitude word and a layer word (Marsaglia & Tsang's RNOR
  // and nfix, in double precision).
  [[gnu::always_inline]] inline double ziggurat(uint64_t group, int lane, uint32_t magnitude_word,
                                                uint32_t layer_word,
                                                const detail::ZigguratTables& t) const {
    auto hz = static_cast<int32_t>(magnitude_word);
    uint32_t iz = layer_word & 127u;
    auto magnitude = [](int32_t v) {
      return v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);
    };
    if (magnitude(hz) < t.k[iz]) return hz * t.w[iz];
    return ziggurat_outside(group, lane, hz, iz, t);
  }
  // The rest of the draw when (hz, iz) falls outside its layer's rectangle (about 1 %).
  [[gnu::noinline]] double ziggurat_outside(uint64_t group, int lane, int32_t hz, uint32_t iz,
                                            const detail::ZigguratTables& t) const {
    auto magnitude = [](int32_t v) {
      return v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);
    };
    constexpr double kTail = 3.442619855899;  // r, the start of the base layer's tail
    for (uint32_t attempt = 1;; ++attempt) {
      const PhiloxBlock b =
          philox4x32_10({static_cast<uint32_t>(group), static_cast<uint32_t>(group >> 32), attempt,
                         1u + static_cast<uint32_t>(lane)},
                        key_);
      const double x = hz * t.w[iz];
      if (iz == 0) {  // the tail |x| > r, by Marsaglia's exponential rejection
        const double tail = -std::log(to_unit(b[0], b[1])) / kTail;
        const double y = -std::log(to_unit(b[2], b[3]));
        if (y + y >= tail * tail) return hz > 0 ? kTail + tail : -kTail - tail;
        continue;  // same hz and layer, next block
      }
      if (t.f[iz] + to_unit(b[0], b[1]) * (t.f[iz - 1] - t.f[iz]) < std::exp(-0.5 * x * x))
        return x;
      hz = static_cast<int32_t>(b[2]);
      iz = b[3] & 127u;
      if (magnitude(hz) < t.k[iz]) return hz * t.w[iz];
    }
  }
  static double to_unit(uint32_t lo, uint32_t hi) {
    uint64_t bits = ((uint64_t{hi} << 32) | lo) >> 11;  // 53 random bits
    return (static_cast<double>(bits) + 0.5) * (1.0 / 9007199254740992.0);
  }
  uint64_t key_;
};

}  // namespace aimc
