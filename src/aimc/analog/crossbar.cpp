// The crossbar dot-product engine (crossbar.h, ../shared/ANALOG_MODEL.md §1-2).
//
// Layout. Per row block r the programmed arrays are one float matrix [rows_in_block, N·S·c]:
// column (n·S + s)·c + j holds, for output column n and weight slice s, either the level
// difference u+ - u- (c = 1; u = (G - g_min)/ΔG, which is exactly the level m when no device
// effect is on, so that noise-free reads are exact integers), or, with IR drop (c = 4), the
// two polarities G+/ΔG, G-/ΔG and the same weighted by the row index (k+1), from which the
// first-order IR drop of each physical column follows in closed form. The input digits of a
// tile of x are stacked along M ([2·T·rows_of_x, rows_in_block]: phase, step, row), so one
// sgemm per (tile, row block) computes every read of the tile; the ADC and the shift-add
// then run element-wise on its result. Noise-free digit and level sums stay below 2^24, so
// float holds them exactly.
#include "aimc/analog/crossbar.h"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <mutex>

#include "aimc/core/error.h"
#include "aimc/core/int_math.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"
#include "aimc/device/noise.h"

namespace aimc::analog {

namespace {

using arch::kFloatExactLimit;
constexpr int64_t kDigitRowsPerTile = 256;     // rows of the stacked digit matrix per task
constexpr int64_t kGemmColumnsPerTile = 1024;  // columns of the conductance matrix per task
constexpr int kHistogramBins = 1 << 16;        // calibrated ADC: resolution of |I|

void single_thread_sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                         const float* b, int64_t ldb, float* c, int64_t ldc) {
  // Results must not depend on OpenBLAS's thread count: it runs single-threaded and our pool
  // spreads the tiles (as runtime/kernels_linalg.cpp does).
  [[maybe_unused]] static const bool single_threaded = (openblas_set_num_threads(1), true);
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0f,
              c, static_cast<int>(ldc));
}

// clamp(round(value), -limit, limit) as an integer; NaN gives 0.
int32_t quantise(double value, int64_t limit) {
  if (std::isnan(value)) return 0;
  const double bound = static_cast<double>(limit);
  return static_cast<int32_t>(device::round_half_away(std::clamp(value, -bound, bound)));
}

// codes[k] = quantise(values[k] / scale, limit) for k in [0, count) of finite values (callers
// reject the others), branch-free so that it vectorises (round half away from zero as in the
// ADC kernel of device/noise.cpp).
__attribute__((target_clones("avx2", "default"))) void quantise_row(const float* __restrict values,
                                                                    int64_t count, double scale,
                                                                    double limit,
                                                                    float* __restrict codes) {
  const double cap = limit + 1.0;                // |x| beyond it clamps whatever its rounding
  constexpr double kShift = 4503599627370496.0;  // 2^52: x + 2^52 - 2^52 rounds x to even
  for (int64_t k = 0; k < count; ++k) {
    const double scaled = static_cast<double>(values[k]) / scale;
    const double magnitude = std::fabs(scaled);
    const double bounded = magnitude < cap ? magnitude : cap;  // NaN -> cap, zeroed below
    const double even = (bounded + kShift) - kShift;
    const double rounded = even + (bounded - even >= 0.5 ? 1.0 : 0.0);
    const bool in_range = rounded <= limit;
    codes[k] = static_cast<float>(std::copysign(in_range ? rounded : limit, scaled));
  }
}

// The p-th percentile (0..100) of values, linearly interpolated between order statistics.
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  const double position = std::clamp(p, 0.0, 100.0) / 100.0 * (values.size() - 1);
  const auto lower = static_cast<size_t>(position);
  std::nth_element(values.begin(), values.begin() + lower, values.end());
  double low = values[lower];
  if (lower + 1 >= values.size()) return low;
  double high = *std::min_element(values.begin() + lower + 1, values.end());
  return low + (position - lower) * (high - low);
}

// out[m, j] = Σ_k digit[m, k] · b[k, j] for 0/1 digits (a 1-bit DAC), by the method of the
// Four Russians: the digits of 4 consecutive rows form a 4-bit code, and for each group of 4
// rows of b a table holds the 16 sums of its subsets, so that one row of the product is
// ceil(kb/4) table-row additions instead of kb multiply-adds. Each row m comes as the table
// entries (g·16 + code) of its groups whose code is not 0, in group order: entries[m·groups,
// + counts[m]) (groups = ceil(kb/4), missing rows of the last group count as 0). Entry 0 of
// a table is all zeros and adding +0 changes no sum, so leaving those groups out gives the
// same floats with fewer additions for sparse digits. Done in column chunks whose tables stay
// in the L1/L2 caches. The sums are added in a fixed order (tables lowest bit last, groups in
// order), so results do not depend on the thread count; noise-free sums are integers below
// 2^24 and exact in any order.
__attribute__((target_clones("avx2", "default"))) void binary_digit_product(
    const int32_t* __restrict entries, const int32_t* __restrict counts, int64_t rows_m, int64_t kb,
    const float* __restrict b, int64_t ldb, int64_t width, float* __restrict out,
    std::vector<float>& tables) {
  // Eight floats at any 4-byte alignment; a chunk is kVectors of them (held in registers).
  using Floats8 = float __attribute__((vector_size(32), aligned(4)));
  constexpr int kVectors = 8, kChunk = 8 * kVectors;
  const int64_t groups = ceil_div(kb, 4);
  tables.resize(static_cast<size_t>(groups * 16 * kChunk));
  float* const table_base = tables.data();
  for (int64_t c0 = 0; c0 < width; c0 += kChunk) {
    const int64_t cw = std::min<int64_t>(kChunk, width - c0);
    for (int64_t g = 0; g < groups; ++g) {
      float* table = table_base + g * 16 * kChunk;
      for (int j = 0; j < kChunk; ++j) table[j] = 0.0f;
      for (int code = 1; code < 16; ++code) {
        const int64_t k = g * 4 + std::countr_zero(static_cast<unsigned>(code));
        const float* __restrict rest = table + (code & (code - 1)) * kChunk;
        float* __restrict entry = table + code * kChunk;
        // Past the matrix (k >= kb, or columns past the chunk) the row counts as zero.
        for (int j = 0; j < kChunk; ++j)
          entry[j] = rest[j] + (k < kb && j < cw ? b[k * ldb + c0 + j] : 0.0f);
      }
    }
    for (int64_t m = 0; m < rows_m; ++m) {
      const int32_t* row_entries = entries + m * groups;
      Floats8 acc[kVectors] = {};
      for (int32_t i = 0; i < counts[m]; ++i) {
        const float* entry = table_base + static_cast<int64_t>(row_entries[i]) * kChunk;
        for (int v = 0; v < kVectors; ++v)
          acc[v] += *reinterpret_cast<const Floats8*>(entry + 8 * v);
      }
      float* row = out + m * width + c0;
      if (cw == kChunk) {
        for (int v = 0; v < kVectors; ++v) *reinterpret_cast<Floats8*>(row + 8 * v) = acc[v];
      } else {  // the last, partial chunk of a row
        float partial[kChunk];
        for (int v = 0; v < kVectors; ++v) *reinterpret_cast<Floats8*>(partial + 8 * v) = acc[v];
        std::copy(partial, partial + cw, row);
      }
    }
  }
}

