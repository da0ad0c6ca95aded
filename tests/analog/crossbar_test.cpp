// The crossbar engine against ANALOG_MODEL.md §1-2: bit-exact against the integer reference
// with noise off and a lossless ADC, read by read against a plain bit-serial loop with a lossy
// ADC, the statistics of every noise source against its formula (tolerances of 5 standard
// errors), and determinism across threads, batch sizes and trials.
#include "aimc/analog/crossbar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"
#include "common/model_config.h"

namespace aimc::analog {
namespace {

using test::model;

struct Options {
  int rows = 128, cols = 128, cell_bits = 2, in_bits = 8, dac_bits = 1, w_bits = 8;
  arch::WeightScale scale = arch::WeightScale::kPerColumn;
  std::string adc = "uniform";
  int adc_bits = 8;
};

arch::Architecture make_arch(const Options& o) {
  arch::Architecture a;
  a.array.rows = o.rows;
  a.array.cols = o.cols;
  a.array.cell_bits = o.cell_bits;
  a.input.in_bits = o.in_bits;
  a.input.dac_bits = o.dac_bits;
  a.weights.w_bits = o.w_bits;
  a.weights.scale = o.scale;
  a.adc.model = model(o.adc);
  a.adc.bits = o.adc_bits;
  return a;
}

Tensor random_matrix(int64_t rows, int64_t cols, uint64_t seed, double scale = 1.0) {
  Tensor t(DType::kF32, {rows, cols});
  RngStream stream(seed, 0, "test", "matrix");
  float* data = t.data<float>();
  for (int64_t i = 0; i < rows * cols; ++i) data[i] = static_cast<float>(scale * stream.normal(i));
  return t;
}

void expect_bitwise_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  int mismatches = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data<float>()[i] != b.data<float>()[i] && ++mismatches <= 3)
      ADD_FAILURE() << what << ": element " << i << ": " << a.data<float>()[i] << " vs "
                    << b.data<float>()[i];
}

// The quantisation of ANALOG_MODEL.md §1, written again here as plain loops.
struct Quantised {
  std::vector<int64_t> x_q, w_q;
  std::vector<double> s_x, s_w;
};

Quantised quantise(const Options& o, const Tensor& w, const Tensor& x) {
  const int64_t M = x.dim(0), K = x.dim(1), N = w.dim(1);
  const double qx = std::pow(2.0, o.in_bits - 1) - 1, qw = std::pow(2.0, o.w_bits - 1) - 1;
  Quantised q;
  q.s_w.assign(N, 0.0);
  double overall = 0.0;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      q.s_w[n] = std::max(q.s_w[n], std::abs(double(w.data<float>()[k * N + n])));
      overall = std::max(overall, q.s_w[n]);
    }
  for (double& s : q.s_w) {
    if (o.scale == arch::WeightScale::kPerTensor) s = overall;
    s = s > 0 ? s / qw : 1.0;
  }
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      q.w_q.push_back(
          int64_t(std::clamp(std::round(w.data<float>()[k * N + n] / q.s_w[n]), -qw, qw)));
  for (int64_t m = 0; m < M; ++m) {
    double absmax = 0.0;
    for (int64_t k = 0; k < K; ++k)
      absmax = std::max(absmax, std::abs(double(x.data<float>()[m * K + k])));
    q.s_x.push_back(absmax > 0 ? absmax / qx : 1.0);
    for (int64_t k = 0; k < K; ++k)
      q.x_q.push_back(
          int64_t(std::clamp(std::round(x.data<float>()[m * K + k] / q.s_x[m]), -qx, qx)));
  }
  return q;
}

