// The readout trees of readout.mode acam (readout.h, docs/analog-model.md, "ADC-less readout").
#include "aimc/analog/readout.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::analog {

namespace {

// Columns [first, first + count) of x [M, K].
Tensor columns_of(const Tensor& x, int64_t first, int64_t count) {
  const int64_t m = x.dim(0), k = x.dim(1);
  if (first == 0 && count == k) return x;
  Tensor part(DType::kF32, {m, count});
  for (int64_t r = 0; r < m; ++r)
    std::copy(x.data<float>() + r * k + first, x.data<float>() + r * k + first + count,
              part.data<float>() + r * count);
  return part;
}

// x [M, K] · w [K, N] (+ bias [N]) in fp32: the digital values a readout is calibrated on.
Tensor digital_product(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(1);
  Tensor y(DType::kF32, {m, n});
  if (m > 0)
    runtime::nn::sgemm(false, false, m, n, k, 1.0f, x.data<float>(), w.data<float>(), 0.0f,
                       y.data<float>());
  if (bias.is_valid())
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < n; ++j) y.data<float>()[r * n + j] += bias.data<float>()[j];
  return y;
}

}  // namespace

arch::Architecture analog_sum_architecture(const arch::Architecture& arch) {
  arch::Architecture sum = arch;
  sum.adc.model = arch::ModelConfig{};
  sum.adc.model.model = "ideal";
  sum.adc.range = arch::AdcRange::kFull;
  return sum;
}

std::vector<std::pair<double, double>> readout_ranges(const Tensor& y, AcamFunction f,
                                                      const arch::ReadoutConfig& config) {
  AIMC_ASSERT(y.rank() == 2, "readout calibration values must be [M, N]");
  const int64_t m = y.dim(0), n = y.dim(1);
  const float* p = y.data<float>();
  const double share = config.percentile / 100.0;
  std::vector<std::pair<double, double>> ranges(static_cast<size_t>(n));
  parallel_for(0, n, 1, [&](int64_t j) {
    std::vector<double> values;
    values.reserve(static_cast<size_t>(m));
    for (int64_t r = 0; r < m; ++r)
      if (std::isfinite(p[r * n + j])) values.push_back(p[r * n + j]);
    // A column that saw nothing finite keeps lo > hi: usable_range makes it neutral.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    if (!values.empty()) {
      // The central `share` of the values: (1 - share) / 2 cut off at each end.
      const size_t last = values.size() - 1;
      const auto cut =
          static_cast<size_t>(std::floor((1.0 - share) / 2.0 * static_cast<double>(last)));
      std::nth_element(values.begin(), values.begin() + cut, values.end());
      lo = values[cut];
      std::nth_element(values.begin(), values.begin() + (last - cut), values.end());
      hi = values[last - cut];
    }
    const int codes = 1 << config.depth(acam_function_name(f));
    if (f == AcamFunction::kRelu && lo < 0.0 && hi > 0.0 && codes > 1)
      lo = -hi / (codes - 1);  // one leaf below 0 (centre -step/2: relu 0), the rest on [0, hi]
    ranges[static_cast<size_t>(j)] = usable_range(lo, hi);
  });
  return ranges;
}

ColumnReadout::ColumnReadout(const arch::ReadoutConfig& config, AcamFunction f,
                             const Tensor& calibration, const ChipKey& key) {
  const std::string name = acam_function_name(f);
  const arch::AcamConfig unit_config = config.unit_config(name);
  AIMC_ASSERT(unit_config.in_bits >= 1, "readout function {} has no depth", name);
  const std::vector<std::pair<double, double>> ranges = readout_ranges(calibration, f, config);
  units_.reserve(ranges.size());
  for (size_t j = 0; j < ranges.size(); ++j) {
    units_.emplace_back(f, ranges[j].first, ranges[j].second, unit_config);
    if (units_.back().rows() > config.rows_per_column)
      throw_bad_input(
          "node '{}': the readout tree of column {} for {} at depth {} needs {} CAM rows, but "
          "readout.rows_per_column is {} (raise it, or lower readout.depth_{} or "
          "readout.out_bits)",
          key.node, j, name, unit_config.in_bits, units_.back().rows(), config.rows_per_column,
          name);
    units_.back().program({key.seed, key.trial, key.node + "/readout/" + std::to_string(j)});
  }
}

