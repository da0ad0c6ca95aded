// The engines of the analog lowerings (engines.h). Each class is one lowering's calibrate /
// program / run, as ANALOG_MODEL.md §1-§3 and docs/analog-model.md define them.
#include "aimc/analog/engines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "aimc/analog/acam.h"
#include "aimc/analog/crossbar.h"
#include "aimc/analog/readout.h"
#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/ir/conv_geometry.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::analog {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Crossbar calibration keeps at most this many input rows per layer (the first ones).
constexpr int64_t kMaxCalibrationRows = 8192;

// Rows of x per sample when x's first dimension is the batch.
int64_t rows_per_sample(int64_t rows, int64_t batch) {
  return batch > 0 && rows % batch == 0 ? rows / batch : rows;
}

// Index of an inference's first element when x holds `batch` samples from `first_sample` on.
int64_t first_element_of(const Tensor& x, int64_t first_sample, int64_t batch) {
  return first_sample * rows_per_sample(x.numel(), batch);
}

// x: [N, C, H, W] -> columns [N*OH*OW, C/g*kh*kw] of group g.
Tensor im2col_group(const Tensor& x, const ir::WindowGeometry& w, int64_t group, int64_t g) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t cg = c / group, kh = w.kernel[0], kw = w.kernel[1];
  const int64_t oh = w.output[0], ow = w.output[1];
  Tensor cols(DType::kF32, {n * oh * ow, cg * kh * kw});
  const float* px = x.data<float>();
  float* pc = cols.data<float>();
  const int64_t k = cg * kh * kw;
  parallel_for(0, n * oh, 1, [&](int64_t row) {
    const int64_t s = row / oh, y = row % oh;
    for (int64_t xo = 0; xo < ow; ++xo) {
      float* dst = pc + ((s * oh + y) * ow + xo) * k;
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t iy = y * w.strides[0] - w.pads[0] + i * w.dilations[0];
            const int64_t ix = xo * w.strides[1] - w.pads[1] + j * w.dilations[1];
            *dst++ = (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                         ? 0.0f
                         : px[((s * c + g * cg + ci) * h + iy) * wd + ix];
          }
    }
  });
  return cols;
}

Tensor bias_of(const ir::Node& node) {
  return node.inputs.size() > 2 && node.inputs[2] ? node.inputs[2]->constant : Tensor();
}

// Group g of a conv weight w [M, C/group, kh, kw] as the crossbar matrix [C/group·kh·kw,
// M/group], with its share of the bias (invalid when there is none).
std::pair<Tensor, Tensor> conv_group_weight(const Tensor& w, const Tensor& bias, int64_t group,
                                            int64_t g) {
  const int64_t m = w.dim(0), mg = m / group, k = w.numel() / m;
  Tensor wg(DType::kF32, {k, mg});
  for (int64_t o = 0; o < mg; ++o)
    for (int64_t i = 0; i < k; ++i)
      wg.data<float>()[i * mg + o] = w.data<float>()[(g * mg + o) * k + i];
  Tensor bg;
  if (bias.is_valid()) {
    bg = Tensor(DType::kF32, {mg});
    std::copy(bias.data<float>() + g * mg, bias.data<float>() + (g + 1) * mg, bg.data<float>());
  }
  return {wg, bg};
}

// The noise streams of group g of a conv (the node's own when it has one group).
ChipKey conv_group_key(const ChipInstance& chip, const ir::Node& node, int64_t group, int64_t g) {
  ChipKey key{chip.seed, chip.trial, node.name};
  if (group > 1) key.node += "/group" + std::to_string(g);
  return key;
}