// current[j] += sqrt(base_variance + variance[j]) · normals[j] (variance may be null). The
// file is built with -fno-math-errno (CMakeLists.txt) so that std::sqrt vectorises; it is
// correctly rounded either way.
__attribute__((target_clones("avx2", "default"))) void add_noise(double* __restrict current,
                                                                 const float* __restrict variance,
                                                                 const float* __restrict normals,
                                                                 int64_t count,
                                                                 double base_variance) {
  if (variance) {
    for (int64_t j = 0; j < count; ++j)
      current[j] += std::sqrt(base_variance + variance[j]) * normals[j];
  } else {
    const double sigma = std::sqrt(base_variance);
    for (int64_t j = 0; j < count; ++j) current[j] += sigma * normals[j];
  }
}

// add_noise in float, for the noisy reads without IR drop.
__attribute__((target_clones("avx2", "default"))) void add_noise_f32(
    float* __restrict current, const float* __restrict variance, const float* __restrict normals,
    int64_t count, float base_variance) {
  if (variance) {
    for (int64_t j = 0; j < count; ++j)
      current[j] += std::sqrt(base_variance + variance[j]) * normals[j];
  } else {
    const float sigma = std::sqrt(base_variance);
    for (int64_t j = 0; j < count; ++j) current[j] += sigma * normals[j];
  }
}

const float* checked_f32_matrix(const Tensor& t, const std::string& what, int64_t cols,
                                const std::string& node) {
  if (!t.is_valid() || t.dtype() != DType::kF32 || t.rank() != 2 || t.dim(1) != cols)
    throw_bad_input("crossbar layer '{}': {} must be float32 [*, {}], got {} {}", node, what, cols,
                    t.is_valid() ? dtype_name(t.dtype()) : "nothing",
                    t.is_valid() ? shape_str(t.shape()) : "");
  return t.data<float>();
}

// The conductance of one cell, before and after drift (S), under the architecture's
// programming noise, stuck cells and drift. The cell index keys its random numbers, so a
// cell's fate does not depend on the layer's tiling or the thread count.
struct CellModel {
  std::unique_ptr<device::ProgrammingNoise> programming;
  std::unique_ptr<device::Drift> drift;
  std::unique_ptr<device::StuckCells> stuck;
  RngStream programming_stream, drift_stream, stuck_stream;
  double g_min, g_max, delta_g;

  struct Cell {
    double programmed, drifted;
  };

  CellModel(const arch::Architecture& arch, const ChipKey& key, double g_min_s, double g_max_s,
            double delta_g_s)
      : programming(device::make_programming_noise(arch.device.programming)),
        drift(device::make_drift(arch.device.drift)),
        stuck(device::make_stuck_cells(arch.device.stuck)),
        programming_stream(key.seed, key.trial, key.node, "programming"),
        drift_stream(key.seed, key.trial, key.node, "drift"),
        stuck_stream(key.seed, key.trial, key.node, "stuck"),
        g_min(g_min_s),
        g_max(g_max_s),
        delta_g(delta_g_s) {}

  bool perturbed() const { return programming || drift || stuck; }

  Cell program(int level, uint64_t cell) const {
    const double target = g_min + level * delta_g;
    if (!perturbed()) return {target, target};
    double g = target;
    if (programming)
      g += g_max * programming->sigma(target / g_max) * programming_stream.normal(cell);
    g = std::clamp(g, 0.0, g_max);
    device::CellState state = device::CellState::kNormal;
    if (stuck) {
      state = stuck->state(stuck_stream.uniform(cell));
      g = stuck->conductance(state, g, g_max);
    }
    double drifted = g;
    if (drift && state == device::CellState::kNormal)  // a stuck cell holds its value
      drifted =
          std::clamp(g * drift->factor(drift->exponent(drift_stream.normal(cell))), 0.0, g_max);
    return {g, drifted};
  }

  // u = (G - g_min)/ΔG, computed as the level plus the deviation so that it is exactly the
  // level when the cell is unperturbed.
  double level_units(int level, double g) const {
    return level + (g - (g_min + level * delta_g)) / delta_g;
  }
};

}  // namespace

struct CrossbarLayer::Impl {
  arch::Architecture arch;
  ChipKey key;
  int64_t in_features = 0, out_features = 0;  // K, N
  int rows = 0;                               // rows per array
  int steps = 0, slices = 0;                  // T, S
  int64_t input_limit = 0, weight_limit = 0;  // Qx, Qw
  int digit_max = 0, level_max = 0;           // 2^dac_bits - 1, 2^cell_bits - 1
  double g_min = 0, g_max = 0, delta_g = 0;
  int64_t row_blocks = 0;
  double full_scale = 0;  // FS = rows (2^dac_bits - 1)(2^cell_bits - 1), current units
  int64_t adc_codes = 0;  // C
  double adc_lsb = 0;     // 0: not calibrated yet
  double output_sigma = 0;
  // device.read.mode: aggregated. The reads go noise-free through the ADC, and each output
  // gets one Gaussian with the variance of the per-read terms of exact mode, weighted by
  // their shift-add factors: Σ_k a[m, k] b[k, n] + output_variance_sum.
  bool aggregated = false;
  // Read noise drawn at every read (exact mode): each read's Σ v² σ² is computed.
  bool per_read_variance() const { return read_noise && !aggregated; }
  std::vector<float> summed_read_variance;  // b [K, N] = Σ_s 4^(cell_bits s) σ_r²(G+, G-)
  double output_variance_sum = 0;           // σ_out² Σ over one output's reads of w²
  std::vector<float> input_weight;          // a for each |x_q| in [0, Qx]
  double static_input_scale = 0;            // 0: not calibrated yet (input.range: static)
  std::vector<double> weight_scale;         // s_w[n]
  std::vector<double> bias;                 // b[n], zeros when absent
  std::vector<double> drift_compensation;   // per column, 1 when none

  std::unique_ptr<device::ReadNoise> read_noise;
  std::unique_ptr<device::IrDrop> ir_drop;
  std::unique_ptr<device::Adc> adc;

  int columns_per_pair = 1;                       // c above: 1, or 4 with IR drop
  std::vector<std::vector<float>> conductance;    // per row block [rows_in_block, N·S·c]
  std::vector<std::vector<float>> read_variance;  // per row block [rows_in_block, N·S]
  bool merged = false;                            // see reads_merged()
  std::vector<float> merged_levels;               // [K, N] recombined levels (row blocks stacked)
  int64_t merged_rows_per_product = 0;            // K rows per sgemm: whole row blocks
  std::vector<float> predrift_levels;             // [K, N] Σ_s 2^(cell_bits s)(u+ - u-)

  int64_t block_rows(int64_t r) const { return std::min<int64_t>(rows, in_features - r * rows); }
  int64_t reads_per_row() const { return row_blocks * 2 * steps * slices; }