// The engine of §1 read by read: every (row block, phase, step, slice) read of every column
// through a uniform ADC of step lsb, recombined by shift-add. Noise off.
Tensor bit_serial_reference(const Options& o, const Tensor& w, const Tensor& b, const Tensor& x,
                            double lsb, int64_t* clipped) {
  const int64_t M = x.dim(0), K = x.dim(1), N = w.dim(1);
  const Quantised q = quantise(o, w, x);
  const int steps = (o.in_bits - 1 + o.dac_bits - 1) / o.dac_bits;
  const int slices = (o.w_bits - 1 + o.cell_bits - 1) / o.cell_bits;
  const int64_t codes = (int64_t{1} << (o.adc_bits - 1)) - 1;
  const int64_t digit_mask = (1 << o.dac_bits) - 1, level_mask = (1 << o.cell_bits) - 1;
  Tensor y(DType::kF32, {M, N});
  *clipped = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0.0;
      for (int64_t k0 = 0; k0 < K; k0 += o.rows)
        for (int phase = 0; phase < 2; ++phase)
          for (int t = 0; t < steps; ++t)
            for (int s = 0; s < slices; ++s) {
              int64_t current = 0;
              for (int64_t k = k0; k < std::min<int64_t>(K, k0 + o.rows); ++k) {
                int64_t xv = q.x_q[m * K + k], wv = q.w_q[k * N + n];
                int64_t magnitude =
                    phase == 0 ? std::max<int64_t>(xv, 0) : std::max<int64_t>(-xv, 0);
                int64_t digit = (magnitude >> (o.dac_bits * t)) & digit_mask;
                int64_t plus = (std::max<int64_t>(wv, 0) >> (o.cell_bits * s)) & level_mask;
                int64_t minus = (std::max<int64_t>(-wv, 0) >> (o.cell_bits * s)) & level_mask;
                current += digit * (plus - minus);
              }
              double code = std::round(current / lsb);
              if (std::abs(code) > codes) {
                ++*clipped;
                code = std::clamp(code, -double(codes), double(codes));
              }
              acc += (phase == 0 ? 1 : -1) * std::pow(2.0, o.dac_bits * t) *
                     std::pow(2.0, o.cell_bits * s) * code * lsb;
            }
      double bias = b.is_valid() ? b.data<float>()[n] : 0.0;
      y.data<float>()[m * N + n] = float(q.s_x[m] * q.s_w[n] * acc + bias);
    }
  return y;
}

TEST(Crossbar, NoiseFreeLosslessIsBitExactWithTheIntegerReference) {
  struct Shape {
    int64_t M, K, N;
  };
  for (Shape shape : {Shape{9, 300, 70}, Shape{4, 5, 3}, Shape{3, 128, 128}, Shape{2, 257, 129}})
    for (int dac_bits : {1, 7})
      for (int cell_bits : {1, 2, 4})
        for (auto scale : {arch::WeightScale::kPerColumn, arch::WeightScale::kPerTensor})
          for (std::string adc : {"ideal", "uniform"})
            for (bool merge : {true, false}) {
              Options o;
              o.dac_bits = dac_bits;
              o.cell_bits = cell_bits;
              o.scale = scale;
              o.adc = adc;
              o.adc_bits = 24;  // C >= FS: lossless
              const std::string what =
                  fmt::format("M={} K={} N={} dac={} cell={} {} {} merge={}", shape.M, shape.K,
                              shape.N, dac_bits, cell_bits, int(scale), adc, merge);
              Tensor w = random_matrix(shape.K, shape.N, 1, 0.1);
              Tensor b = random_matrix(1, shape.N, 2).reshaped({shape.N});
              Tensor x = random_matrix(shape.M, shape.K, 3);
              arch::Architecture a = make_arch(o);
              CrossbarLayer layer(a, w, b, ChipKey{1, 0, "fc"});
              EXPECT_EQ(layer.adc_lsb(), 1.0) << what;
              EXPECT_TRUE(layer.reads_merged()) << what;
              if (!merge) layer.disable_read_merging();
              expect_bitwise_equal(layer.forward(x, 0), crossbar_reference(a, w, b, x), what);
              EXPECT_EQ(layer.stats().adc_clipped, 0) << what;
            }
}

TEST(Crossbar, ReferenceIsCloseToTheFloatProductWithinTheQuantisationBound) {
  Options o;
  const int64_t M = 5, K = 300, N = 70;
  Tensor w = random_matrix(K, N, 4, 0.05), x = random_matrix(M, K, 5);
  Tensor y = crossbar_reference(make_arch(o), w, Tensor(), x);
  const Quantised q = quantise(o, w, x);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double exact = 0.0, bound = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        double xv = x.data<float>()[m * K + k], wv = w.data<float>()[k * N + n];
        exact += xv * wv;
        // |x w - x^ w^| <= |x - x^| |w| + |x^| |w - w^|
        bound += q.s_x[m] / 2 * std::abs(wv) + (std::abs(xv) + q.s_x[m] / 2) * q.s_w[n] / 2;
      }
      EXPECT_LE(std::abs(y.data<float>()[m * N + n] - exact), bound + 1e-5) << m << "," << n;
    }
}