// Group g's channels of y [N, M, OH, OW] as [N·OH·OW, M/group] rows (gather), and back
// (scatter).
Tensor gather_group(const Tensor& y, int64_t group, int64_t g) {
  const int64_t samples = y.dim(0), m = y.dim(1), mg = m / group;
  const int64_t plane = y.numel() / std::max<int64_t>(samples * m, 1);
  Tensor rows(DType::kF32, {samples * plane, mg});
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t o = 0; o < mg; ++o)
        rows.data<float>()[(s * plane + p) * mg + o] =
            y.data<float>()[((s * m) + g * mg + o) * plane + p];
  return rows;
}
void scatter_group(const Tensor& rows, Tensor& y, int64_t group, int64_t g) {
  const int64_t samples = y.dim(0), m = y.dim(1), mg = m / group;
  const int64_t plane = y.numel() / std::max<int64_t>(samples * m, 1);
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t o = 0; o < mg; ++o)
        y.data<float>()[((s * m) + g * mg + o) * plane + p] =
            rows.data<float>()[(s * plane + p) * mg + o];
}

// Crossbar layers keep the first calibration rows each of their arrays' inputs saw.
class CrossbarEngine : public NodeEngine {
 public:
  explicit CrossbarEngine(const ChipInstance& chip) : chip_(chip) {}
  int64_t arrays() const override {
    int64_t total = 0;
    for (const auto& crossbar : crossbars_) total += crossbar->stats().arrays;
    return total;
  }

 protected:
  // The rows recorded for crossbar `index`, concatenated, at most kMaxCalibrationRows.
  Tensor calibration_input(size_t index) const {
    const auto& chunks = calibration_rows_[index];
    const int64_t k = chunks.front().dim(1);
    int64_t rows = 0;
    for (const Tensor& c : chunks) rows += c.dim(0);
    rows = std::min(rows, kMaxCalibrationRows);
    Tensor all(DType::kF32, {rows, k});
    int64_t at = 0;
    for (const Tensor& c : chunks) {
      const int64_t take = std::min(c.dim(0), rows - at);
      std::copy(c.data<float>(), c.data<float>() + take * k, all.data<float>() + at * k);
      at += take;
      if (at == rows) break;
    }
    return all;
  }
  // Weight matrix `index` [K, N] of the layer (a conv has one per group), programmed from its
  // recorded rows, and its forward pass: crossbars read through ADCs here; WithReadout reads
  // them through readout trees instead.
  virtual void add_matrix(const Tensor& weight, const Tensor& bias, const ChipKey& key,
                          size_t index) {
    crossbars_.push_back(std::make_unique<CrossbarLayer>(*chip_.arch, weight, bias, key));
    if (calibration_rows_.size() > index) crossbars_.back()->calibrate(calibration_input(index));
  }
  virtual Tensor forward_matrix(size_t index, const Tensor& x, int64_t first_row) {
    return crossbars_[index]->forward(x, first_row);
  }
  void drop_calibration() {
    calibration_rows_.clear();
    calibration_rows_.shrink_to_fit();
  }
  // What a linear (one matrix) and a conv (one per group) record: their matrices' input rows.
  void record_linear(const std::vector<Tensor>& args) {
    const Tensor& x = args[0];
    const int64_t k = args[1].dim(0);
    if (calibration_rows_.empty()) calibration_rows_.resize(1);
    calibration_rows_[0].push_back(x.reshaped({x.numel() / std::max<int64_t>(k, 1), k}));
  }
  void record_conv(const ir::Node& node, const std::vector<Tensor>& args, int64_t group) {
    const Tensor& x = args[0];
    const Tensor& w = args[1];
    const ir::WindowGeometry window =
        ir::resolve_window(node, {x.dim(2), x.dim(3)}, {w.dim(2), w.dim(3)});
    calibration_rows_.resize(static_cast<size_t>(group));
    for (int64_t g = 0; g < group; ++g)
      calibration_rows_[g].push_back(im2col_group(x, window, group, g));
  }

  ChipInstance chip_;
  std::vector<std::vector<Tensor>> calibration_rows_;  // per crossbar: [rows, K] chunks
  std::vector<std::unique_ptr<CrossbarLayer>> crossbars_;
};