  void program(const Tensor& weight);
  void set_weight_scales(const float* w);        // s_w per column (or per tensor)
  void choose_read_path(bool perturbed);         // merged reads when they are exact
  std::vector<float> recombined_levels() const;  // [K, N], the current (drifted) state
  void quantise_inputs(const Tensor& x, std::vector<float>& codes,
                       std::vector<double>& scales) const;
  // Runs every read of x's rows [m0, m1) x columns [n0, n1); accumulates the recombined
  // digital result into acc [M, N] or, when histogram is set, counts |I| there instead.
  int64_t run_tile(const std::vector<float>& codes, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                   int64_t first_row, const RngStream& noise_stream, std::vector<double>& acc,
                   std::vector<int64_t>* histogram) const;
  // run_tile's two paths: merged reads (one exact product per block of rows), and the rest.
  void run_merged_tile(const std::vector<float>& codes, int64_t m0, int64_t m1, int64_t n0,
                       int64_t n1, std::vector<double>& acc) const;
  struct TileReads;
  // Calls run_tile over a static split of [0, M) x [0, N) that depends on the shapes only.
  int64_t run(const std::vector<float>& codes, int64_t M, int64_t first_row,
              const RngStream& noise_stream, std::vector<double>& acc,
              std::vector<int64_t>* histogram) const;
  // Merged reads whose whole K fits one exact product: y = s_x s_w (x_q · levels) c + b with
  // the product written straight into y (no double accumulator: with one product it would
  // hold the same float sums), tiled as run() does.
  void run_merged_into(const std::vector<float>& codes, const std::vector<double>& scales,
                       int64_t M, float* y) const;
  // Aggregated mode: acc[m, n] += sqrt(Σ_k a[m, k] b[k, n] + output_variance_sum) z[m, n],
  // a[m, k] = Σ_t 4^(dac_bits t) digit_t(|x_q[m, k]|)², z from counters (global row, column).
  void add_aggregated_noise(const std::vector<float>& codes, int64_t M, int64_t first_row,
                            std::vector<double>& acc) const;
  double histogram_range() const { return 2.0 * full_scale; }
  // y[m, n] from the recombined sum of row m (scale s_x) and column n (ANALOG_MODEL.md §1).
  float dequantise(double input_scale, int64_t n, double acc) const {
    return static_cast<float>(input_scale * weight_scale[n] * acc * drift_compensation[n] +
                              bias[n]);
  }
};

CrossbarLayer::CrossbarLayer(const arch::Architecture& arch, const Tensor& weight,
                             const Tensor& bias, ChipKey key)
    : impl_(std::make_shared<Impl>()) {
  Impl& s = *impl_;
  s.arch = arch;
  s.key = std::move(key);
  const std::string& node = s.key.node;
  if (!weight.is_valid() || weight.dtype() != DType::kF32 || weight.rank() != 2)
    throw_bad_input("crossbar layer '{}': the weight must be float32 [K, N]", node);
  s.in_features = weight.dim(0);
  s.out_features = weight.dim(1);
  if (bias.is_valid() && (bias.dtype() != DType::kF32 || bias.numel() != s.out_features))
    throw_bad_input("crossbar layer '{}': the bias must be float32 [{}]", node, s.out_features);

  const arch::ArrayConfig& array = arch.array;
  // The architecture was validated on load (arch/schema.cpp); these are invariants here.
  AIMC_ASSERT(array.rows >= 1 && array.cols >= 1 && array.cell_bits >= 1 && array.cell_bits <= 8 &&
                  arch.input.in_bits >= 2 && arch.input.in_bits <= 16 && arch.input.dac_bits >= 1 &&
                  arch.input.dac_bits < arch.input.in_bits && arch.weights.w_bits >= 2 &&
                  arch.weights.w_bits <= 16 && arch.adc.bits >= 2 && arch.adc.bits <= 24 &&
                  array.g_min >= 0.0 && array.g_max > array.g_min &&
                  arch.full_scale() < kFloatExactLimit,
              "crossbar layer '{}': the architecture was not validated", node);
  s.rows = array.rows;
  s.steps = arch.input_steps();
  s.slices = arch.weight_slices();
  s.input_limit = arch.input_limit();
  s.weight_limit = arch.weight_limit();
  s.digit_max = arch.digit_max();
  s.level_max = arch.level_max();
  s.g_min = array.g_min;
  s.g_max = array.g_max;
  s.delta_g = (array.g_max - array.g_min) / s.level_max;
  s.row_blocks = ceil_div(s.in_features, s.rows);
  s.full_scale = arch.full_scale();
  s.adc_codes = arch.adc_codes();

  s.adc = device::make_adc(arch.adc.model);
  s.read_noise = device::make_read_noise(arch.device.read);
  s.ir_drop = device::make_ir_drop(arch.device.ir_drop);
  if (auto output_noise = device::make_output_noise(arch.device.output))
    s.output_sigma = output_noise->sigma(s.full_scale);
  s.columns_per_pair = s.ir_drop ? 4 : 1;
  s.aggregated = arch.device.read_mode == arch::ReadNoiseMode::kAggregated &&
                 (s.read_noise || s.output_sigma > 0.0);
  if (s.aggregated) {
    // Every read of an output (zero digits included) carries output noise in exact mode:
    // row blocks x 2 phases x Σ_t 4^(dac_bits t) x Σ_s 4^(cell_bits s).
    double steps_sum = 0.0, slices_sum = 0.0;
    for (int t = 0; t < s.steps; ++t) steps_sum += std::ldexp(1.0, 2 * arch.input.dac_bits * t);
    for (int q = 0; q < s.slices; ++q) slices_sum += std::ldexp(1.0, 2 * array.cell_bits * q);
    s.output_variance_sum = s.output_sigma * s.output_sigma * static_cast<double>(s.row_blocks) *
                            2.0 * steps_sum * slices_sum;
    s.input_weight.resize(s.input_limit + 1);
    for (int64_t magnitude = 0; magnitude <= s.input_limit; ++magnitude) {
      double sum = 0.0;
      for (int t = 0; t < s.steps; ++t) {
        const int64_t digit = (magnitude >> (arch.input.dac_bits * t)) & s.digit_max;
        sum += std::ldexp(static_cast<double>(digit * digit), 2 * arch.input.dac_bits * t);
      }
      s.input_weight[magnitude] = static_cast<float>(sum);
    }
  }
  if (arch.adc.range == arch::AdcRange::kFull) {
    int exponent = 0;  // LSB = 2^max(0, ceil(log2(FS / C))): the top bits of the exact sum
    while (static_cast<double>(s.adc_codes) * std::ldexp(1.0, exponent) < s.full_scale) ++exponent;
    s.adc_lsb = std::ldexp(1.0, exponent);
  }
  if (!s.adc->quantises()) s.adc_lsb = 1.0;  // an ideal ADC needs no range

  const float* w = weight.data<float>();
  for (int64_t i = 0; i < weight.numel(); ++i)
    if (!std::isfinite(w[i]))
      throw_bad_input("crossbar layer '{}': the weight holds a non-finite value", node);
  s.bias.assign(s.out_features, 0.0);
  if (bias.is_valid())
    for (int64_t n = 0; n < s.out_features; ++n) s.bias[n] = bias.data<float>()[n];
  s.drift_compensation.assign(s.out_features, 1.0);
  s.program(weight);

  stats_.row_blocks = s.row_blocks;
  stats_.col_blocks = ceil_div(s.out_features, array.cols);
  stats_.slices = s.slices;
  stats_.arrays = stats_.row_blocks * stats_.col_blocks * stats_.slices * 2;
}

