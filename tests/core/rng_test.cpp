#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"

namespace aimc {
namespace {

// Known-answer tests from the Random123 distribution (kat_vectors, philox4x32_10).
TEST(Philox, MatchesRandom123KnownAnswers) {
  PhiloxBlock zero = philox4x32_10({0, 0, 0, 0}, 0);
  EXPECT_EQ(zero, (PhiloxBlock{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  PhiloxBlock ones =
      philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, 0xffffffffffffffffull);
  EXPECT_EQ(ones, (PhiloxBlock{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  PhiloxBlock pi = philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                                 (uint64_t{0x299f31d0u} << 32) | 0xa4093822u);
  EXPECT_EQ(pi, (PhiloxBlock{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(RngStream, SameKeySameValuesDifferentKeysDiffer) {
  RngStream a(7, 0, "layer1", "programming");
  RngStream b(7, 0, "layer1", "programming");
  RngStream c(7, 1, "layer1", "programming");
  RngStream d(7, 0, "layer2", "programming");
  RngStream e(7, 0, "layer1", "read");
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(a.normal(i), b.normal(i));
  std::set<uint64_t> keys{a.key(), c.key(), d.key(), e.key()};
  EXPECT_EQ(keys.size(), 4u);
}

TEST(RngStream, UniformAndNormalMomentsMatchTheirDistributions) {
  RngStream s(123, 0, "n", "p");
  const int n = 200000;
  double sum_u = 0, sum_n = 0, sum_n2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = s.uniform(static_cast<uint64_t>(i));
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum_u += u;
    double z = s.normal(static_cast<uint64_t>(i));
    sum_n += z;
    sum_n2 += z * z;
  }
  // 5 standard errors: mean of U(0,1) has sd sqrt(1/12/n); mean of N(0,1) sd 1/sqrt(n);
  // the sample variance of N(0,1) has sd sqrt(2/n).
  EXPECT_NEAR(sum_u / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(sum_n / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sum_n2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}

TEST(RngStream, ValuesDoNotDependOnThreadCount) {
  RngStream s(99, 3, "x", "y");
  std::vector<double> one(10000), two(10000);
  set_num_threads(1);
  parallel_for(0, 10000, 1, [&](int64_t i) { one[i] = s.normal(static_cast<uint64_t>(i)); });
  set_num_threads(2);
  parallel_for(0, 10000, 1, [&](int64_t i) { two[i] = s.normal(static_cast<uint64_t>(i)); });
  EXPECT_EQ(one, two);
}

// The fast (inversion) sequence against the normal CDF: 40 bins over [-5, 5] plus both tails
// (each count within 5 binomial standard errors), the moments up to the fourth, and the bulk
// fill equal to the per-index function from aligned and unaligned starts.
TEST(RngStream, FastNormalMatchesTheNormalDistribution) {
  RngStream s(5, 2, "n", "fast");
  const int64_t n = 4000000;
  std::vector<float> z(n);
  s.fill_fast_normal(0, n, z.data());
  auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  std::vector<double> edges{-1e300};
  for (int b = 0; b <= 40; ++b) edges.push_back(-5.0 + 0.25 * b);
  edges.push_back(1e300);
  std::vector<int64_t> counts(edges.size() - 1, 0);
  double sum = 0, sum2 = 0, sum4 = 0;
  for (double v : z) {
    auto bin = std::upper_bound(edges.begin(), edges.end(), v) - edges.begin() - 1;
    ++counts[bin];
    sum += v;
    sum2 += v * v;
    sum4 += v * v * v * v;
  }
  for (size_t b = 0; b < counts.size(); ++b) {
    const double p = cdf(edges[b + 1]) - cdf(edges[b]);
    EXPECT_NEAR(counts[b], n * p, 5 * std::sqrt(n * p * (1 - p)) + 1) << "bin " << b;
  }
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(sum2 / n, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(sum4 / n, 3.0, 5 * std::sqrt(96.0 / n));  // Var(z^4) = 105 - 9
  for (uint64_t first : {0ull, 7ull, 32ull, 1000001ull}) {
    std::vector<float> bulk(101);
    s.fill_fast_normal(first, 101, bulk.data());
    for (int j = 0; j < 101; ++j) EXPECT_EQ(bulk[j], s.fast_normal(first + j)) << first + j;
  }
  EXPECT_EQ(z[12345], s.fast_normal(12345));
}

// The inversion against the exact quantile Φ⁻¹(u), u = (2⌊word/2⌋ + 1)/2^32 (the 31 bits the
// generator uses): within 2e-6 for |z| <= 4.5 (Giles' approximation is good to ~4e-7
// relative; float rounding adds the rest), checked on words reached through the stream's own
// blocks, whose layout (element 32g + 8w + l = word w of block 8g + l) this also pins down.
TEST(RngStream, FastNormalIsTheNormalQuantileOfItsPhiloxWord) {
  RngStream s(11, 0, "q", "quantile");
  auto quantile = [](double u) {  // bisection on the CDF, to 1e-12
    double lo = -40, hi = 40;
    for (int i = 0; i < 100; ++i) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < u ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  double worst = 0;
  for (uint64_t i = 0; i < 20000; ++i) {
    const uint64_t group = i / 32, w = (i % 32) / 8, l = i % 8;
    const uint32_t word = s.block(group * 8 + l)[w];
    const double u = (2.0 * (word >> 1) + 1.0) / 4294967296.0;
    const double exact = quantile(u);
    if (std::abs(exact) > 4.5) continue;
    worst = std::max(worst, std::abs(s.fast_normal(i) - exact));
  }
  EXPECT_LT(worst, 2e-6);
}

}  // namespace
}  // namespace aimc