class CrossbarLinearEngine : public CrossbarEngine {
 public:
  using CrossbarEngine::CrossbarEngine;
  void record(const ir::Node&, const std::vector<Tensor>& args) override { record_linear(args); }
  void program(const ir::Node& node) override {
    add_matrix(node.inputs[1]->constant, bias_of(node), {chip_.seed, chip_.trial, node.name}, 0);
    drop_calibration();
  }
  bool run(const ir::Node&, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override {
    const Tensor& x = args[0];
    const int64_t k = args[1].dim(0), n = args[1].dim(1);  // the weight [K, N]
    const int64_t rows = x.numel() / k;
    Tensor y =
        forward_matrix(0, x.reshaped({rows, k}), first_sample * rows_per_sample(rows, batch));
    Shape out = x.shape();
    out.back() = n;
    results = {y.reshaped(out)};
    return true;
  }
};

class CrossbarConvEngine : public CrossbarEngine {
 public:
  CrossbarConvEngine(const ChipInstance& chip, const ir::Node& node)
      : CrossbarEngine(chip), group_(node.attr_int("group", 1)) {}
  void record(const ir::Node& node, const std::vector<Tensor>& args) override {
    record_conv(node, args, group_);
  }
  void program(const ir::Node& node) override {
    for (int64_t g = 0; g < group_; ++g) {
      const auto [wg, bg] = conv_group_weight(node.inputs[1]->constant, bias_of(node), group_, g);
      add_matrix(wg, bg, conv_group_key(chip_, node, group_, g), static_cast<size_t>(g));
    }
    drop_calibration();
  }
  bool run(const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t) override {
    const Tensor& x = args[0];
    const ir::WindowGeometry window =
        ir::resolve_window(node, {x.dim(2), x.dim(3)}, {args[1].dim(2), args[1].dim(3)});
    const int64_t oh = window.output[0], ow = window.output[1];
    Tensor y(DType::kF32, {x.dim(0), args[1].dim(0), oh, ow});
    for (int64_t g = 0; g < group_; ++g)
      scatter_group(forward_matrix(static_cast<size_t>(g), im2col_group(x, window, group_, g),
                                   first_sample * oh * ow),
                    y, group_, g);
    results = {y};
    return true;
  }

 protected:
  int64_t group_;
};

// Engines built on ACAM function units.
class AcamEngine : public NodeEngine {
 public:
  explicit AcamEngine(const ChipInstance& chip) : chip_(chip) {}
  int64_t acam_rows() const override {
    int64_t rows = 0;
    if (unit_) rows += unit_->rows();
    if (second_unit_) rows += second_unit_->rows();
    return rows;
  }

 protected:
  std::unique_ptr<AcamUnit> make_unit(AcamFunction f, double lo, double hi,
                                      const std::string& key_node) const {
    auto unit = std::make_unique<AcamUnit>(f, lo, hi, chip_.arch->acam);
    unit->program({chip_.seed, chip_.trial, key_node});
    return unit;
  }