void CrossbarLayer::Impl::program(const Tensor& weight) {
  const int64_t K = in_features, N = out_features, S = slices;
  const float* w = weight.data<float>();
  set_weight_scales(w);

  const CellModel cells_model(arch, key, g_min, g_max, delta_g);
  const bool perturbed = cells_model.perturbed();
  const bool keep_predrift =
      cells_model.drift && arch.device.drift_compensation != arch::DriftCompensation::kNone;
  if (keep_predrift) predrift_levels.assign(K * N, 0.0f);
  using Cell = CellModel::Cell;
  auto program_cell = [&](int level, uint64_t cell) { return cells_model.program(level, cell); };
  auto level_units = [&](int level, double g) { return cells_model.level_units(level, g); };

  const int c = columns_per_pair;
  conductance.assign(row_blocks, {});
  const bool per_read = per_read_variance(), summed = read_noise && aggregated;
  if (per_read) read_variance.assign(row_blocks, {});
  if (summed) summed_read_variance.assign(K * N, 0.0f);
  const int cell_bits = arch.array.cell_bits;
  parallel_for(0, row_blocks, 1, [&](int64_t r) {
    const int64_t kb = block_rows(r);
    std::vector<float>& block = conductance[r];
    block.assign(kb * N * S * c, 0.0f);
    if (per_read) read_variance[r].assign(kb * N * S, 0.0f);
    for (int64_t kl = 0; kl < kb; ++kl) {
      const int64_t k = r * rows + kl;
      for (int64_t n = 0; n < N; ++n) {
        const int32_t w_q = quantise(w[k * N + n] / weight_scale[n], weight_limit);
        const int32_t magnitude[2] = {std::max(w_q, 0), std::max(-w_q, 0)};
        double predrift = 0.0, summed_variance = 0.0;
        for (int64_t s = 0; s < S; ++s) {
          Cell cells[2];
          int levels[2];
          for (int pol = 0; pol < 2; ++pol) {
            levels[pol] = (magnitude[pol] >> (cell_bits * s)) & level_max;
            cells[pol] =
                program_cell(levels[pol], static_cast<uint64_t>(((k * N + n) * S + s) * 2 + pol));
          }
          float* out = block.data() + kl * N * S * c + (n * S + s) * c;
          if (c == 1) {
            out[0] = static_cast<float>(level_units(levels[0], cells[0].drifted) -
                                        level_units(levels[1], cells[1].drifted));
          } else {
            for (int pol = 0; pol < 2; ++pol) {
              out[pol] = static_cast<float>(cells[pol].drifted / delta_g);
              out[2 + pol] = static_cast<float>((kl + 1) * cells[pol].drifted / delta_g);
            }
          }
          if (read_noise) {
            double variance = 0.0;
            for (const Cell& cell : cells) {
              double sigma = g_max * read_noise->sigma(cell.drifted / g_max) / delta_g;
              variance += sigma * sigma;
            }
            if (per_read) read_variance[r][kl * N * S + n * S + s] = static_cast<float>(variance);
            summed_variance += std::ldexp(variance, 2 * cell_bits * static_cast<int>(s));
          }
          predrift += std::ldexp(level_units(levels[0], cells[0].programmed) -
                                     level_units(levels[1], cells[1].programmed),
                                 cell_bits * static_cast<int>(s));
        }
        if (keep_predrift) predrift_levels[k * N + n] = static_cast<float>(predrift);
        if (summed) summed_read_variance[k * N + n] = static_cast<float>(summed_variance);
      }
    }
  });

  choose_read_path(perturbed);
}