TEST(Crossbar, LossyAdcMatchesTheBitSerialLoopReadByRead) {
  for (int dac_bits : {1, 3})
    for (int cell_bits : {1, 2})
      for (int adc_bits : {4, 6, 8}) {
        Options o;
        o.rows = 16;
        o.cols = 8;
        o.dac_bits = dac_bits;
        o.cell_bits = cell_bits;
        o.adc_bits = adc_bits;
        const int64_t M = 6, K = 37, N = 11;
        Tensor w = random_matrix(K, N, 6), b = random_matrix(1, N, 7).reshaped({N});
        Tensor x = random_matrix(M, K, 8);
        CrossbarLayer layer(make_arch(o), w, b, ChipKey{2, 0, "fc"});
        // LSB = 2^max(0, ceil(log2(FS / C))), FS = rows (2^dac - 1)(2^cell - 1)
        const double fs = o.rows * ((1 << dac_bits) - 1) * ((1 << cell_bits) - 1);
        const double codes = std::pow(2.0, adc_bits - 1) - 1;
        const double lsb = std::pow(2.0, std::max(0.0, std::ceil(std::log2(fs / codes))));
        const std::string what =
            fmt::format("dac={} cell={} adc={}", dac_bits, cell_bits, adc_bits);
        EXPECT_EQ(layer.adc_lsb(), lsb) << what;
        EXPECT_EQ(layer.reads_merged(), lsb == 1.0) << what;
        int64_t clipped = 0;
        Tensor expected = bit_serial_reference(o, w, b, x, lsb, &clipped);
        expect_bitwise_equal(layer.forward(x, 0), expected, what);
        EXPECT_EQ(layer.stats().adc_clipped, clipped) << what;
        const int64_t reads =
            M * 3 * 2 * ((7 + dac_bits - 1) / dac_bits) * ((7 + cell_bits - 1) / cell_bits);
        EXPECT_EQ(layer.stats().reads, reads) << what;
        EXPECT_EQ(layer.stats().adc_conversions, reads * N) << what;
        EXPECT_EQ(layer.stats().arrays, 3 * 2 * ((7 + cell_bits - 1) / cell_bits) * 2) << what;
      }
}

// Mean and variance of samples against expectations, 5 standard errors wide.
void expect_moments(const std::vector<double>& samples, double mean, double variance,
                    const std::string& what) {
  const double count = samples.size();
  double sum = 0.0, sum_sq = 0.0;
  for (double v : samples) sum += v;
  const double sample_mean = sum / count;
  for (double v : samples) sum_sq += (v - sample_mean) * (v - sample_mean);
  const double sample_variance = sum_sq / (count - 1);
  EXPECT_NEAR(sample_mean, mean, 5.0 * std::sqrt(variance / count)) << what;
  EXPECT_NEAR(sample_variance, variance, 5.0 * variance * std::sqrt(2.0 / count)) << what;
}

// Two-level cells (w_bits 3, cell_bits 2): W_q = 1 everywhere but at [0, 0] (3, to fix the
// per-tensor scale): G+ = g_min + ΔG, G- = g_min.
struct ProgrammingSetup {
  Options o;
  arch::Architecture a;
  Tensor w;
  double g_min = 2e-5, g_max = 1e-4, delta_g;
  ProgrammingSetup() {
    o.w_bits = 3;
    o.cell_bits = 2;
    o.scale = arch::WeightScale::kPerTensor;
    o.adc = "ideal";
    a = make_arch(o);
    a.array.g_min = g_min;
    a.array.g_max = g_max;
    delta_g = (g_max - g_min) / 3;
    w = Tensor(DType::kF32, {128, 256});
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = 1.0f;
    w.data<float>()[0] = 3.0f;
  }
  std::vector<double> level_differences(const CrossbarLayer& layer) const {
    Tensor levels = layer.effective_levels();
    EXPECT_EQ(levels.shape(), (Shape{1, 128, 256}));
    return std::vector<double>(levels.data<double>() + 1, levels.data<double>() + levels.numel());
  }
};

