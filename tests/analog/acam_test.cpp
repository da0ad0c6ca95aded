// ACAM function units and composites (ANALOG_MODEL.md §3) against plain reference loops: an
// independent synthesis of the quantised table, a linear scan over the programmed rows, and
// float formulas with error bounds derived from the bit widths.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "aimc/analog/acam.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"

namespace aimc::analog {
namespace {

using arch::AcamConfig;
using arch::AcamEncoding;

AcamConfig make_config(int in_bits, int out_bits, AcamEncoding encoding = AcamEncoding::kGray,
                       double threshold_sigma = 0, double input_sigma = 0) {
  AcamConfig config;
  config.in_bits = in_bits;
  config.out_bits = out_bits;
  config.encoding = encoding;
  config.threshold_sigma = threshold_sigma;
  config.input_sigma = input_sigma;
  return config;
}

struct FunctionRange {
  AcamFunction function;
  double lo, hi;
};

const std::vector<FunctionRange> kSensibleRanges = {
    {AcamFunction::kExp, -10, 0},     {AcamFunction::kReciprocal, 0.5, 64},
    {AcamFunction::kRsqrt, 1e-3, 10}, {AcamFunction::kLog, 1e-3, 10},
    {AcamFunction::kGelu, -6, 6},     {AcamFunction::kTanh, -6, 6},
    {AcamFunction::kSigmoid, -6, 6},  {AcamFunction::kSilu, -6, 6},
    {AcamFunction::kIdentity, -6, 6},
};

// The contract's table, written out again: f at code centres, output range over them,
// round half away from zero.
struct ReferenceTable {
  double step, out_min, out_max;
  std::vector<int> out_codes;
  std::vector<double> values;
};

ReferenceTable reference_table(const FunctionRange& fr, const AcamConfig& config) {
  ReferenceTable ref;
  const int codes = 1 << config.in_bits;
  ref.step = (fr.hi - fr.lo) / codes;
  std::vector<double> f(codes);
  for (int c = 0; c < codes; ++c)
    f[c] = acam_function_value(fr.function, fr.lo + (c + 0.5) * ref.step);
  ref.out_min = *std::min_element(f.begin(), f.end());
  ref.out_max = *std::max_element(f.begin(), f.end());
  const double levels = (1 << config.out_bits) - 1;
  for (int c = 0; c < codes; ++c) {
    int o = ref.out_max > ref.out_min
                ? static_cast<int>(
                      std::round((f[c] - ref.out_min) / (ref.out_max - ref.out_min) * levels))
                : 0;
    ref.out_codes.push_back(o);
    ref.values.push_back(ref.out_min + o * (ref.out_max - ref.out_min) / levels);
  }
  return ref;
}

// The ACAM search done the slow way: every row compared, bits ORed, word decoded and
// dequantised over the reference output range.
double scan_rows(const AcamUnit& unit, const AcamConfig& config, const ReferenceTable& ref,
                 double x) {
  int word = 0;
  for (const AcamRow& row : unit.table_rows())
    if (row.lo <= x && x < row.hi) word |= 1 << row.bit;
  int o = word;
  if (config.encoding == AcamEncoding::kGray) {
    o = 0;
    for (int bit = config.out_bits - 1; bit >= 0; --bit)
      o |= (((o >> (bit + 1)) & 1) ^ ((word >> bit) & 1)) << bit;
  }
  return ref.out_min + o * (ref.out_max - ref.out_min) / ((1 << config.out_bits) - 1);
}

// Maximal runs of 1s over the codes, per bit: the row count of the contract.
int reference_row_count(const std::vector<int>& out_codes, const AcamConfig& config) {
  int rows = 0;
  for (int bit = 0; bit < config.out_bits; ++bit) {
    bool previous = false;
    for (int o : out_codes) {
      int word = config.encoding == AcamEncoding::kGray ? o ^ (o >> 1) : o;
      bool set = (word >> bit) & 1;
      if (set && !previous) ++rows;
      previous = set;
    }
  }
  return rows;
}

TEST(AcamUnit, HandComputedIdentityUnitRowsAndOutputs) {
  // Identity over [0, 4), 2 bits in and out: centres 0.5..3.5 -> codes 0..3.
  // Gray 0,1,3,2: bit 0 set on codes 1-2, bit 1 on codes 2-3 (open to +inf) -> 2 rows.
  AcamUnit gray(AcamFunction::kIdentity, 0, 4, make_config(2, 2));
  ASSERT_EQ(gray.rows(), 2);
  EXPECT_EQ(gray.table_rows()[0].bit, 0);
  EXPECT_EQ(gray.table_rows()[0].lo, 1.0);
  EXPECT_EQ(gray.table_rows()[0].hi, 3.0);
  EXPECT_EQ(gray.table_rows()[1].bit, 1);
  EXPECT_EQ(gray.table_rows()[1].lo, 2.0);
  EXPECT_EQ(gray.table_rows()[1].hi, INFINITY);
  EXPECT_EQ(gray.table(), (std::vector<double>{0.5, 1.5, 2.5, 3.5}));
  // Binary 0,1,2,3: bit 0 on codes 1 and 3, bit 1 on codes 2-3 -> 3 rows.
  AcamUnit binary(AcamFunction::kIdentity, 0, 4, make_config(2, 2, AcamEncoding::kBinary));
  EXPECT_EQ(binary.rows(), 3);
  EXPECT_EQ(acam_rows(AcamFunction::kIdentity, 0, 4, make_config(2, 2, AcamEncoding::kBinary)), 3);
  // Clamping: below lo is code 0, above hi the last code.
  EXPECT_EQ(gray.apply_one(-100.0f), 0.5f);
  EXPECT_EQ(gray.apply_one(100.0f), 3.5f);
  EXPECT_EQ(gray.apply_one(2.0f), 2.5f);
  EXPECT_EQ(gray.apply_one(1.999f), 1.5f);
  EXPECT_EQ(gray.code_of(-1), 0);
  EXPECT_EQ(gray.code_of(3.99), 3);
  EXPECT_EQ(gray.code_of(4), 3);
}

TEST(AcamUnit, ConstantFunctionGivesCodeZeroAndItsValue) {
  // sigmoid is exactly 1.0 in double at every centre of [100, 200]: min == max.
  AcamUnit flat(AcamFunction::kSigmoid, 100, 200, make_config(2, 4));
  EXPECT_EQ(flat.table(), std::vector<double>(4, 1.0));
  EXPECT_EQ(flat.rows(), 0);  // every output code is 0: no bit is ever 1
  EXPECT_EQ(flat.apply_one(150.0f), 1.0f);
  EXPECT_EQ(flat.apply_one(-1e30f), 1.0f);
}

TEST(AcamUnit, NoiseFreeUnitReturnsItsQuantisedTableThroughTheRowSearch) {
  for (const FunctionRange& fr : kSensibleRanges) {
    for (int in_bits : {4, 6, 8}) {
      for (int out_bits : {4, 6, 8}) {
        for (AcamEncoding encoding : {AcamEncoding::kGray, AcamEncoding::kBinary}) {
          AcamConfig config = make_config(in_bits, out_bits, encoding);
          SCOPED_TRACE(::testing::Message()
                       << acam_function_name(fr.function) << " in " << in_bits << " out "
                       << out_bits << " " << (encoding == AcamEncoding::kGray ? "gray" : "bin"));
          AcamUnit unit(fr.function, fr.lo, fr.hi, config);
          ReferenceTable ref = reference_table(fr, config);
          ASSERT_EQ(unit.table(), ref.values);
          EXPECT_EQ(unit.rows(), reference_row_count(ref.out_codes, config));
          EXPECT_EQ(acam_rows(fr.function, fr.lo, fr.hi, config), unit.rows());

          // Probe every code at its lower edge, centre and just below its upper edge, and
          // outside the range; float inputs, as apply() takes them.
          std::vector<float> probes{static_cast<float>(fr.lo - 1), static_cast<float>(fr.hi + 1),
                                    static_cast<float>(fr.hi)};
          for (int c = 0; c < (1 << in_bits); ++c) {
            double lower = fr.lo + c * ref.step;
            probes.push_back(static_cast<float>(lower));
            probes.push_back(static_cast<float>(lower + 0.5 * ref.step));
            probes.push_back(std::nextafter(static_cast<float>(lower + ref.step),
                                            -std::numeric_limits<float>::infinity()));
          }
          std::vector<float> applied(probes.size());
          unit.apply(probes.data(), applied.data(), static_cast<int64_t>(probes.size()), 0);
          for (size_t i = 0; i < probes.size(); ++i) {
            double x = probes[i];
            double by_rows = scan_rows(unit, config, ref, x);
            double by_table = unit.table()[unit.code_of(x)];
            ASSERT_EQ(by_rows, by_table) << "x = " << x;
            ASSERT_EQ(applied[i], static_cast<float>(by_rows)) << "x = " << x;
            ASSERT_EQ(unit.apply_one(probes[i]), static_cast<float>(by_rows));
          }
          // The inline lookup gives the same values as the search.
          const std::optional<AcamUnit::Lookup> lookup = unit.lookup();
          ASSERT_TRUE(lookup.has_value());
          for (float probe : probes) ASSERT_EQ((*lookup)(probe), unit.search(probe, 0)) << probe;
          for (double x : {-std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::infinity(), fr.lo, fr.hi})
            ASSERT_EQ((*lookup)(x), unit.search(x, 0)) << x;
          ASSERT_TRUE(std::isnan((*lookup)(std::nan(""))));
          // Centres of codes map to their own code's table entry.
          for (int c = 0; c < (1 << in_bits); ++c)
            ASSERT_EQ(scan_rows(unit, config, ref, fr.lo + (c + 0.5) * ref.step), ref.values[c]);
        }
      }
    }
  }
}

TEST(AcamUnit, GrayNeverNeedsMoreRowsThanBinaryForMonotoneFunctions) {
  const std::vector<FunctionRange> monotone = {
      {AcamFunction::kExp, -10, 0},     {AcamFunction::kReciprocal, 0.5, 64},
      {AcamFunction::kRsqrt, 1e-3, 10}, {AcamFunction::kLog, 1e-3, 10},
      {AcamFunction::kTanh, -6, 6},     {AcamFunction::kSigmoid, -6, 6},
      {AcamFunction::kIdentity, -6, 6},
  };
  for (const FunctionRange& fr : monotone) {
    for (int in_bits : {3, 4, 6, 8, 10}) {
      for (int out_bits : {3, 4, 6, 8, 10}) {
        int gray = acam_rows(fr.function, fr.lo, fr.hi, make_config(in_bits, out_bits));
        int binary = acam_rows(fr.function, fr.lo, fr.hi,
                               make_config(in_bits, out_bits, AcamEncoding::kBinary));
        EXPECT_LE(gray, binary) << acam_function_name(fr.function) << " in " << in_bits << " out "
                                << out_bits;
        EXPECT_GT(gray, 0);
      }
    }
  }
  // Identity over 16 codes visits every output code 0..15. Binary bit b is 1 on 2^(3-b) runs:
  // 8 + 4 + 2 + 1 = 15 rows. Gray bits 0..3 are 1 on {1-2, 5-6, 9-10, 13-14}, {2-5, 10-13},
  // {4-11}, {8-15}: 4 + 2 + 1 + 1 = 8 rows.
  EXPECT_EQ(acam_rows(AcamFunction::kIdentity, 0, 16, make_config(4, 4, AcamEncoding::kBinary)),
            15);
  EXPECT_EQ(acam_rows(AcamFunction::kIdentity, 0, 16, make_config(4, 4)), 8);
}

TEST(AcamUnit, QuantisationErrorIsWithinHalfAnOutputStepPlusTheVariationInACode) {
  for (const FunctionRange& fr : kSensibleRanges) {
    for (int bits : {4, 6, 8}) {
      AcamConfig config = make_config(bits, bits);
      AcamUnit unit(fr.function, fr.lo, fr.hi, config);
      const double step = (fr.hi - fr.lo) / (1 << bits);
      const auto [min_it, max_it] = std::minmax_element(unit.table().begin(), unit.table().end());
      const double half_out_step = (*max_it - *min_it) / ((1 << bits) - 1) / 2;
      for (int c = 0; c < (1 << bits); ++c) {
        // f's variation within the code, from a fine sampling of the code.
        constexpr int kSamples = 16;
        std::vector<double> f;
        for (int s = 0; s <= kSamples; ++s)
          f.push_back(acam_function_value(fr.function, fr.lo + (c + s / double{kSamples}) * step));
        double variation =
            *std::max_element(f.begin(), f.end()) - *std::min_element(f.begin(), f.end());
        for (int s = 0; s < kSamples; ++s) {
          double x = fr.lo + (c + (s + 0.5) / kSamples) * step;
          double error = std::fabs(unit.table()[c] - acam_function_value(fr.function, x));
          ASSERT_LE(error, half_out_step + variation + 1e-12 * std::fabs(*max_it))
              << acam_function_name(fr.function) << " bits " << bits << " code " << c;
        }
      }
    }
  }
}

TEST(AcamUnit, ThresholdNoiseIsOffAtSigmaZeroAndDeterministicPerChipKey) {
  const FunctionRange fr{AcamFunction::kSigmoid, -6, 6};
  std::vector<float> x;
  for (int i = 0; i < 4000; ++i) x.push_back(static_cast<float>(-7 + 14.0 * i / 4000));
  auto run = [&](const AcamUnit& unit) {
    std::vector<float> y(x.size());
    unit.apply(x.data(), y.data(), static_cast<int64_t>(x.size()), 0);
    return y;
  };

  AcamUnit exact(fr.function, fr.lo, fr.hi, make_config(8, 8));
  AcamUnit zero_sigma(fr.function, fr.lo, fr.hi, make_config(8, 8, AcamEncoding::kGray, 0.0));
  zero_sigma.program({1, 0, "layer"});
  for (size_t r = 0; r < exact.table_rows().size(); ++r) {
    EXPECT_EQ(zero_sigma.table_rows()[r].lo, exact.table_rows()[r].lo);
    EXPECT_EQ(zero_sigma.table_rows()[r].hi, exact.table_rows()[r].hi);
  }
  EXPECT_EQ(run(zero_sigma), run(exact));

  AcamConfig noisy_config = make_config(8, 8, AcamEncoding::kGray, 0.002);
  AcamUnit noisy(fr.function, fr.lo, fr.hi, noisy_config);
  AcamUnit unprogrammed_copy = noisy;
  noisy.program({1, 0, "layer"});
  AcamUnit same_key(fr.function, fr.lo, fr.hi, noisy_config);
  same_key.program({1, 0, "layer"});
  AcamUnit other_trial(fr.function, fr.lo, fr.hi, noisy_config);
  other_trial.program({1, 1, "layer"});

  std::vector<float> y_noisy = run(noisy);
  const ReferenceTable noisy_ref = reference_table(fr, noisy_config);
  EXPECT_EQ(y_noisy, run(same_key));
  EXPECT_NE(y_noisy, run(other_trial));
  EXPECT_EQ(run(unprogrammed_copy), run(exact));  // programming a copy leaves the original
  int changed = 0;
  std::vector<float> y_exact = run(exact);
  for (size_t i = 0; i < x.size(); ++i) changed += y_noisy[i] != y_exact[i];
  EXPECT_GT(changed, 0);
  EXPECT_LT(changed, static_cast<int>(x.size()) / 2);  // small noise moves edges only

  // The fast noisy search equals a scan over every programmed row; thresholds moved by the
  // expected amount (standard deviation 0.002 x 12 per finite threshold).
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(y_noisy[i], static_cast<float>(scan_rows(noisy, noisy_config, noisy_ref, x[i])))
        << x[i];
  double sum_sq = 0;
  int finite = 0;
  for (size_t r = 0; r < exact.table_rows().size(); ++r) {
    for (auto [a, b] : {std::pair{noisy.table_rows()[r].lo, exact.table_rows()[r].lo},
                        std::pair{noisy.table_rows()[r].hi, exact.table_rows()[r].hi}}) {
      if (!std::isfinite(b)) {
        EXPECT_EQ(a, b);
        continue;
      }
      sum_sq += (a - b) * (a - b);
      ++finite;
    }
  }
  ASSERT_GT(finite, 50);
  double rms = std::sqrt(sum_sq / finite);
  EXPECT_GT(rms, 0.024 * 0.6);
  EXPECT_LT(rms, 0.024 * 1.4);
}

TEST(AcamUnit, InputNoiseDoesNotDependOnBatchingOrThreads) {
  AcamConfig config = make_config(8, 8, AcamEncoding::kGray, 0.001, 0.01);
  AcamUnit unit(AcamFunction::kTanh, -4, 4, config);
  EXPECT_FALSE(unit.lookup().has_value());  // input noise: searches are not one lookup
  unit.program({7, 2, "tanh_node"});
  const int64_t n = 20000, first = 12345;
  std::vector<float> x(n);
  RngStream values(1, 0, "test", "x");
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(8 * values.uniform(i) - 4);

  std::vector<float> all(n), one_by_one(n), chunked(n), single_thread(n);
  unit.apply(x.data(), all.data(), n, first);
  for (int64_t i = 0; i < n; ++i) unit.apply(&x[i], &one_by_one[i], 1, first + i);
  for (int64_t start = 0; start < n; start += 37) {
    int64_t count = std::min<int64_t>(37, n - start);
    unit.apply(&x[start], &chunked[start], count, first + start);
  }
  int threads = num_threads();
  set_num_threads(1);
  unit.apply(x.data(), single_thread.data(), n, first);
  set_num_threads(threads);
  EXPECT_EQ(all, one_by_one);
  EXPECT_EQ(all, chunked);
  EXPECT_EQ(all, single_thread);
  for (int64_t i = 0; i < 10; ++i)
    EXPECT_EQ(all[i], static_cast<float>(unit.search(x[i], first + i)));

  // The noise is there: a different offset or no noise changes outputs.
  std::vector<float> shifted(n);
  unit.apply(x.data(), shifted.data(), n, first + 1);
  EXPECT_NE(all, shifted);
  int differs_from_noiseless = 0;
  for (int64_t i = 0; i < n; ++i) differs_from_noiseless += all[i] != unit.apply_one(x[i]);
  EXPECT_GT(differs_from_noiseless, n / 10);
}

TEST(AcamUnit, RejectsBadRangesAndBitWidths) {
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 1, 1, make_config(8, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 2, 1, make_config(8, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 0, INFINITY, make_config(8, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kLog, -1, 1, make_config(8, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kRsqrt, -1, 1, make_config(4, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 0, 1, make_config(0, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 0, 1, make_config(8, 0)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 0, 1, make_config(30, 8)), Error);
  EXPECT_THROW(AcamUnit(AcamFunction::kExp, 0, 1, make_config(8, 8, AcamEncoding::kGray, -1)),
               Error);
  AcamUnit unit(AcamFunction::kExp, -1, 0, make_config(4, 4));
  EXPECT_TRUE(std::isnan(unit.apply_one(NAN)));
  EXPECT_THROW(unit.code_of(NAN), Error);
}

// ---- Composites ----

// The noise-free table value of a unit and a bound on its distance from f(x): half an output
// step plus f's change between x and the centre of x's code (the table holds f at the centre).
double table_value(const AcamUnit& unit, double x) {
  return unit.table()[unit.code_of(x)];
}

double error_bound(const AcamUnit& unit, int out_bits, double x) {
  const auto [min_it, max_it] = std::minmax_element(unit.table().begin(), unit.table().end());
  const double half_out_step = (*max_it - *min_it) / ((1 << out_bits) - 1) / 2;
  const double step = (unit.hi() - unit.lo()) / static_cast<double>(unit.table().size());
  const double centre = unit.lo() + (unit.code_of(x) + 0.5) * step;
  return half_out_step * (1 + 1e-12) + std::fabs(acam_function_value(unit.function(), x) -
                                                 acam_function_value(unit.function(), centre));
}

Tensor random_tensor(Shape shape, double lo, double hi, uint64_t seed) {
  Tensor t(DType::kF32, std::move(shape));
  RngStream stream(seed, 0, "test", "values");
  float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    v[i] = static_cast<float>(lo + (hi - lo) * stream.uniform(static_cast<uint64_t>(i)));
  return t;
}

TEST(AcamComposite, SoftmaxEqualsItsTableCompositionAndIsCloseToFloatSoftmax) {
  const int bits = 8;
  AcamUnit exp_unit(AcamFunction::kExp, -10, 0, make_config(bits, bits));
  AcamUnit recip_unit(AcamFunction::kReciprocal, 0.5, 64, make_config(bits, bits));
  const int64_t rows = 6, n = 12;
  Tensor x = random_tensor({2, 3, n}, -6, 6, 3);
  Tensor y = acam_softmax(x, exp_unit, recip_unit, 0);
  ASSERT_EQ(y.shape(), x.shape());
  const float* xv = x.data<float>();
  const float* yv = y.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = xv + r * n;
    double m = *std::max_element(row, row + n);
    double e_sum = 0, exact_sum = 0, e_sum_bound = 0;
    std::vector<double> e(n), exact(n), e_bound(n);
    for (int64_t j = 0; j < n; ++j) {
      e[j] = table_value(exp_unit, row[j] - m);
      exact[j] = std::exp(row[j] - m);
      e_bound[j] = error_bound(exp_unit, bits, row[j] - m);
      e_sum += e[j];
      exact_sum += exact[j];
      e_sum_bound += e_bound[j];
    }
    double r_value = table_value(recip_unit, e_sum);
    double r_bound = error_bound(recip_unit, bits, e_sum);
    double p_sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      // The composition of the two tables, exactly.
      ASSERT_EQ(yv[r * n + j], static_cast<float>(e[j] * r_value));
      // |e r - e*/s*| <= |e - e*| r + e* (|r - 1/s| + |s - s*| / (s s*)).
      double p_exact = exact[j] / exact_sum;
      double bound =
          e_bound[j] * r_value + exact[j] * (r_bound + e_sum_bound / (e_sum * exact_sum)) + 1e-6;
      EXPECT_NEAR(yv[r * n + j], p_exact, bound) << "row " << r << " j " << j;
      EXPECT_LT(bound, 0.1);  // the bound itself is small at 8 bits
      p_sum += yv[r * n + j];
    }
    EXPECT_NEAR(p_sum, 1.0, e_sum * r_bound + 1e-5);
  }
}

TEST(AcamComposite, SoftmaxNoiseDoesNotDependOnBatching) {
  AcamConfig config = make_config(8, 8, AcamEncoding::kGray, 0, 0.01);
  AcamUnit exp_unit(AcamFunction::kExp, -10, 0, config);
  AcamUnit recip_unit(AcamFunction::kReciprocal, 0.5, 64, config);
  exp_unit.program({3, 0, "softmax"});
  recip_unit.program({3, 0, "softmax"});
  const int64_t rows = 5, n = 9, first = 1000;
  Tensor x = random_tensor({rows, n}, -5, 5, 4);
  Tensor all = acam_softmax(x, exp_unit, recip_unit, first);
  Tensor noiseless =
      acam_softmax(x, AcamUnit(AcamFunction::kExp, -10, 0, make_config(8, 8)),
                   AcamUnit(AcamFunction::kReciprocal, 0.5, 64, make_config(8, 8)), first);
  int differs = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> row(x.data<float>() + r * n, x.data<float>() + (r + 1) * n);
    Tensor one =
        acam_softmax(Tensor::from_vector<float>({1, n}, row), exp_unit, recip_unit, first + r * n);
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_EQ(one.data<float>()[j], all.data<float>()[r * n + j]);
      differs += all.data<float>()[r * n + j] != noiseless.data<float>()[r * n + j];
    }
  }
  EXPECT_GT(differs, 0);
}

TEST(AcamComposite, LayerNormEqualsItsTableCompositionAndIsCloseToFloatLayerNorm) {
  const int bits = 8;
  AcamUnit rsqrt_unit(AcamFunction::kRsqrt, 1e-3, 10, make_config(bits, bits));
  const int64_t rows = 4, n = 16;
  const double eps = 1e-5;
  Tensor x = random_tensor({rows, n}, -2, 3, 5);
  Tensor gamma = random_tensor({n}, 0.5, 1.5, 6);
  Tensor beta = random_tensor({n}, -1, 1, 7);
  Tensor y = acam_layer_norm(x, gamma, beta, eps, rsqrt_unit, 0);
  Tensor y_plain = acam_layer_norm(x, Tensor(), Tensor(), eps, rsqrt_unit, 0);
  const float* xv = x.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mean += xv[r * n + j];
    mean /= n;
    for (int64_t j = 0; j < n; ++j) var += (xv[r * n + j] - mean) * (xv[r * n + j] - mean);
    var /= n;
    double inv_std = table_value(rsqrt_unit, var + eps);
    double bound = error_bound(rsqrt_unit, bits, var + eps);
    for (int64_t j = 0; j < n; ++j) {
      double g = gamma.data<float>()[j], b = beta.data<float>()[j];
      double centred = xv[r * n + j] - mean;
      EXPECT_EQ(y.data<float>()[r * n + j], static_cast<float>(centred * inv_std * g + b));
      EXPECT_EQ(y_plain.data<float>()[r * n + j], static_cast<float>(centred * inv_std));
      double exact = centred / std::sqrt(var + eps) * g + b;
      EXPECT_NEAR(y.data<float>()[r * n + j], exact, std::fabs(centred * g) * bound + 1e-5);
    }
  }
}

TEST(AcamComposite, LogMatmulEqualsItsTableCompositionAndIsCloseToMatmul) {
  const int bits = 12;
  AcamUnit log_unit(AcamFunction::kLog, 1e-3, 4, make_config(bits, bits));
  AcamUnit exp_unit(AcamFunction::kExp, -14, 3, make_config(bits, bits));
  const int64_t batch = 2, M = 3, K = 8, N = 4;
  Tensor a = random_tensor({batch, M, K}, -2, 2, 8);
  Tensor b = random_tensor({batch, K, N}, -2, 2, 9);
  a.data<float>()[3] = 0.0f;  // zeros and values below the log range contribute 0
  b.data<float>()[5] = 1e-4f;
  b.data<float>()[6] = -0.0f;
  Tensor y = acam_log_matmul(a, b, log_unit, exp_unit, 0);
  ASSERT_EQ(y.shape(), (Shape{batch, M, N}));
  const float* av = a.data<float>();
  const float* bv = b.data<float>();
  for (int64_t bi = 0; bi < batch; ++bi) {
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        double composed = 0, exact = 0, bound = 1e-5;
        for (int64_t k = 0; k < K; ++k) {
          double va = av[(bi * M + m) * K + k], vb = bv[(bi * K + k) * N + n];
          exact += va * vb;
          if (std::fabs(va) < 1e-3 || std::fabs(vb) < 1e-3) continue;
          double la = table_value(log_unit, std::fabs(va));
          double lb = table_value(log_unit, std::fabs(vb));
          double product = table_value(exp_unit, la + lb);
          double sign = (va < 0) != (vb < 0) ? -1 : 1;
          composed += sign * product;
          // |exp_t(la + lb) - |a b|| <= eb(la + lb) + |a b| (exp(ea + eb) - 1)
          double log_error = error_bound(log_unit, bits, std::fabs(va)) +
                             error_bound(log_unit, bits, std::fabs(vb));
          bound +=
              error_bound(exp_unit, bits, la + lb) + std::fabs(va * vb) * std::expm1(log_error);
        }
        float got = y.data<float>()[(bi * M + m) * N + n];
        EXPECT_EQ(got, static_cast<float>(composed));
        EXPECT_NEAR(got, exact, bound);
        EXPECT_LT(bound, 0.1);  // 12 bits keep the derived bound tight
      }
    }
  }
}