void CrossbarLayer::Impl::set_weight_scales(const float* w) {
  const int64_t K = in_features, N = out_features;
  // s_w = max |W| / Qw per column or for the whole tensor; an all-zero column keeps scale 1.
  weight_scale.assign(N, 0.0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      weight_scale[n] = std::max(weight_scale[n], std::abs(static_cast<double>(w[k * N + n])));
  if (arch.weights.scale == arch::WeightScale::kPerTensor) {
    double overall = N > 0 ? *std::max_element(weight_scale.begin(), weight_scale.end()) : 0.0;
    std::fill(weight_scale.begin(), weight_scale.end(), overall);
  }
  for (double& scale : weight_scale) scale = scale > 0.0 ? scale / weight_limit : 1.0;
}

void CrossbarLayer::Impl::choose_read_path(bool perturbed) {
  // Reads merge when each is exact and unquantised, and a row block's whole sum
  // (|x_q| <= Qx, |recombined level| <= Qw) still fits float exactly.
  const bool lossless_adc =
      !adc->quantises() || (!perturbed && arch.adc.range == arch::AdcRange::kFull &&
                            adc_lsb == 1.0 && adc_codes >= full_scale);
  const bool noise_in_reads = !aggregated && (read_noise || output_sigma > 0.0);
  merged = lossless_adc && !noise_in_reads && !ir_drop &&
           static_cast<double>(rows) * input_limit * weight_limit < kFloatExactLimit;
  if (merged) {
    merged_levels = recombined_levels();
    // As many whole row blocks per product as keep its sum exact in float: one product over
    // all of K for the usual layers (the integer sum is the same whatever the grouping).
    const int64_t exact_rows = static_cast<int64_t>(
        (kFloatExactLimit - 1) / (static_cast<double>(input_limit) * weight_limit));
    merged_rows_per_product = std::max<int64_t>(1, exact_rows / rows) * rows;
  }
}

std::vector<float> CrossbarLayer::Impl::recombined_levels() const {
  const int64_t N = out_features, S = slices;
  const int c = columns_per_pair;
  std::vector<float> levels(in_features * N);
  for (int64_t r = 0; r < row_blocks; ++r)
    for (int64_t kl = 0; kl < block_rows(r); ++kl)
      for (int64_t n = 0; n < N; ++n) {
        double sum = 0.0;
        for (int64_t s = 0; s < S; ++s) {
          const float* cell = conductance[r].data() + kl * N * S * c + (n * S + s) * c;
          double difference = c == 1 ? cell[0] : static_cast<double>(cell[0]) - cell[1];
          sum += std::ldexp(difference, arch.array.cell_bits * static_cast<int>(s));
        }
        levels[(r * rows + kl) * N + n] = static_cast<float>(sum);
      }
  return levels;
}

void CrossbarLayer::Impl::quantise_inputs(const Tensor& x, std::vector<float>& codes,
                                          std::vector<double>& scales) const {
  const int64_t M = x.dim(0), K = in_features;
  const float* data = x.data<float>();
  codes.resize(M * K);
  scales.resize(M);
  const bool is_static = arch.input.range == arch::InputRange::kStatic;
  for (int64_t m = 0; m < M; ++m) {
    double scale = static_input_scale;
    if (!is_static) {
      double absmax = 0.0;
      for (int64_t k = 0; k < K; ++k)
        absmax = std::max(absmax, std::abs(static_cast<double>(data[m * K + k])));
      scale = absmax > 0.0 ? absmax / input_limit : 1.0;
    }
    scales[m] = scale;
    quantise_row(data + m * K, K, scale, static_cast<double>(input_limit), codes.data() + m * K);
  }
}

void CrossbarLayer::Impl::run_merged_tile(const std::vector<float>& codes, int64_t m0, int64_t m1,
                                          int64_t n0, int64_t n1, std::vector<double>& acc) const {
  // acc += x_q · Σ_s 2^(cell_bits s) (m+ - m-), row blocks grouped per product.
  const int64_t K = in_features, N = out_features, mr = m1 - m0, nr = n1 - n0;
  std::vector<float> out(mr * nr);
  for (int64_t k0 = 0; k0 < K; k0 += merged_rows_per_product) {
    const int64_t kn = std::min(merged_rows_per_product, K - k0);
    single_thread_sgemm(mr, nr, kn, codes.data() + m0 * K + k0, K,
                        merged_levels.data() + k0 * N + n0, N, out.data(), nr);
    for (int64_t m = 0; m < mr; ++m)
      for (int64_t n = 0; n < nr; ++n) acc[(m0 + m) * N + n0 + n] += out[m * nr + n];
  }
}

// The reads of one tile (rows [m0, m0 + mr) x columns [n0, n0 + nr)) that do not merge: per
// row block, the input digits stacked along M, the sums every read collects, then each read's
// noise and ADC conversion; ADC codes are summed per (m, n, s) and shift-added at the end.
struct CrossbarLayer::Impl::TileReads {
  const Impl& layer;
  const std::vector<float>& codes;
  const int64_t m0, mr, n0, nr;
  const int64_t digit_rows, width, reads_width;
  // 1-bit digits (the usual bit-serial DAC) go through binary_digit_product as the table
  // entries of their non-zero 4-bit codes;
  // wider digits through sgemm.
  const bool binary_digits;
  const bool noisy;              // per-read noise (exact mode)
  const bool per_read_variance;  // read noise drawn per read: Σ v² σ² of each read
  // IR drop (columns_per_pair 4): L = Σ v G / (rows Dmax g_max) and γ / rows, once per tile.
  const double load_scale, ir_slope;
  std::vector<float> digits, squares, tables;
  // Every read's sum and Σ v² σ², written in full by products() before they are read: not
  // zero-filled (a 1 MB memset per tile was 5 % of an aggregated-mode eval). Noisy float
  // reads add their noise to their sums in place.
  std::unique_ptr<float[]> out, variance;
  std::vector<int32_t> group_entries, group_counts;  // binary digits: [digit_rows, groups]
  // A read whose digits are all zero drives no current and draws no read noise: with no
  // output noise its ADC code is 0 (nothing to add) and its random numbers are never used.
  std::vector<char> row_is_zero;
  std::vector<double> current;
  std::vector<float> normals;
  // Σ_r Σ_phase (±1) Σ_t 2^(dac_bits t) code per (m, n, s), in units of the LSB: integers for
  // a quantising ADC, so exact in any order; shift-added over s at the end of the tile.
  std::vector<double> code_sums;

  TileReads(const Impl& impl, const std::vector<float>& input_codes, int64_t first_m, int64_t end_m,
            int64_t first_n, int64_t end_n, bool histogram)
      : layer(impl),
        codes(input_codes),
        m0(first_m),
        mr(end_m - first_m),
        n0(first_n),
        nr(end_n - first_n),
        digit_rows(2 * impl.steps * mr),
        width(nr * impl.slices * impl.columns_per_pair),
        reads_width(nr * impl.slices),
        binary_digits(impl.digit_max == 1),
        noisy(!impl.aggregated && (impl.read_noise || impl.output_sigma > 0.0)),
        per_read_variance(impl.per_read_variance()),
        load_scale(impl.delta_g / (static_cast<double>(impl.rows) * impl.digit_max * impl.g_max)),
        ir_slope(impl.ir_drop ? impl.ir_drop->row_slope() / impl.rows : 0.0),
        digits(binary_digits ? 0 : digit_rows * impl.rows),
        out(std::make_unique_for_overwrite<float[]>(digit_rows * width)),
        group_entries(binary_digits ? digit_rows * ceil_div(impl.rows, 4) : 0),
        group_counts(binary_digits ? digit_rows : 0),
        row_is_zero(digit_rows),
        current(reads_width),
        normals(noisy ? reads_width : 0),
        code_sums(histogram ? 0 : mr * reads_width, 0.0) {
    if (per_read_variance && !binary_digits) squares.resize(digits.size());
    if (per_read_variance)
      variance = std::make_unique_for_overwrite<float[]>(digit_rows * reads_width);
  }

  // 1-bit digits of row block r as 4-bit group codes, four inputs at a time: their magnitudes
  // in the 16-bit lanes of a word w, bit t of each lane gathered by one multiplication
  // (((w >> t) & 0x0001000100010001) · (2^48 + 2^33 + 2^18 + 2^3) puts lane j's bit at
  // 48 + j, and no other partial product reaches bits 48..51). Each digit row keeps the
  // table entries of its non-zero codes (branch-free: every entry is written, the count
  // advances only past non-zero codes), once for both products of the row block.
  void encode_binary_digits(int64_t r, int64_t kb) {
    const int64_t groups = ceil_div(kb, 4);
    constexpr uint64_t kLaneBits = 0x0001000100010001ull;
    constexpr uint64_t kGather = (1ull << 48) | (1ull << 33) | (1ull << 18) | (1ull << 3);
    std::fill(group_counts.begin(), group_counts.end(), 0);
    for (int64_t m = 0; m < mr; ++m) {
      const float* code = codes.data() + (m0 + m) * layer.in_features + r * layer.rows;
      for (int64_t g = 0; g < groups; ++g) {
        uint64_t lanes[2] = {0, 0};  // positive and negative magnitudes
        for (int j = 0; j < 4 && g * 4 + j < kb; ++j) {
          const int value = static_cast<int>(code[g * 4 + j]);
          lanes[0] |= static_cast<uint64_t>(std::max(value, 0)) << (16 * j);
          lanes[1] |= static_cast<uint64_t>(std::max(-value, 0)) << (16 * j);
        }
        for (int phase = 0; phase < 2; ++phase)
          for (int t = 0; t < layer.steps; ++t) {
            const auto bits =
                static_cast<uint8_t>((((lanes[phase] >> t) & kLaneBits) * kGather) >> 48);
            const int64_t digit_row = (phase * layer.steps + t) * mr + m;
            int32_t& count = group_counts[digit_row];
            group_entries[digit_row * groups + count] = static_cast<int32_t>(g * 16 + bits);
            count += bits != 0;
          }
      }
    }
    for (int64_t row = 0; row < digit_rows; ++row) row_is_zero[row] = group_counts[row] == 0;
  }

  // Digits of row block r stacked along M: row (phase·T + step)·mr + m.
  void encode_digits(int64_t r, int64_t kb) {
    if (binary_digits) {
      encode_binary_digits(r, kb);
      return;
    }
    const int dac_bits = layer.arch.input.dac_bits, digit_max = layer.digit_max;
    for (int phase = 0; phase < 2; ++phase)
      for (int t = 0; t < layer.steps; ++t)
        for (int64_t m = 0; m < mr; ++m) {
          const float* code = codes.data() + (m0 + m) * layer.in_features + r * layer.rows;
          const int64_t digit_row = (phase * layer.steps + t) * mr + m;
          auto digit_at = [&](int64_t kl) {  // digit t of this phase's magnitude
            const int value = static_cast<int>(code[kl]);
            const int magnitude = phase == 0 ? std::max(value, 0) : std::max(-value, 0);
            return (magnitude >> (dac_bits * t)) & digit_max;
          };
          int any = 0;
          float* row = digits.data() + digit_row * kb;
          for (int64_t kl = 0; kl < kb; ++kl) {
            const int digit = digit_at(kl);
            any |= digit;
            row[kl] = static_cast<float>(digit);
          }
          row_is_zero[digit_row] = any == 0;
        }
  }

  // Σ v G of every read of row block r (and Σ v² σ² of its read noise).
  void products(int64_t r, int64_t kb) {
    const int64_t N = layer.out_features, S = layer.slices;
    const int c = layer.columns_per_pair;
    if (binary_digits) {  // with 1-bit digits v² = v: the variance uses the same codes
      binary_digit_product(group_entries.data(), group_counts.data(), digit_rows, kb,
                           layer.conductance[r].data() + n0 * S * c, N * S * c, width, out.get(),
                           tables);
      if (per_read_variance)
        binary_digit_product(group_entries.data(), group_counts.data(), digit_rows, kb,
                             layer.read_variance[r].data() + n0 * S, N * S, reads_width,
                             variance.get(), tables);
      return;
    }
    single_thread_sgemm(digit_rows, width, kb, digits.data(), kb,
                        layer.conductance[r].data() + n0 * S * c, N * S * c, out.get(), width);
    if (per_read_variance) {
      for (int64_t i = 0; i < digit_rows * kb; ++i) squares[i] = digits[i] * digits[i];
      single_thread_sgemm(digit_rows, reads_width, kb, squares.data(), kb,
                          layer.read_variance[r].data() + n0 * S, N * S, variance.get(),
                          reads_width);
    }
  }

  // The currents of one read row (IR drop applied), into `current`.
  void read_currents(int64_t row) {
    const float* sums = out.get() + row * width;
    if (layer.columns_per_pair == 1) {
      for (int64_t j = 0; j < reads_width; ++j) current[j] = sums[j];
      return;
    }
    // Per polarity: Σ v G (1 - γ (k+1)/rows L), L = Σ v G / (rows Dmax g_max).
    for (int64_t j = 0; j < reads_width; ++j) {
      const float* p = sums + j * 4;
      const double positive = p[0] - ir_slope * (p[0] * load_scale) * p[2];
      const double negative = p[1] - ir_slope * (p[1] * load_scale) * p[3];
      current[j] = positive - negative;
    }
  }

  // Every read of row block r: noise, then the ADC (or |I| into the histogram). Returns the
  // clipped conversions.
  int64_t convert(int64_t r, int64_t first_row, const RngStream& noise_stream,
                  std::vector<int64_t>* histogram) {
    const int64_t N = layer.out_features, S = layer.slices;
    const bool skip_zero_reads = !noisy || layer.output_sigma == 0.0;
    const double output_variance = layer.output_sigma * layer.output_sigma;
    const double histogram_scale = kHistogramBins / layer.histogram_range();
    int64_t clipped = 0;
    for (int phase = 0; phase < 2; ++phase)
      for (int t = 0; t < layer.steps; ++t)
        for (int64_t m = 0; m < mr; ++m) {
          const int64_t row = (phase * layer.steps + t) * mr + m;
          if (skip_zero_reads && row_is_zero[row]) {
            if (histogram) (*histogram)[0] += reads_width;  // |I| = 0
            continue;
          }
          const double step_weight =
              (phase == 0 ? 1.0 : -1.0) * std::ldexp(1.0, layer.arch.input.dac_bits * t);
          if (!noisy && !histogram && layer.columns_per_pair == 1) {
            // Noise-free reads without IR drop: their float sums straight into the ADC.
            clipped += layer.adc->accumulate_codes(out.get() + row * width, reads_width,
                                                   layer.adc_lsb, layer.adc_codes, step_weight,
                                                   code_sums.data() + m * reads_width);
            continue;
          }
          const float* row_variance =
              per_read_variance ? variance.get() + row * reads_width : nullptr;
          if (noisy) {
            // Counter (global row, read group, column, slice): the same whatever the batch or
            // the tiling; the tile's reads of one group are consecutive counters, drawn in bulk.
            const uint64_t read_base =
                static_cast<uint64_t>(first_row + m0 + m) * layer.reads_per_row() +
                ((r * 2 + phase) * layer.steps + t) * S;
            noise_stream.fill_fast_normal(read_base * N + n0 * S, reads_width, normals.data());
          }
          if (noisy && !histogram && layer.columns_per_pair == 1) {
            // Noisy reads without IR drop in float, 8 lanes, in place: I + sqrt(σ_out² +
            // Σ v² σ²) z (float keeps I to 2^-24 relative, far below any read noise), then the
            // ADC's float path. The calibration histogram below stays in double.
            float* sums = out.get() + row * width;
            add_noise_f32(sums, row_variance, normals.data(), reads_width,
                          static_cast<float>(output_variance));
            clipped +=
                layer.adc->accumulate_codes(sums, reads_width, layer.adc_lsb, layer.adc_codes,
                                            step_weight, code_sums.data() + m * reads_width);
            continue;
          }
          read_currents(row);
          if (noisy)
            add_noise(current.data(), row_variance, normals.data(), reads_width, output_variance);
          if (histogram) {
            for (double value : current) {
              auto bin = static_cast<int64_t>(std::abs(value) * histogram_scale);
              ++(*histogram)[std::min<int64_t>(bin, kHistogramBins - 1)];
            }
            continue;
          }
          clipped += layer.adc->accumulate_codes(current.data(), reads_width, layer.adc_lsb,
                                                 layer.adc_codes, step_weight,
                                                 code_sums.data() + m * reads_width);
        }
    return clipped;
  }

  // Shift-add over the slices, then back to current units (× LSB), into acc [M, N].
  void shift_add(std::vector<double>& acc) const {
    const int64_t N = layer.out_features, S = layer.slices;
    std::vector<double> slice_weight(S);  // 2^(cell_bits s)
    for (int64_t s = 0; s < S; ++s)
      slice_weight[s] = std::ldexp(1.0, layer.arch.array.cell_bits * static_cast<int>(s));
    for (int64_t m = 0; m < mr; ++m) {
      const double* sums = code_sums.data() + m * reads_width;
      double* acc_row = acc.data() + (m0 + m) * N + n0;
      for (int64_t n = 0; n < nr; ++n) {
        double sum = 0.0;
        for (int64_t s = 0; s < S; ++s) sum += slice_weight[s] * sums[n * S + s];
        acc_row[n] += layer.adc_lsb * sum;
      }
    }
  }
};

int64_t CrossbarLayer::Impl::run_tile(const std::vector<float>& codes, int64_t m0, int64_t m1,
                                      int64_t n0, int64_t n1, int64_t first_row,
                                      const RngStream& noise_stream, std::vector<double>& acc,
                                      std::vector<int64_t>* histogram) const {
  if (merged) {
    AIMC_ASSERT(histogram == nullptr, "merged reads are never histogrammed");
    run_merged_tile(codes, m0, m1, n0, n1, acc);
    return 0;
  }
  TileReads tile(*this, codes, m0, m1, n0, n1, histogram != nullptr);
  int64_t clipped = 0;
  for (int64_t r = 0; r < row_blocks; ++r) {
    const int64_t kb = block_rows(r);
    tile.encode_digits(r, kb);
    tile.products(r, kb);
    clipped += tile.convert(r, first_row, noise_stream, histogram);
  }
  if (!histogram) tile.shift_add(acc);
  return clipped;
}

void CrossbarLayer::Impl::run_merged_into(const std::vector<float>& codes,
                                          const std::vector<double>& scales, int64_t M,
                                          float* y) const {
  const int64_t K = in_features, N = out_features;
  const int64_t m_tiles = ceil_div(M, kDigitRowsPerTile),
                n_tiles = ceil_div(N, kGemmColumnsPerTile);
  parallel_for(0, m_tiles * n_tiles, 1, [&](int64_t task) {
    const int64_t m0 = task / n_tiles * kDigitRowsPerTile,
                  n0 = task % n_tiles * kGemmColumnsPerTile;
    const int64_t m1 = std::min(M, m0 + kDigitRowsPerTile),
                  n1 = std::min(N, n0 + kGemmColumnsPerTile);
    single_thread_sgemm(m1 - m0, n1 - n0, K, codes.data() + m0 * K, K, merged_levels.data() + n0, N,
                        y + m0 * N + n0, N);
    for (int64_t m = m0; m < m1; ++m)
      for (int64_t n = n0; n < n1; ++n) y[m * N + n] = dequantise(scales[m], n, y[m * N + n]);
  });
}

int64_t CrossbarLayer::Impl::run(const std::vector<float>& codes, int64_t M, int64_t first_row,
                                 const RngStream& noise_stream, std::vector<double>& acc,
                                 std::vector<int64_t>* histogram) const {
  const int64_t N = out_features;
  const int64_t digit_rows_per_x_row = merged ? 1 : 2 * steps;
  const int64_t columns_per_n = merged ? 1 : slices * columns_per_pair;
  const int64_t m_tile = std::max<int64_t>(1, kDigitRowsPerTile / digit_rows_per_x_row);
  const int64_t n_tile = std::max<int64_t>(16, kGemmColumnsPerTile / columns_per_n / 16 * 16);
  const int64_t m_tiles = ceil_div(M, m_tile), n_tiles = ceil_div(N, n_tile);
  std::vector<int64_t> clipped(m_tiles * n_tiles, 0);
  std::mutex histogram_mutex;
  parallel_for(0, m_tiles * n_tiles, 1, [&](int64_t task) {
    const int64_t m0 = task / n_tiles * m_tile, n0 = task % n_tiles * n_tile;
    const int64_t m1 = std::min(M, m0 + m_tile), n1 = std::min(N, n0 + n_tile);
    if (!histogram) {
      clipped[task] = run_tile(codes, m0, m1, n0, n1, first_row, noise_stream, acc, nullptr);
      return;
    }
    std::vector<int64_t> local(kHistogramBins, 0);
    run_tile(codes, m0, m1, n0, n1, first_row, noise_stream, acc, &local);
    std::lock_guard<std::mutex> lock(histogram_mutex);  // integer counts: order is irrelevant
    for (int i = 0; i < kHistogramBins; ++i) (*histogram)[i] += local[i];
  });
  int64_t total = 0;
  for (int64_t count : clipped) total += count;
  return total;
}

void CrossbarLayer::Impl::add_aggregated_noise(const std::vector<float>& codes, int64_t M,
                                               int64_t first_row, std::vector<double>& acc) const {
  const int64_t K = in_features, N = out_features;
  const RngStream stream(key.seed, key.trial, key.node, "aggregated_read");
  constexpr int64_t kRowsPerTask = 32;
  parallel_for(0, ceil_div(M, kRowsPerTask), 1, [&](int64_t task) {
    const int64_t m0 = task * kRowsPerTask, m1 = std::min(M, m0 + kRowsPerTask), mr = m1 - m0;
    std::vector<float> variance(mr * N, 0.0f), normals(N);
    // Σ_k a[m, k] b[k, n] row by row in a fixed order (not sgemm, whose summation order may
    // change with the number of rows): the same noise whatever the batch.
    if (!summed_read_variance.empty())
      for (int64_t m = m0; m < m1; ++m) {
        float* __restrict out = variance.data() + (m - m0) * N;
        for (int64_t k = 0; k < K; ++k) {
          const float a = input_weight[static_cast<int64_t>(std::abs(codes[m * K + k]))];
          if (a == 0.0f) continue;
          const float* __restrict b = summed_read_variance.data() + k * N;
          for (int64_t n = 0; n < N; ++n) out[n] += a * b[n];
        }
      }
    for (int64_t m = m0; m < m1; ++m) {
      stream.fill_fast_normal(static_cast<uint64_t>(first_row + m) * N, N, normals.data());
      const float* v = variance.data() + (m - m0) * N;
      double* row = acc.data() + m * N;
      for (int64_t n = 0; n < N; ++n)
        row[n] += std::sqrt(static_cast<double>(v[n]) + output_variance_sum) * normals[n];
    }
  });
}

void CrossbarLayer::calibrate(const Tensor& x) {
  Impl& s = *impl_;
  const float* data = checked_f32_matrix(x, "the calibration input", s.in_features, s.key.node);
  const int64_t M = x.dim(0), K = s.in_features, N = s.out_features;
  if (M == 0) throw_bad_input("crossbar layer '{}': empty calibration input", s.key.node);
  for (int64_t i = 0; i < M * K; ++i)
    if (!std::isfinite(data[i]))
      throw_bad_input(
          "crossbar layer '{}': the calibration input holds a non-finite value ({} at row {} of "
          "{}, column {})",
          s.key.node, data[i], i / K, M, i % K);
  if (s.arch.input.range == arch::InputRange::kStatic) {
    std::vector<double> magnitudes(M * K);
    for (int64_t i = 0; i < M * K; ++i) magnitudes[i] = std::abs(static_cast<double>(data[i]));
    const double range = percentile(std::move(magnitudes), s.arch.input.percentile);
    if (!std::isfinite(range))
      throw_bad_input("crossbar layer '{}': non-finite calibration input", s.key.node);
    s.static_input_scale = range > 0.0 ? range / s.input_limit : 1.0;
  }
  std::vector<float> codes;
  std::vector<double> scales;
  s.quantise_inputs(x, codes, scales);

  if (s.arch.adc.range == arch::AdcRange::kCalibrated && s.adc->quantises()) {
    // F = the adc.percentile of |I| over every read of the calibration set (noise included,
    // from a stream of its own), from a histogram of 2^16 bins over [0, 2 FS]; F is the upper
    // edge of its bin, so that the ADC does not clip more than the percentile says.
    std::vector<int64_t> histogram(kHistogramBins, 0);
    std::vector<double> unused;
    s.run(codes, M, 0, RngStream(s.key.seed, s.key.trial, s.key.node, "calibration_read"), unused,
          &histogram);
    int64_t total = 0;
    for (int64_t count : histogram) total += count;
    const double wanted = std::clamp(s.arch.adc.percentile, 0.0, 100.0) / 100.0 * total;
    int64_t cumulative = 0;
    int bin = 0;
    for (; bin < kHistogramBins - 1; ++bin) {
      cumulative += histogram[bin];
      if (static_cast<double>(cumulative) >= wanted) break;
    }
    const double range = (bin + 1) * s.histogram_range() / kHistogramBins;
    s.adc_lsb = range / s.adc_codes;
  }

  if (!s.predrift_levels.empty()) {
    // Drift compensation: the ratio of the output magnitudes before and after drift on the
    // calibration inputs (the noise-free linear part of the reads), per layer or per column.
    std::vector<float> drifted = s.recombined_levels();
    std::vector<float> before(M * N), after(M * N);
    single_thread_sgemm(M, N, K, codes.data(), K, s.predrift_levels.data(), N, before.data(), N);
    single_thread_sgemm(M, N, K, codes.data(), K, drifted.data(), N, after.data(), N);
    std::vector<double> sum_before(N, 0.0), sum_after(N, 0.0);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        sum_before[n] += std::abs(before[m * N + n]);
        sum_after[n] += std::abs(after[m * N + n]);
      }
    if (s.arch.device.drift_compensation == arch::DriftCompensation::kGlobal) {
      double total_before = 0.0, total_after = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        total_before += sum_before[n];
        total_after += sum_after[n];
      }
      std::fill(sum_before.begin(), sum_before.end(), total_before);
      std::fill(sum_after.begin(), sum_after.end(), total_after);
    }
    for (int64_t n = 0; n < N; ++n)
      s.drift_compensation[n] = sum_after[n] > 0.0 ? sum_before[n] / sum_after[n] : 1.0;
  }
}

