// device.read.mode: aggregated against exact mode (docs/analog-model.md): the same chip
// instance, the same input row repeated over 2,000 global rows (fresh read noise on each), and
// the mean and variance of every output over those rows compared between the modes (64
// columns: 128,000 samples per mode). With an ideal ADC the two are the same distribution;
// with a quantising ADC whose LSB is small against the noise of a read, close to it.
#include <gtest/gtest.h>

#include <cmath>

#include "aimc/analog/crossbar.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"
#include "common/model_config.h"

namespace aimc::analog {
namespace {

using test::model;

constexpr int64_t kSamples = 2000, K = 200, N = 64;  // K: two row blocks of 128

Tensor random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  Tensor t(DType::kF32, {rows, cols});
  RngStream stream(seed, 0, "test", "matrix");
  for (int64_t i = 0; i < rows * cols; ++i)
    t.data<float>()[i] = static_cast<float>(stream.normal(i));
  return t;
}

arch::Architecture base_arch(const std::string& adc, int adc_bits) {
  arch::Architecture a;
  a.array.rows = 128;
  a.array.cell_bits = 2;
  a.input.in_bits = 8;
  a.input.dac_bits = 1;
  a.weights.w_bits = 8;
  a.adc.model = model(adc);
  a.adc.bits = adc_bits;
  a.device.programming = model("constant", {{"sigma", 0.02}});
  return a;
}

struct Moments {
  std::vector<double> mean, variance;  // per output column, over the rows
};

Moments moments(const arch::Architecture& a, arch::ReadNoiseMode mode, const Tensor& w,
                const Tensor& x_row) {
  arch::Architecture arch = a;
  arch.device.read_mode = mode;
  CrossbarLayer layer(arch, w, Tensor(), ChipKey{7, 0, "fc"});
  Tensor x(DType::kF32, {kSamples, K});
  for (int64_t m = 0; m < kSamples; ++m)
    std::copy_n(x_row.data<float>(), K, x.data<float>() + m * K);
  Tensor y = layer.forward(x, 0);
  Moments out{std::vector<double>(N, 0.0), std::vector<double>(N, 0.0)};
  for (int64_t m = 0; m < kSamples; ++m)
    for (int64_t n = 0; n < N; ++n) out.mean[n] += y.data<float>()[m * N + n] / kSamples;
  for (int64_t m = 0; m < kSamples; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const double d = y.data<float>()[m * N + n] - out.mean[n];
      out.variance[n] += d * d / (kSamples - 1);
    }
  return out;
}

// Means: |mean_a - mean_e| over all columns within 3 % of |mean_e| (as vectors); variances:
// summed over the columns within 3 %, and column by column within 25 % (a column's sample
// variance alone has a standard error of sqrt(2 / 2000) = 3.2 %).
void expect_same_moments(const arch::Architecture& a, const std::string& what) {
  const Tensor w = random_matrix(K, N, 1), x = random_matrix(1, K, 2);
  const Moments exact = moments(a, arch::ReadNoiseMode::kExact, w, x);
  const Moments aggregated = moments(a, arch::ReadNoiseMode::kAggregated, w, x);
  double mean_error = 0.0, mean_norm = 0.0, var_exact = 0.0, var_aggregated = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    mean_error += std::pow(aggregated.mean[n] - exact.mean[n], 2);
    mean_norm += std::pow(exact.mean[n], 2);
    var_exact += exact.variance[n];
    var_aggregated += aggregated.variance[n];
    EXPECT_NEAR(aggregated.variance[n] / exact.variance[n], 1.0, 0.25) << what << ", column " << n;
  }
  EXPECT_LE(std::sqrt(mean_error / mean_norm), 0.03) << what;
  EXPECT_NEAR(var_aggregated / var_exact, 1.0, 0.03) << what;
  // The noise is there: the outputs spread by more than a float rounding.
  EXPECT_GT(var_exact / N, 1e-6 * mean_norm / N) << what;
}

TEST(AggregatedNoise, ReadNoiseHasTheMomentsOfExactModeWithAnIdealAdc) {
  arch::Architecture a = base_arch("ideal", 8);
  a.device.read = model("proportional", {{"sigma", 0.05}});
  expect_same_moments(a, "read noise");
}

TEST(AggregatedNoise, OutputNoiseOfEveryReadIsCounted) {
  // Output noise is drawn on every read in exact mode, zero digits included: rows blocks x
  // phases x steps x slices terms per output, each with its shift-add weight.
  arch::Architecture a = base_arch("ideal", 8);
  a.device.output = model("gaussian", {{"sigma", 0.002}});
  expect_same_moments(a, "output noise");
  a.device.read = model("constant", {{"sigma", 0.01}});
  expect_same_moments(a, "read and output noise");
}

TEST(AggregatedNoise, CloseToExactModeWithAFineQuantisingAdc) {
  // 10-bit ADC at full range (LSB = 1 level unit, as race.yaml), no programming noise (clean
  // reads are integers, which the ADC keeps), read noise of 0.6 level units per cell: a
  // read's noise spans several LSB and its rounding in exact mode adds little to it. (With
  // programming noise the clean reads fall between codes, and aggregated mode keeps their
  // rounding error where exact mode's noise dithers it: docs/analog-model.md.)
  arch::Architecture a = base_arch("uniform", 10);
  a.device.programming = model("none");
  a.device.read = model("constant", {{"sigma", 0.2}});
  expect_same_moments(a, "10-bit ADC");
}

TEST(AggregatedNoise, SameOutputsAcrossThreadsAndBatches) {
  arch::Architecture a = base_arch("uniform", 8);
  a.device.read = model("proportional", {{"sigma", 0.05}});
  a.device.output = model("gaussian", {{"sigma", 0.001}});
  a.device.read_mode = arch::ReadNoiseMode::kAggregated;
  const Tensor w = random_matrix(K, N, 3), x = random_matrix(40, K, 4);
  const int threads_before = num_threads();
  set_num_threads(1);
  Tensor y1 = CrossbarLayer(a, w, Tensor(), ChipKey{5, 1, "fc"}).forward(x, 10);
  set_num_threads(2);
  CrossbarLayer layer(a, w, Tensor(), ChipKey{5, 1, "fc"});
  Tensor y2 = layer.forward(x, 10);
  set_num_threads(threads_before);
  int differ = 0;
  for (int64_t i = 0; i < y1.numel(); ++i) differ += y1.data<float>()[i] != y2.data<float>()[i];
  EXPECT_EQ(differ, 0) << "1 vs 2 threads";
  for (int64_t m = 0; m < x.dim(0); ++m) {
    Tensor row(DType::kF32, {1, K});
    std::copy_n(x.data<float>() + m * K, K, row.data<float>());
    Tensor y = layer.forward(row, 10 + m);
    for (int64_t n = 0; n < N; ++n)
      ASSERT_EQ(y.data<float>()[n], y1.data<float>()[m * N + n]) << "row " << m << " alone";
  }
  // Another trial draws other noise.
  Tensor y3 = CrossbarLayer(a, w, Tensor(), ChipKey{5, 2, "fc"}).forward(x, 10);
  differ = 0;
  for (int64_t i = 0; i < y1.numel(); ++i) differ += y1.data<float>()[i] != y3.data<float>()[i];
  EXPECT_GT(differ, y1.numel() / 2);
}

}  // namespace
}  // namespace aimc::analog