TEST(CrossbarNoise, ProgrammingNoiseMatchesEachModel) {
  ProgrammingSetup setup;
  const double g_plus = setup.g_min + setup.delta_g, g_minus = setup.g_min, g_max = setup.g_max;
  struct Case {
    arch::ModelConfig config;
    double sigma_plus, sigma_minus;  // S
  };
  std::vector<double> c = {0.01, 0.05, 0.02};
  auto poly = [&](double g) {
    return g_max * (c[0] + c[1] * g / g_max + c[2] * std::pow(g / g_max, 2));
  };
  for (const Case& test :
       {Case{model("constant", {{"sigma", 0.02}}), 0.02 * g_max, 0.02 * g_max},
        Case{model("proportional", {{"sigma", 0.05}}), 0.05 * g_plus, 0.05 * g_minus},
        Case{model("polynomial", {}, c), poly(g_plus), poly(g_minus)}}) {
    arch::Architecture a = setup.a;
    a.device.programming = test.config;
    CrossbarLayer layer(a, setup.w, Tensor(), ChipKey{5, 0, "fc"});
    const double variance =
        (test.sigma_plus * test.sigma_plus + test.sigma_minus * test.sigma_minus) /
        (setup.delta_g * setup.delta_g);
    expect_moments(setup.level_differences(layer), 1.0, variance, test.config.model);
  }
}

TEST(CrossbarNoise, StuckCellFractions) {
  ProgrammingSetup setup;
  const double p_off = 0.05, p_on = 0.02;
  setup.a.device.stuck = model("random", {{"p_off", p_off}, {"p_on", p_on}, {"g_off", 0.0}});
  CrossbarLayer layer(setup.a, setup.w, Tensor(), ChipKey{5, 0, "fc"});
  std::vector<double> d = setup.level_differences(layer);
  // Per pair of cells: both normal -> 1; + off -> -g_min/ΔG (or less); + on -> (g_max - ...)
  const double n = d.size();
  const double p_normal = (1 - p_off - p_on) * (1 - p_off - p_on);
  const double p_plus_on_minus_normal = p_on * (1 - p_off - p_on);
  double normal = 0, plus_on = 0;
  for (double v : d) {
    normal += v == 1.0;
    plus_on += std::abs(v - (setup.g_max - setup.g_min) / setup.delta_g) < 1e-5;
  }
  EXPECT_NEAR(normal / n, p_normal, 5 * std::sqrt(p_normal * (1 - p_normal) / n));
  EXPECT_NEAR(plus_on / n, p_plus_on_minus_normal,
              5 * std::sqrt(p_plus_on_minus_normal * (1 - p_plus_on_minus_normal) / n));
}

TEST(CrossbarNoise, DriftMean) {
  ProgrammingSetup setup;
  const double nu_mean = 0.05, nu_std = 0.03, t0 = 20, t = 86400;
  setup.a.device.drift = model(
      "power_law", {{"nu_mean", nu_mean}, {"nu_std", nu_std}, {"t0", t0}, {"t_inference", t}});
  CrossbarLayer layer(setup.a, setup.w, Tensor(), ChipKey{5, 0, "fc"});
  // E[f] and E[f^2], f = (t/t0)^(-max(0, nu)), by quadrature over the normal density.
  double mean_f = 0, mean_f2 = 0;
  for (double z = -8; z < 8; z += 1e-3) {
    double weight = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI) * 1e-3;
    double f = std::pow(t / t0, -std::max(0.0, nu_mean + nu_std * z));
    mean_f += weight * f;
    mean_f2 += weight * f * f;
  }
  const double var_f = mean_f2 - mean_f * mean_f;
  // u+ - u- = (G+ f+ - g_min f-)/ΔG with independent f
  const double g_plus = setup.g_min + setup.delta_g, g_minus = setup.g_min, dg = setup.delta_g;
  const double mean = (g_plus - g_minus) * mean_f / dg;
  const double variance = (g_plus * g_plus + g_minus * g_minus) * var_f / (dg * dg);
  expect_moments(setup.level_differences(layer), mean, variance, "drift");
}