Tensor CrossbarLayer::forward(const Tensor& x, int64_t first_row) {
  Impl& s = *impl_;
  const float* data = checked_f32_matrix(x, "the input", s.in_features, s.key.node);
  const int64_t M = x.dim(0), K = s.in_features, N = s.out_features;
  if (s.arch.input.range == arch::InputRange::kStatic && s.static_input_scale == 0.0)
    throw_bad_input("crossbar layer '{}': input.range: static needs calibrate() first", s.key.node);
  if (s.adc_lsb == 0.0)
    throw_bad_input("crossbar layer '{}': adc.range: calibrated needs calibrate() first",
                    s.key.node);
  if (first_row < 0) throw_bad_input("crossbar layer '{}': negative first_row", s.key.node);
  for (int64_t i = 0; i < M * K; ++i)
    if (!std::isfinite(data[i]))
      throw_bad_input(
          "crossbar layer '{}': the input holds a non-finite value ({} at global row {}, column "
          "{})",
          s.key.node, data[i], first_row + i / K, i % K);

  std::vector<float> codes;
  std::vector<double> scales;
  s.quantise_inputs(x, codes, scales);
  const int64_t reads = M * s.reads_per_row();
  stats_.reads += reads;
  stats_.adc_conversions += reads * N;
  if (s.merged && s.merged_rows_per_product >= K && !s.aggregated) {
    Tensor y(DType::kF32, {M, N});
    s.run_merged_into(codes, scales, M, y.data<float>());
    return y;
  }
  std::vector<double> acc(M * N, 0.0);
  const int64_t clipped = s.run(
      codes, M, first_row, RngStream(s.key.seed, s.key.trial, s.key.node, "read"), acc, nullptr);
  if (s.aggregated) s.add_aggregated_noise(codes, M, first_row, acc);

  Tensor y(DType::kF32, {M, N});
  float* out = y.data<float>();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) out[m * N + n] = s.dequantise(scales[m], n, acc[m * N + n]);

  stats_.adc_clipped += clipped;
  return y;
}

