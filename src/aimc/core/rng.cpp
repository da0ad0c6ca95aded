// The fast normal sequence of RngStream (rng.h): Philox4x32-10 words turned into normals by
// inversion, eight blocks side by side. Two builds of the bulk loop: AVX2 (Philox's 32x32->64
// multiplies as vpmuludq, which GCC's generic vectors cannot express) and a generic one; the
// inversion is the same plain arithmetic in both (no FMA contraction: neither target has
// FMA), so they give identical values.
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "aimc/core/rng.h"

// Every vector helper here is inlined: the ABI of passing 32-byte vectors (GCC's -Wpsabi
// note) never applies.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace aimc {

namespace {

// Eight float lanes and their bit patterns, as GCC vector extensions: the same source gives
// AVX2 code in the function compiled for it and SSE2 code in the generic one, with the
// same operations in the same order, so both give bit-identical results.
using Floats8 = float __attribute__((vector_size(32)));
using Ints8 = int32_t __attribute__((vector_size(32)));

// The helpers below work on kVectors independent vectors at once, step by step, so that
// their long dependency chains (a division, two polynomials, Newton steps) interleave.
constexpr int kVectors = 4;
using FloatVectors = Floats8[kVectors];
#define AIMC_EACH_VECTOR _Pragma("GCC unroll 4") for (int v = 0; v < kVectors; ++v)

// ln(x) for finite x > 0 of normal range: x = 2^e·m, m in [sqrt(1/2), sqrt(2)), and
// ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716, by its series to s^9 (truncation
// below 3e-9 relative). Plain arithmetic, so that every build rounds it alike.
[[gnu::always_inline]] inline void log_positive(const FloatVectors& x, FloatVectors& out) {
  Floats8 m[kVectors], e[kVectors], s[kVectors], s2[kVectors], series[kVectors];
  AIMC_EACH_VECTOR {
    const Ints8 bits = std::bit_cast<Ints8>(x[v]);
    Ints8 exponent = ((bits >> 23) & 0xFF) - 127;
    m[v] = std::bit_cast<Floats8>((bits & 0x7FFFFF) | 0x3F800000);
    const Ints8 above = m[v] > Floats8{} + 1.41421356f;  // -1 where true
    m[v] = above ? m[v] * 0.5f : m[v];
    exponent -= above;
    e[v] = __builtin_convertvector(exponent, Floats8);
  }
  AIMC_EACH_VECTOR s[v] = (m[v] - 1.0f) / (m[v] + 1.0f);
  AIMC_EACH_VECTOR s2[v] = s[v] * s[v];
  AIMC_EACH_VECTOR series[v] = 1.0f / 7 + s2[v] * (1.0f / 9);
  AIMC_EACH_VECTOR series[v] = 1.0f / 5 + s2[v] * series[v];
  AIMC_EACH_VECTOR series[v] = 1.0f / 3 + s2[v] * series[v];
  AIMC_EACH_VECTOR series[v] = 1.0f + s2[v] * series[v];
  AIMC_EACH_VECTOR out[v] =
      e[v] * 0.693145752f + (e[v] * 1.42860677e-06f + 2.0f * s[v] * series[v]);
}

// Horner's rule, c[0] the highest coefficient, on every vector.
template <size_t kTerms>
[[gnu::always_inline]] inline void polynomial(const float (&c)[kTerms], const FloatVectors& x,
                                              FloatVectors& out) {
  AIMC_EACH_VECTOR out[v] = Floats8{} + c[0];
  for (size_t i = 1; i < kTerms; ++i) AIMC_EACH_VECTOR out[v] = c[i] + out[v] * x[v];
}

// Standard normals from 32-bit uniform words by inversion: z = sqrt(2) erfinv(2u - 1) with
// u = (word + 1/2)/2^32, and erfinv by M. Giles' single-precision approximation
// ("Approximating the erfinv function", GPU Computing Gems Jade Edition, 2011, Fig. 2;
// relative error below 4e-7). u and 1 - u are each formed with full relative precision so
// that both tails keep their resolution: the word and its complement give z and -z exactly,
// and the extreme draws are |z| = 6.23 (u = 2^-33).
[[gnu::always_inline]] inline void normals_from_words(const Ints8 (&words)[kVectors],
                                                      FloatVectors& z) {
  constexpr float kCentral[] = {2.81022636e-08f,  3.43273939e-07f, -3.5233877e-06f,
                                -4.39150654e-06f, 0.00021858087f,  -0.00125372503f,
                                -0.00417768164f,  0.246640727f,    1.50140941f};
  constexpr float kTail[] = {-0.000200214257f, 0.000100950558f, 0.00134934322f,
                             -0.00367342844f,  0.00573950773f,  -0.0076224613f,
                             0.00943887047f,   1.00167406f,     2.83297682f};
  Floats8 x[kVectors], product[kVectors], w[kVectors], shifted[kVectors], p[kVectors], q[kVectors],
      y[kVectors];
  Ints8 central[kVectors];
  AIMC_EACH_VECTOR {
    const Ints8 low = (words[v] >> 1) & 0x7FFFFFFF, high = (~words[v] >> 1) & 0x7FFFFFFF;
    const Floats8 u = __builtin_convertvector(low, Floats8) * 4.65661287e-10f + 2.32830644e-10f;
    const Floats8 one_minus_u =
        __builtin_convertvector(high, Floats8) * 4.65661287e-10f + 2.32830644e-10f;
    x[v] = u - one_minus_u;               // 2u - 1
    product[v] = 4.0f * u * one_minus_u;  // 1 - x²
  }
  log_positive(product, w);
  AIMC_EACH_VECTOR w[v] = -w[v];  // in [0, 22.2]
  AIMC_EACH_VECTOR shifted[v] = w[v] - 2.5f;
  polynomial(kCentral, shifted, p);  // w < 5
  Ints8 all_central = Ints8{} - 1;
  AIMC_EACH_VECTOR {
    central[v] = w[v] < Floats8{} + 5.0f;
    all_central &= central[v];
  }
  bool tail = false;  // any lane in the tail: 2.7 % of vectors of eight
  for (int l = 0; l < 8; ++l) tail |= all_central[l] == 0;
  if (!tail) {
    AIMC_EACH_VECTOR z[v] = 1.41421356f * p[v] * x[v];
    return;
  }
  // The tail branch (w >= 5) needs sqrt(w): Newton's iteration on 1/sqrt(w) from the
  // bit-level estimate (relative error 3.5e-2, then 1.8e-3, 5e-6, 4e-11).
  AIMC_EACH_VECTOR {
    w[v] = central[v] ? Floats8{} + 5.0f : w[v];
    y[v] = std::bit_cast<Floats8>(0x5F375A86 - (std::bit_cast<Ints8>(w[v]) >> 1));
  }
  for (int step = 0; step < 3; ++step)
    AIMC_EACH_VECTOR y[v] = y[v] * (1.5f - 0.5f * w[v] * y[v] * y[v]);
  AIMC_EACH_VECTOR shifted[v] = w[v] * y[v] - 3.0f;
  polynomial(kTail, shifted, q);
  AIMC_EACH_VECTOR z[v] = 1.41421356f * (central[v] ? p[v] : q[v]) * x[v];
}

#undef AIMC_EACH_VECTOR

}  // namespace