// x = 1, W = 1, in_bits = w_bits = 2, cell_bits = 1: every read of phase + sums rows cells of
// G+ = g_max, G- = g_min, and y = acc.
struct ReadSetup {
  Options o;
  arch::Architecture a;
  Tensor w, x;
  static constexpr int64_t kRows = 64, M = 64, N = 256;
  ReadSetup() {
    o.rows = kRows;
    o.in_bits = 2;
    o.w_bits = 2;
    o.cell_bits = 1;
    o.adc = "ideal";
    o.scale = arch::WeightScale::kPerTensor;
    a = make_arch(o);
    w = Tensor(DType::kF32, {kRows, N});
    x = Tensor(DType::kF32, {M, kRows});
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = 1.0f;
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 1.0f;
  }
  std::vector<double> outputs() const {
    CrossbarLayer layer(a, w, Tensor(), ChipKey{9, 0, "fc"});
    EXPECT_FALSE(layer.reads_merged());
    Tensor y = layer.forward(x, 0);
    return std::vector<double>(y.data<float>(), y.data<float>() + y.numel());
  }
};

TEST(CrossbarNoise, ReadNoiseMatchesEachModel) {
  ReadSetup setup;
  const double g_min = setup.a.array.g_min, g_max = setup.a.array.g_max, dg = g_max - g_min;
  const double rows = ReadSetup::kRows;
  setup.a.device.read = model("constant", {{"sigma", 0.02}});
  expect_moments(setup.outputs(), rows, rows * 2 * std::pow(0.02 * g_max / dg, 2), "constant");
  setup.a.device.read = model("proportional", {{"sigma", 0.05}});
  expect_moments(setup.outputs(), rows,
                 rows * 0.05 * 0.05 * (g_max * g_max + g_min * g_min) / (dg * dg), "proportional");
}

TEST(CrossbarNoise, OutputNoiseOnEveryRead) {
  ReadSetup setup;
  setup.a.device.output = model("gaussian", {{"sigma", 0.01}});
  const double sigma = 0.01 * ReadSetup::kRows;  // FS = rows (2^1 - 1)(2^1 - 1)
  expect_moments(setup.outputs(), ReadSetup::kRows, 2 * sigma * sigma, "output");  // two phases
}

arch::Architecture noisy_arch() {
  Options o;
  o.rows = 64;
  arch::Architecture a = make_arch(o);
  a.device.programming = model("constant", {{"sigma", 0.03}});
  a.device.read = model("proportional", {{"sigma", 0.02}});
  a.device.output = model("gaussian", {{"sigma", 0.002}});
  a.device.stuck = model("random", {{"p_off", 0.01}, {"p_on", 0.01}, {"g_off", 0.0}});
  a.device.drift =
      model("power_law", {{"nu_mean", 0.05}, {"nu_std", 0.02}, {"t0", 20}, {"t_inference", 3600}});
  a.device.ir_drop = model("linear", {{"gamma", 0.1}});
  return a;
}

TEST(CrossbarDeterminism, SameSeedSameOutputsAcrossThreadsAndBatches) {
  const arch::Architecture a = noisy_arch();
  const int64_t M = 64, K = 150, N = 40;
  Tensor w = random_matrix(K, N, 10), b = random_matrix(1, N, 11).reshaped({N});
  Tensor x = random_matrix(M, K, 12);
  const int threads_before = num_threads();
  set_num_threads(1);
  CrossbarLayer single(a, w, b, ChipKey{42, 3, "fc"});
  Tensor y1 = single.forward(x, 100);
  set_num_threads(2);
  CrossbarLayer pooled(a, w, b, ChipKey{42, 3, "fc"});
  Tensor y2 = pooled.forward(x, 100);
  expect_bitwise_equal(y1, y2, "1 vs 2 threads");
  // Row by row, first_row = the row's global index.
  Tensor rows(DType::kF32, {M, N});
  for (int64_t m = 0; m < M; ++m) {
    Tensor row(DType::kF32, {1, K});
    std::copy_n(x.data<float>() + m * K, K, row.data<float>());
    Tensor y = pooled.forward(row, 100 + m);
    std::copy_n(y.data<float>(), N, rows.data<float>() + m * N);
  }
  expect_bitwise_equal(y1, rows, "batch 64 vs batch 1");
  set_num_threads(threads_before);

  // The noise is there, and depends on the trial and on the rows' global index.
  Tensor clean = crossbar_reference(a, w, b, x);
  CrossbarLayer other_trial(a, w, b, ChipKey{42, 4, "fc"});
  Tensor y3 = other_trial.forward(x, 100);
  Tensor y4 = single.forward(x, 0);
  int differ_clean = 0, differ_trial = 0, differ_rows = 0;
  for (int64_t i = 0; i < y1.numel(); ++i) {
    differ_clean += y1.data<float>()[i] != clean.data<float>()[i];
    differ_trial += y1.data<float>()[i] != y3.data<float>()[i];
    differ_rows += y1.data<float>()[i] != y4.data<float>()[i];
  }
  EXPECT_GT(differ_clean, y1.numel() / 2);
  EXPECT_GT(differ_trial, y1.numel() / 2);
  EXPECT_GT(differ_rows, y1.numel() / 2);
}