int64_t CrossbarLayer::in_features() const {
  return impl_->in_features;
}
int64_t CrossbarLayer::out_features() const {
  return impl_->out_features;
}
double CrossbarLayer::adc_lsb() const {
  return impl_->adc_lsb;
}
bool CrossbarLayer::reads_merged() const {
  return impl_->merged;
}
void CrossbarLayer::disable_read_merging() {
  impl_->merged = false;
  impl_->merged_levels.clear();
}

Tensor CrossbarLayer::effective_levels() const {
  const Impl& s = *impl_;
  const int64_t K = s.in_features, N = s.out_features, S = s.slices;
  const int c = s.columns_per_pair;
  Tensor levels(DType::kF64, {S, K, N});
  double* out = levels.data<double>();
  for (int64_t r = 0; r < s.row_blocks; ++r)
    for (int64_t kl = 0; kl < s.block_rows(r); ++kl)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t sl = 0; sl < S; ++sl) {
          const float* cell = s.conductance[r].data() + kl * N * S * c + (n * S + sl) * c;
          out[(sl * K + r * s.rows + kl) * N + n] =
              c == 1 ? cell[0] : static_cast<double>(cell[0]) - cell[1];
        }
  return levels;
}

Tensor crossbar_reference(const arch::Architecture& arch, const Tensor& weight, const Tensor& bias,
                          const Tensor& x) {
  // x: [M, K], weight: [K, N] -> [M, N]; plain loops, int64 products.
  const int64_t M = x.dim(0), K = x.dim(1), N = weight.dim(1);
  AIMC_ASSERT(weight.dim(0) == K, "crossbar_reference: x is [{}, {}], weight [{}, {}]", M, K,
              weight.dim(0), N);
  const int64_t qx = (int64_t{1} << (arch.input.in_bits - 1)) - 1;
  const int64_t qw = (int64_t{1} << (arch.weights.w_bits - 1)) - 1;
  const float* xs = x.data<float>();
  const float* ws = weight.data<float>();

  std::vector<double> w_scale(N, 0.0);
  double w_max = 0.0;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      w_scale[n] = std::max(w_scale[n], std::abs(static_cast<double>(ws[k * N + n])));
      w_max = std::max(w_max, w_scale[n]);
    }
  for (int64_t n = 0; n < N; ++n) {
    double range = arch.weights.scale == arch::WeightScale::kPerTensor ? w_max : w_scale[n];
    w_scale[n] = range > 0.0 ? range / qw : 1.0;
  }
  std::vector<int64_t> w_q(K * N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      double v = std::round(ws[k * N + n] / w_scale[n]);
      w_q[k * N + n] = static_cast<int64_t>(std::clamp(v, -double(qw), double(qw)));
    }

  Tensor y(DType::kF32, {M, N});
  float* out = y.data<float>();
  std::vector<int64_t> x_q(K);
  for (int64_t m = 0; m < M; ++m) {
    double x_max = 0.0;
    for (int64_t k = 0; k < K; ++k) x_max = std::max(x_max, std::abs(double(xs[m * K + k])));
    const double x_scale = x_max > 0.0 ? x_max / qx : 1.0;
    for (int64_t k = 0; k < K; ++k) {
      double v = std::round(xs[m * K + k] / x_scale);
      x_q[k] = static_cast<int64_t>(std::clamp(v, -double(qx), double(qx)));
    }
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += x_q[k] * w_q[k * N + n];
      const double b = bias.is_valid() ? bias.data<float>()[n] : 0.0;
      out[m * N + n] = static_cast<float>(x_scale * w_scale[n] * static_cast<double>(acc) + b);
    }
  }
  return y;
}

}  // namespace aimc::analog