void ColumnReadout::apply(Tensor& y, int64_t first_row) const {
  AIMC_ASSERT(y.rank() == 2 && y.dim(1) == columns(), "readout of {} columns applied to {}",
              columns(), shape_str(y.shape()));
  const int64_t m = y.dim(0), n = y.dim(1);
  float* p = y.data<float>();
  std::vector<std::optional<AcamUnit::Lookup>> lookups;
  lookups.reserve(units_.size());
  for (const AcamUnit& unit : units_) lookups.push_back(unit.lookup());
  parallel_for(0, m, 16, [&](int64_t r) {
    float* row = p + r * n;
    for (int64_t j = 0; j < n; ++j) {
      const auto& lookup = lookups[static_cast<size_t>(j)];
      const double x = row[j];
      row[j] = static_cast<float>(
          lookup ? (*lookup)(x)
                 : units_[static_cast<size_t>(j)].search(x, (first_row + r) * n + j));
    }
  });
}

int64_t ColumnReadout::rows() const {
  int64_t total = 0;
  for (const AcamUnit& unit : units_) total += unit.rows();
  return total;
}

ReadoutLayer::ReadoutLayer(const arch::Architecture& arch, const Tensor& w, const Tensor& bias,
                           const Tensor& calibration, AcamFunction f, const ChipKey& key)
    : in_features_(w.dim(0)), out_features_(w.dim(1)) {
  const arch::Architecture sum_arch = analog_sum_architecture(arch);
  const int64_t k = w.dim(0), n = w.dim(1), rows = sum_arch.array.rows;
  const int64_t blocks = std::max<int64_t>(1, (k + rows - 1) / rows);
  AIMC_ASSERT(blocks == 1 || f == AcamFunction::kIdentity,
              "node '{}': a readout over {} row blocks cannot fuse {}", key.node, blocks,
              acam_function_name(f));
  if (calibration.rank() != 2 || calibration.dim(1) != k)
    throw_bad_input("node '{}': readout calibration rows must be [rows, {}], got {}", key.node, k,
                    shape_str(calibration.shape()));
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t first = b * rows, count = std::min(rows, k - first);
    Tensor wb(DType::kF32, {count, n});
    std::copy(w.data<float>() + first * n, w.data<float>() + (first + count) * n, wb.data<float>());
    const Tensor bb = b == 0 ? bias : Tensor();  // the bias enters with the first block
    ChipKey block_key = key;
    if (blocks > 1) block_key.node += "/block" + std::to_string(b);
    Block block{first, count, std::make_shared<CrossbarLayer>(sum_arch, wb, bb, block_key),
                nullptr};
    const Tensor xb = columns_of(calibration, first, count);
    if (xb.dim(0) > 0) block.crossbar->calibrate(xb);
    block.readout =
        std::make_shared<ColumnReadout>(arch.readout, f, digital_product(xb, wb, bb), block_key);
    blocks_.push_back(std::move(block));
  }
}

Tensor ReadoutLayer::forward(const Tensor& x, int64_t first_row, bool read) {
  AIMC_ASSERT(read || blocks_.size() == 1, "only a one-block readout defers its search");
  Tensor sum;
  for (Block& block : blocks_) {
    Tensor y = block.crossbar->forward(columns_of(x, block.first, block.count), first_row);
    if (read) block.readout->apply(y, first_row);
    if (!sum.is_valid()) {
      sum = y;
      continue;
    }
    float* ps = sum.data<float>();
    const float* py = y.data<float>();
    for (int64_t i = 0; i < sum.numel(); ++i) ps[i] += py[i];
  }
  return sum;
}

void ReadoutLayer::read(Tensor& y, int64_t first_row) const {
  AIMC_ASSERT(blocks_.size() == 1, "only a one-block readout defers its search");
  blocks_[0].readout->apply(y, first_row);
}

int64_t ReadoutLayer::arrays() const {
  int64_t total = 0;
  for (const Block& block : blocks_) total += block.crossbar->stats().arrays;
  return total;
}

int64_t ReadoutLayer::cam_rows() const {
  int64_t total = 0;
  for (const Block& block : blocks_) total += block.readout->rows();
  return total;
}

}  // namespace aimc::analog