  ChipInstance chip_;
  double min_ = kInf, max_ = -kInf;  // calibration statistics
  std::unique_ptr<AcamUnit> unit_, second_unit_;
};

class AcamUnaryEngine : public AcamEngine {
 public:
  AcamUnaryEngine(const ChipInstance& chip, const lowering::Lowering& lowering) : AcamEngine(chip) {
    std::optional<AcamFunction> f = acam_function_from_name(lowering.acam_functions.at(0));
    AIMC_ASSERT(f, "lowering {}: no ACAM function '{}'", lowering.name,
                lowering.acam_functions.at(0));
    function_ = *f;
  }
  void record(const ir::Node&, const std::vector<Tensor>& args) override {
    for (float v : args[0].values<float>())
      if (std::isfinite(v)) min_ = std::min<double>(min_, v), max_ = std::max<double>(max_, v);
  }
  void program(const ir::Node& node) override {
    auto [lo, hi] = usable_range(min_, max_);
    unit_ = make_unit(function_, lo, hi, node.name);
  }
  bool run(const ir::Node&, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override {
    const Tensor& x = args[0];
    Tensor y(DType::kF32, x.shape());
    unit_->apply(x.data<float>(), y.data<float>(), x.numel(),
                 first_element_of(x, first_sample, batch));
    results = {y};
    return true;
  }

 private:
  AcamFunction function_ = AcamFunction::kIdentity;
};

class AcamSoftmaxEngine : public AcamEngine {
 public:
  using AcamEngine::AcamEngine;
  void record(const ir::Node&, const std::vector<Tensor>& args) override {
    const Tensor& x = args[0];
    const int64_t n = x.shape().back();
    const float* p = x.data<float>();
    for (int64_t r = 0; r < x.numel() / std::max<int64_t>(n, 1); ++r) {
      double m = -kInf;
      for (int64_t i = 0; i < n; ++i) m = std::max<double>(m, p[r * n + i]);
      if (!std::isfinite(m)) continue;
      double s = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        double d = p[r * n + i] - m;
        if (!std::isfinite(d)) continue;
        min_ = std::min(min_, d);
        s += std::exp(d);
      }
      sum_min_ = std::min(sum_min_, s);
      sum_max_ = std::max(sum_max_, s);
    }
  }
  void program(const ir::Node& node) override {
    // exp below -(out_bits + 1)·ln 2 is under one output step of the unit: the range
    // stops there so that the codes near 0, where the mass is, stay fine.
    const double floor = -(chip_.arch->acam.out_bits + 1) * std::log(2.0);
    auto [lo, hi] = usable_range(std::max(min_, floor), 0.0);
    unit_ = make_unit(AcamFunction::kExp, lo, hi, node.name + "/exp");
    auto [slo, shi] = usable_range(sum_min_, sum_max_);
    second_unit_ = make_unit(AcamFunction::kReciprocal, slo, shi, node.name + "/reciprocal");
  }
  bool run(const ir::Node&, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override {
    results = {acam_softmax(args[0], *unit_, *second_unit_,
                            first_element_of(args[0], first_sample, batch))};
    return true;
  }

 private:
  double sum_min_ = kInf, sum_max_ = -kInf;
};

class AcamLayerNormEngine : public AcamEngine {
 public:
  using AcamEngine::AcamEngine;
  void record(const ir::Node& node, const std::vector<Tensor>& args) override {
    const Tensor& x = args[0];
    const int64_t n = x.shape().back();
    const double eps = node.attr_float("epsilon", 1e-5);
    const float* p = x.data<float>();
    for (int64_t r = 0; r < x.numel() / std::max<int64_t>(n, 1); ++r) {
      double mean = 0.0, var = 0.0;
      for (int64_t i = 0; i < n; ++i) mean += p[r * n + i];
      mean /= n;
      for (int64_t i = 0; i < n; ++i) var += (p[r * n + i] - mean) * (p[r * n + i] - mean);
      var = var / n + eps;
      min_ = std::min(min_, var);
      max_ = std::max(max_, var);
    }
  }
  void program(const ir::Node& node) override {
    auto [lo, hi] = usable_range(min_, max_);
    unit_ = make_unit(AcamFunction::kRsqrt, lo, hi, node.name + "/rsqrt");
  }
  bool run(const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override {
    const Tensor& x = args[0];
    const Tensor& beta = args.size() > 2 ? args[2] : Tensor();
    Tensor zero;
    if (!beta.is_valid()) zero = Tensor(DType::kF32, {x.shape().back()});
    results = {acam_layer_norm(x, args[1], beta.is_valid() ? beta : zero,
                               node.attr_float("epsilon", 1e-5), *unit_,
                               first_element_of(x, first_sample, batch))};
    return true;
  }
};

// Symmetric int8 quantisation of one matrix: round(v / s), s = max|v| / 127.
float quantize_int8(const float* v, int64_t n, float* q) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::abs(v[i]));
  const double scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
  for (int64_t i = 0; i < n; ++i)
    q[i] = static_cast<float>(std::clamp(std::round(v[i] / scale), -127.0, 127.0));
  return static_cast<float>(scale);
}

// The data-dependent products A·B of attention, per dmmul.mode (ANALOG_MODEL.md §3).
class MatmulEngine : public AcamEngine {
 public:
  MatmulEngine(const ChipInstance& chip, lowering::Engine engine)
      : AcamEngine(chip), engine_(engine) {}
  void record(const ir::Node&, const std::vector<Tensor>& args) override {
    for (int i = 0; i < 2; ++i)
      for (float v : args[i].values<float>())
        if (std::isfinite(v)) abs_max_ = std::max<double>(abs_max_, std::abs(v));
  }
  void program(const ir::Node& node) override {
    if (engine_ != lowering::Engine::kAcamLogMatmul) return;
    // ln over [max·2^-(in_bits+2), max]: smaller magnitudes count as zero.
    const double hi = abs_max_ > 0 ? abs_max_ : 1.0;
    const double lo = hi * std::ldexp(1.0, -(chip_.arch->acam.in_bits + 2));
    unit_ = make_unit(AcamFunction::kLog, lo, hi, node.name + "/log");
    second_unit_ =
        make_unit(AcamFunction::kExp, 2.0 * std::log(lo), 2.0 * std::log(hi), node.name + "/exp");
    products_ = LogProductTable(*unit_, *second_unit_);
  }
  bool run(const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override;

 private:
  void run_int8(const Tensor& a, const Tensor& b, Tensor& y) const;
  void run_crossbar(const ir::Node& node, const Tensor& a, const Tensor& b, Tensor& y,
                    int64_t first_sample, int64_t batch) const;

  lowering::Engine engine_;
  double abs_max_ = 0.0;
  LogProductTable products_;  // kAcamLogMatmul with noise-free units: every product, by codes
};

bool MatmulEngine::run(const ir::Node& node, const std::vector<Tensor>& args,
                       std::vector<Tensor>& results, int64_t first_sample, int64_t batch) {
  const Tensor& a = args[0];
  const Tensor& b = args[1];
  // The lowering admits products of equal ranks whose dimensions may match
  // (lowering/dmmul.cpp); where the graph left them unknown, run time decides, and a
  // broadcast product runs digitally as it always did.
  if (a.rank() < 2 || a.rank() != b.rank() || b.dtype() != DType::kF32 ||
      !std::equal(a.shape().begin(), a.shape().end() - 2, b.shape().begin()) ||
      a.shape().back() != b.shape()[b.rank() - 2])
    return false;
  if (engine_ == lowering::Engine::kAcamLogMatmul) {
    results = {acam_log_matmul(a, b, *unit_, *second_unit_,
                               first_element_of(a, first_sample, batch), &products_)};
    return true;
  }
  Shape out = a.shape();
  out.back() = b.shape().back();
  Tensor y(DType::kF32, out);
  if (engine_ == lowering::Engine::kInt8Matmul)
    run_int8(a, b, y);
  else
    run_crossbar(node, a, b, y, first_sample, batch);
  results = {y};
  return true;
}

void MatmulEngine::run_int8(const Tensor& a, const Tensor& b, Tensor& y) const {
  const int64_t m = a.shape()[a.rank() - 2], k = a.shape().back(), n = b.shape().back();
  const int64_t matrices = a.numel() / std::max<int64_t>(m * k, 1);
  parallel_for(0, matrices, 1, [&](int64_t t) {
    std::vector<float> qa(static_cast<size_t>(m * k)), qb(static_cast<size_t>(k * n));
    const float sa = quantize_int8(a.data<float>() + t * m * k, m * k, qa.data());
    const float sb = quantize_int8(b.data<float>() + t * k * n, k * n, qb.data());
    float* py = y.data<float>() + t * m * n;
    // Integer products summed in float: exact while k·127² < 2^24 (k < 1040).
    runtime::nn::sgemm(false, false, m, n, k, 1.0f, qa.data(), qb.data(), 0.0f, py);
    for (int64_t i = 0; i < m * n; ++i) py[i] *= sa * sb;
  });
}

void MatmulEngine::run_crossbar(const ir::Node& node, const Tensor& a, const Tensor& b, Tensor& y,
                                int64_t first_sample, int64_t batch) const {
  const int64_t m = a.shape()[a.rank() - 2], k = a.shape().back(), n = b.shape().back();
  const int64_t matrices = a.numel() / std::max<int64_t>(m * k, 1);
  // K and V written into arrays for each sequence: one fresh programming per matrix.
  const int64_t per_sample = rows_per_sample(matrices, batch);
  for (int64_t t = 0; t < matrices; ++t) {
    Tensor bt(DType::kF32, {k, n});
    std::copy(b.data<float>() + t * k * n, b.data<float>() + (t + 1) * k * n, bt.data<float>());
    Tensor at(DType::kF32, {m, k});
    std::copy(a.data<float>() + t * m * k, a.data<float>() + (t + 1) * m * k, at.data<float>());
    const int64_t global = first_sample * per_sample + t;
    CrossbarLayer xb(*chip_.arch, bt, Tensor(),
                     {chip_.seed, chip_.trial, node.name + "/matrix" + std::to_string(global)});
    xb.calibrate(at);
    Tensor yt = xb.forward(at, global * m);
    std::copy(yt.data<float>(), yt.data<float>() + m * n, y.data<float>() + t * m * n);
  }
}

// The engines of readout.linear and readout.conv: a crossbar engine (its recording, its
// programming per weight matrix, its data layout) whose weight matrices are ReadoutLayers
// (analog/readout.h) instead of crossbars read through ADCs.
template <typename Crossbar>
class WithReadout : public Crossbar {
 public:
  template <typename... Args>
  explicit WithReadout(const lowering::Decision& decision, Args&&... args)
      : Crossbar(std::forward<Args>(args)...), fused_with_(decision.fused_with) {
    std::optional<AcamFunction> f = acam_function_from_name(decision.readout_function);
    AIMC_ASSERT(f, "readout function '{}' unknown", decision.readout_function);
    function_ = *f;
  }
  int64_t arrays() const override {
    int64_t total = 0;
    for (const ReadoutLayer& m : matrices_) total += m.arrays();
    return total;
  }
  int64_t acam_rows() const override {
    int64_t total = 0;
    for (const ReadoutLayer& m : matrices_) total += m.cam_rows();
    return total;
  }
  const ir::Node* fused_consumer() const override { return fused_with_; }
  void skipped() override { ran_ = false; }
  bool run(const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override {
    ran_ = Crossbar::run(node, args, results, first_sample, batch);
    return ran_;
  }

 protected:
  void add_matrix(const Tensor& w, const Tensor& bias, const ChipKey& key, size_t index) override {
    const Tensor calibration = this->calibration_rows_.size() > index
                                   ? this->calibration_input(index)
                                   : Tensor(DType::kF32, {0, w.dim(0)});
    matrices_.emplace_back(*this->chip_.arch, w, bias, calibration, function_, key);
  }
  // A fused layer outputs the analog values; its activation's engine has them read.
  Tensor forward_matrix(size_t index, const Tensor& x, int64_t first_row) override {
    return matrices_[index].forward(x, first_row, !fused_with_);
  }

  AcamFunction function_ = AcamFunction::kIdentity;
  const ir::Node* fused_with_ = nullptr;
  bool ran_ = false;  // the last batch ran on the chip (not on the digital kernel)
  std::vector<ReadoutLayer> matrices_;
};

class ReadoutLinearEngine : public WithReadout<CrossbarLinearEngine> {
 public:
  ReadoutLinearEngine(const ChipInstance& chip, const lowering::Decision& decision)
      : WithReadout(decision, chip) {}
  bool read_fused(const Tensor& analog, Tensor& out, int64_t first_sample, int64_t batch) override {
    if (!ran_) return false;
    const int64_t n = analog.shape().back(), rows = analog.numel() / n;
    out = analog.clone().reshaped({rows, n});
    matrices_[0].read(out, first_sample * rows_per_sample(rows, batch));
    out = out.reshaped(analog.shape());
    return true;
  }
};

class ReadoutConvEngine : public WithReadout<CrossbarConvEngine> {
 public:
  ReadoutConvEngine(const ChipInstance& chip, const lowering::Decision& decision,
                    const ir::Node& node)
      : WithReadout(decision, chip, node) {}
  bool read_fused(const Tensor& analog, Tensor& out, int64_t first_sample, int64_t) override {
    if (!ran_) return false;
    const int64_t plane = analog.numel() / std::max<int64_t>(analog.dim(0) * analog.dim(1), 1);
    out = Tensor(DType::kF32, analog.shape());
    for (int64_t g = 0; g < group_; ++g) {
      Tensor rows = gather_group(analog, group_, g);
      matrices_[static_cast<size_t>(g)].read(rows, first_sample * plane);
      scatter_group(rows, out, group_, g);
    }
    return true;
  }
};

// An activation computed by its producer's readout trees: its input is the producer's analog
// output (what the trees search), its output the trees' result.
class ReadoutFusedEngine : public NodeEngine {
 public:
  void record(const ir::Node&, const std::vector<Tensor>&) override {}
  void program(const ir::Node&) override {}
  bool run(const ir::Node&, const std::vector<Tensor>& args, std::vector<Tensor>& results,
           int64_t first_sample, int64_t batch) override {
    // When the producer ran digitally (an input it could not take), so does this node.
    Tensor out;
    if (!producer_ || !producer_->read_fused(args[0], out, first_sample, batch)) return false;
    results = {out};
    return true;
  }
  bool takes_producer() const override { return true; }
  void set_producer(NodeEngine* producer) override { producer_ = producer; }