TEST(CrossbarCalibration, CalibratedAdcCoversThePercentile) {
  Options o;
  o.rows = 32;
  arch::Architecture a = make_arch(o);
  a.adc.range = arch::AdcRange::kCalibrated;
  const int64_t M = 32, K = 70, N = 20;
  Tensor w = random_matrix(K, N, 13), x = random_matrix(M, K, 14);
  a.adc.percentile = 100.0;
  CrossbarLayer full(a, w, Tensor(), ChipKey{1, 0, "fc"});
  EXPECT_THROW(full.forward(x, 0), Error);  // not calibrated yet
  full.calibrate(x);
  full.forward(x, 0);
  EXPECT_EQ(full.stats().adc_clipped, 0);
  EXPECT_GT(full.adc_lsb(), 0.0);
  a.adc.percentile = 90.0;
  CrossbarLayer tight(a, w, Tensor(), ChipKey{1, 0, "fc"});
  tight.calibrate(x);
  tight.forward(x, 0);
  EXPECT_LT(tight.adc_lsb(), full.adc_lsb());
  const double clipped = double(tight.stats().adc_clipped) / tight.stats().adc_conversions;
  EXPECT_GT(clipped, 0.0);
  EXPECT_LE(clipped, 0.1);
}

TEST(CrossbarCalibration, GlobalDriftCompensationUndoesAUniformDrift) {
  Options o;
  o.adc = "ideal";
  arch::Architecture a = make_arch(o);
  a.device.drift =
      model("power_law", {{"nu_mean", 0.1}, {"nu_std", 0.0}, {"t0", 20}, {"t_inference", 2000}});
  const double factor = std::pow(100.0, -0.1);
  const int64_t M = 16, K = 200, N = 30;
  Tensor w = random_matrix(K, N, 15), x = random_matrix(M, K, 16);
  Tensor expected = crossbar_reference(a, w, Tensor(), x);
  for (auto compensation : {arch::DriftCompensation::kNone, arch::DriftCompensation::kGlobal,
                            arch::DriftCompensation::kPerColumn}) {
    a.device.drift_compensation = compensation;
    CrossbarLayer layer(a, w, Tensor(), ChipKey{1, 0, "fc"});
    layer.calibrate(x);
    Tensor y = layer.forward(x, 0);
    // Every conductance (g_min included) scales by the factor, so does every read.
    const double scale = compensation == arch::DriftCompensation::kNone ? factor : 1.0;
    for (int64_t i = 0; i < y.numel(); ++i)
      EXPECT_NEAR(y.data<float>()[i], scale * expected.data<float>()[i],
                  1e-4 * (1 + std::abs(expected.data<float>()[i])));
  }
}

TEST(CrossbarErrors, BadInputs) {
  arch::Architecture a = make_arch(Options{});
  Tensor w = random_matrix(10, 4, 1);
  auto expect_bad_input = [](auto&& body) {
    try {
      body();
      ADD_FAILURE() << "no error";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kBadInput) << error.what();
    }
  };
  expect_bad_input([&] {
    arch::Architecture b = a;
    b.device.read = model("telegraph", {{"sigma", 0.1}});
    CrossbarLayer layer(b, w, Tensor(), ChipKey{});
  });
  expect_bad_input([&] {
    arch::Architecture b = a;
    b.adc.model = model("sigma_delta");
    CrossbarLayer layer(b, w, Tensor(), ChipKey{});
  });
  expect_bad_input([&] {
    CrossbarLayer layer(a, w, Tensor(), ChipKey{});
    layer.forward(random_matrix(2, 11, 1), 0);  // K mismatch
  });
  expect_bad_input([&] {
    arch::Architecture b = a;
    b.input.range = arch::InputRange::kStatic;
    CrossbarLayer layer(b, w, Tensor(), ChipKey{});
    layer.forward(random_matrix(2, 10, 1), 0);  // not calibrated
  });
}

}  // namespace
}  // namespace aimc::analog