// The product table (one read per product) against the searches it replaces: the same floats
// with zeros, magnitudes below the log range, infinities and both signs; NaN operands fall
// back to the searches (and propagate); noisy units give no table.
TEST(AcamComposite, LogMatmulProductTableEqualsTheSearches) {
  AcamUnit log_unit(AcamFunction::kLog, 1e-3, 4, make_config(8, 8));
  AcamUnit exp_unit(AcamFunction::kExp, -14, 3, make_config(8, 8));
  const LogProductTable products(log_unit, exp_unit);
  ASSERT_TRUE(products.valid());
  EXPECT_EQ(products.codes(), 256);
  const int64_t batch = 3, M = 5, K = 19, N = 7;
  Tensor a = random_tensor({batch, M, K}, -4, 4, 18);
  Tensor b = random_tensor({batch, K, N}, -4, 4, 19);
  a.data<float>()[3] = 0.0f;
  a.data<float>()[10] = -1e-5f;
  b.data<float>()[5] = 1e-4f;
  b.data<float>()[6] = -0.0f;
  b.data<float>()[40] = std::numeric_limits<float>::infinity();
  const Tensor searched = acam_log_matmul(a, b, log_unit, exp_unit, 11);
  const Tensor tabled = acam_log_matmul(a, b, log_unit, exp_unit, 11, &products);
  ASSERT_EQ(tabled.shape(), searched.shape());
  for (int64_t i = 0; i < searched.numel(); ++i)
    EXPECT_EQ(std::bit_cast<uint32_t>(tabled.data<float>()[i]),
              std::bit_cast<uint32_t>(searched.data<float>()[i]))
        << "output " << i;
  // Each product by hand from the two tables.
  const double la = log_unit.table()[log_unit.code_of(std::fabs(double(a.data<float>()[0])))];
  const double lb = log_unit.table()[log_unit.code_of(std::fabs(double(b.data<float>()[0])))];
  EXPECT_EQ(products.product(log_unit.code_of(std::fabs(double(a.data<float>()[0]))),
                             log_unit.code_of(std::fabs(double(b.data<float>()[0])))),
            exp_unit.table()[exp_unit.code_of(la + lb)]);

  a.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = acam_log_matmul(a, b, log_unit, exp_unit, 11, &products);
  EXPECT_TRUE(std::isnan(with_nan.data<float>()[0]));
  const Tensor with_nan_searched = acam_log_matmul(a, b, log_unit, exp_unit, 11);
  for (int64_t i = 0; i < searched.numel(); ++i) {
    const float x = with_nan.data<float>()[i], y = with_nan_searched.data<float>()[i];
    EXPECT_TRUE(std::isnan(x) ? std::isnan(y) : x == y) << "output " << i;
  }

  AcamUnit noisy_log(AcamFunction::kLog, 1e-3, 4, make_config(8, 8, AcamEncoding::kGray, 0, 0.005));
  EXPECT_FALSE(LogProductTable(noisy_log, exp_unit).valid());
  AcamUnit wide_log(AcamFunction::kLog, 1e-3, 4, make_config(12, 12));
  EXPECT_FALSE(LogProductTable(wide_log, exp_unit).valid());  // 4096 codes: searches
}