 private:
  NodeEngine* producer_ = nullptr;
};

}  // namespace

std::unique_ptr<NodeEngine> make_engine(const lowering::Decision& decision, const ir::Node& node,
                                        const ChipInstance& chip) {
  using lowering::Engine;
  AIMC_ASSERT(decision.lowering, "make_engine for the digital node {}", node.name);
  const lowering::Lowering& lowering = *decision.lowering;
  switch (lowering.engine) {
    case Engine::kCrossbarLinear:
      return std::make_unique<CrossbarLinearEngine>(chip);
    case Engine::kCrossbarConv:
      return std::make_unique<CrossbarConvEngine>(chip, node);
    case Engine::kAcamUnary:
      return std::make_unique<AcamUnaryEngine>(chip, lowering);
    case Engine::kAcamSoftmax:
      return std::make_unique<AcamSoftmaxEngine>(chip);
    case Engine::kAcamLayerNorm:
      return std::make_unique<AcamLayerNormEngine>(chip);
    case Engine::kCrossbarMatmul:
    case Engine::kAcamLogMatmul:
    case Engine::kInt8Matmul:
      return std::make_unique<MatmulEngine>(chip, lowering.engine);
    case Engine::kReadoutLinear:
      return std::make_unique<ReadoutLinearEngine>(chip, decision);
    case Engine::kReadoutConv:
      return std::make_unique<ReadoutConvEngine>(chip, decision, node);
    case Engine::kReadoutFused:
      return std::make_unique<ReadoutFusedEngine>();
  }
  AIMC_ASSERT(false, "lowering {} has no engine", lowering.name);
}

}  // namespace aimc::analog