namespace {

constexpr int kGroup = 32;  // values per group: 8 blocks x 4 words

// The group g of values: words[w][l] = block(8g + l)[w].
void group_words_generic(const RngStream& stream, uint64_t group, Ints8 (&words)[kVectors]) {
  for (int l = 0; l < 8; ++l) {
    const PhiloxBlock b = stream.block(group * 8 + l);
    for (int w = 0; w < 4; ++w) words[w][l] = static_cast<int32_t>(b[w]);
  }
}

void fill_groups_generic(const RngStream& stream, uint64_t first_group, int64_t groups,
                         float* out) {
  for (int64_t g = 0; g < groups; ++g) {
    Ints8 words[kVectors];
    group_words_generic(stream, first_group + g, words);
    FloatVectors z;
    normals_from_words(words, z);
    for (int w = 0; w < 4; ++w)
      for (int l = 0; l < 8; ++l) out[g * kGroup + 8 * w + l] = z[w][l];
  }
}

// (hi, lo) 32-bit halves of a * m per 32-bit lane.
[[gnu::target("avx2"), gnu::always_inline]] inline void multiply(__m256i a, __m256i m, __m256i& hi,
                                                                 __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Philox4x32-10 on eight blocks per register: the products of the even 32-bit lanes come from
// one vpmuludq, those of the odd lanes from another on the lanes shifted down.
[[gnu::target("avx2")]] void fill_groups_avx2(uint64_t key, uint64_t first_group, int64_t groups,
                                              float* out) {
  const __m256i mul0 = _mm256_set1_epi64x(0xD2511F53u), mul1 = _mm256_set1_epi64x(0xCD9E8D57u);
  __m256i round_key0[10], round_key1[10];
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    round_key0[round] = _mm256_set1_epi32(static_cast<int32_t>(k0));
    round_key1[round] = _mm256_set1_epi32(static_cast<int32_t>(k1));
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  const __m256i lane_offsets = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // Two groups per pass: their Philox rounds are independent chains that interleave.
  constexpr int kPasses = 2;
  for (int64_t g0 = 0; g0 < groups; g0 += kPasses) {
    __m256i c0[kPasses], c1[kPasses], c2[kPasses], c3[kPasses];
    for (int p = 0; p < kPasses; ++p) {
      // Counters (block index low, high, 0, 0); groups are 8-aligned, so the eight blocks of
      // one never cross a 2^32 boundary. A pass past the last group is computed, not stored.
      const uint64_t first_block = (first_group + g0 + p) * 8;
      c0[p] = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(first_block)), lane_offsets);
      c1[p] = _mm256_set1_epi32(static_cast<int32_t>(first_block >> 32));
      c2[p] = _mm256_setzero_si256();
      c3[p] = _mm256_setzero_si256();
    }
    for (int round = 0; round < 10; ++round) {
      for (int p = 0; p < kPasses; ++p) {
        __m256i hi0, lo0, hi1, lo1;
        multiply(c0[p], mul0, hi0, lo0);
        multiply(c2[p], mul1, hi1, lo1);
        c0[p] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[p]), round_key0[round]);
        c2[p] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[p]), round_key1[round]);
        c1[p] = lo1;
        c3[p] = lo0;
      }
    }
    for (int p = 0; p < kPasses && g0 + p < groups; ++p) {
      // memcpy, not std::bit_cast: a call returning a 32-byte vector from a function built
      // without AVX changes the ABI (clang refuses it), and memcpy is the same bytes.
      Ints8 words[kVectors];
      std::memcpy(&words[0], &c0[p], sizeof(Ints8));
      std::memcpy(&words[1], &c1[p], sizeof(Ints8));
      std::memcpy(&words[2], &c2[p], sizeof(Ints8));
      std::memcpy(&words[3], &c3[p], sizeof(Ints8));
      FloatVectors z;
      normals_from_words(words, z);
      for (int w = 0; w < 4; ++w) std::memcpy(out + (g0 + p) * kGroup + 8 * w, &z[w], sizeof(z[w]));
    }
  }
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// Whole groups [first_group, first_group + groups) into out, on AVX2 where the CPU has it.
void fill_groups(const RngStream& stream, uint64_t first_group, int64_t groups, float* out) {
  if (cpu_has_avx2())
    fill_groups_avx2(stream.key(), first_group, groups, out);
  else
    fill_groups_generic(stream, first_group, groups, out);
}

}  // namespace

float RngStream::fast_normal(uint64_t i) const {
  float group[kGroup];
  fill_groups_generic(*this, i / kGroup, 1, group);
  return group[i % kGroup];
}

void RngStream::fill_fast_normal(uint64_t first, int64_t count, float* out) const {
  int64_t j = 0;
  while (j < count) {
    const uint64_t group = (first + j) / kGroup;
    const int64_t offset = static_cast<int64_t>((first + j) % kGroup);
    const int64_t whole = offset == 0 ? (count - j) / kGroup : 0;
    if (whole > 0) {
      fill_groups(*this, group, whole, out + j);
      j += whole * kGroup;
      continue;
    }
    // A group cut by either end of the range: computed once, the part inside copied.
    float values[kGroup];
    fill_groups(*this, group, 1, values);
    const int64_t take = std::min<int64_t>(kGroup - offset, count - j);
    std::copy(values + offset, values + offset + take, out + j);
    j += take;
  }
}

}  // namespace aimc