TEST(AcamComposite, LogMatmulNoiseDoesNotDependOnBatching) {
  AcamConfig config = make_config(8, 8, AcamEncoding::kGray, 0, 0.005);
  AcamUnit log_unit(AcamFunction::kLog, 1e-3, 4, config);
  AcamUnit exp_unit(AcamFunction::kExp, -14, 3, config);
  log_unit.program({5, 0, "matmul"});
  exp_unit.program({5, 0, "matmul"});
  const int64_t batch = 3, M = 2, K = 5, N = 3, first = 77;
  Tensor a = random_tensor({batch, M, K}, -2, 2, 10);
  Tensor b = random_tensor({batch, K, N}, -2, 2, 11);
  Tensor all = acam_log_matmul(a, b, log_unit, exp_unit, first);
  for (int64_t bi = 0; bi < batch; ++bi) {
    std::vector<float> a_part(a.data<float>() + bi * M * K, a.data<float>() + (bi + 1) * M * K);
    std::vector<float> b_part(b.data<float>() + bi * K * N, b.data<float>() + (bi + 1) * K * N);
    Tensor one = acam_log_matmul(Tensor::from_vector<float>({1, M, K}, a_part),
                                 Tensor::from_vector<float>({1, K, N}, b_part), log_unit, exp_unit,
                                 first + bi * M * K);
    for (int64_t i = 0; i < M * N; ++i)
      EXPECT_EQ(one.data<float>()[i], all.data<float>()[bi * M * N + i]);
  }
  AcamUnit quiet_log(AcamFunction::kLog, 1e-3, 4, make_config(8, 8));
  AcamUnit quiet_exp(AcamFunction::kExp, -14, 3, make_config(8, 8));
  Tensor noiseless = acam_log_matmul(a, b, quiet_log, quiet_exp, first);
  int differs = 0;
  for (int64_t i = 0; i < all.numel(); ++i)
    differs += all.data<float>()[i] != noiseless.data<float>()[i];
  EXPECT_GT(differs, 0);
}

TEST(AcamComposite, RejectsWrongUnitsAndShapes) {
  AcamConfig config = make_config(6, 6);
  AcamUnit exp_unit(AcamFunction::kExp, -10, 0, config);
  AcamUnit recip_unit(AcamFunction::kReciprocal, 0.5, 64, config);
  AcamUnit log_unit(AcamFunction::kLog, 1e-3, 4, config);
  Tensor x = random_tensor({2, 3}, -1, 1, 1);
  EXPECT_THROW(acam_softmax(x, recip_unit, exp_unit, 0), Error);
  EXPECT_THROW(acam_layer_norm(x, Tensor(), Tensor(), 1e-5, exp_unit, 0), Error);
  EXPECT_THROW(acam_log_matmul(x, random_tensor({4, 2}, -1, 1, 2), log_unit, exp_unit, 0), Error);
  EXPECT_THROW(acam_log_matmul(x, random_tensor({3, 2}, -1, 1, 2), exp_unit, log_unit, 0), Error);
  AcamUnit rsqrt_unit(AcamFunction::kRsqrt, 1e-3, 10, config);
  EXPECT_THROW(acam_layer_norm(x, random_tensor({2}, 0, 1, 3), Tensor(), 1e-5, rsqrt_unit, 0),
               Error);
}

}  // namespace
}  // namespace aimc::analog
