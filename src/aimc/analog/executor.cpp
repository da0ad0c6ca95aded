#include "aimc/analog/executor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "aimc/core/parallel.h"
#include "aimc/ir/conv_geometry.h"
#include "aimc/runtime/kernel.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::analog {

double LayerError::snr_db() const {
  if (noise <= 0.0) return std::numeric_limits<double>::infinity();
  if (signal <= 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Crossbar calibration keeps at most this many input rows per layer (the first ones).
constexpr int64_t kMaxCalibrationRows = 8192;

enum class PlanKind {
  kLinear,
  kConv,
  kUnary,
  kSoftmax,
  kLayerNorm,
  kMatmulInt8,
  kMatmulLog,
  kMatmulCrossbar
};

struct UnaryOp {
  const char* op;
  const char* kind;  // mapping key
  AcamFunction function;
};
constexpr UnaryOp kUnaryOps[] = {
    {"gelu", "gelu", AcamFunction::kGelu},
    {"Tanh", "tanh", AcamFunction::kTanh},
    {"Sigmoid", "sigmoid", AcamFunction::kSigmoid},
    {"Exp", "exp", AcamFunction::kExp},
    {"Log", "log", AcamFunction::kLog},
    {"Reciprocal", "reciprocal", AcamFunction::kReciprocal},
};

// Last-axis op? (softmax / layer norm over the last dimension only.)
bool last_axis(const ir::Node& node, const ir::Value* input) {
  int64_t axis = node.attr_int("axis", -1);
  if (axis == -1) return true;
  return input && input->shape && axis == static_cast<int64_t>(input->shape->size()) - 1;
}

// [lo, hi] widened when calibration saw a single value, so the unit has a non-empty range.
std::pair<double, double> usable_range(double lo, double hi) {
  if (!(lo <= hi)) return {-1.0, 1.0};  // never calibrated: a neutral range
  if (hi - lo < 1e-6 * std::max(1.0, std::abs(hi))) {
    double pad = 1e-3 * std::max(1.0, std::abs(hi));
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

// Rows of x per sample when x's first dimension is the batch.
int64_t rows_per_sample(int64_t rows, int64_t batch) {
  return batch > 0 && rows % batch == 0 ? rows / batch : rows;
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

}  // namespace

struct AnalogModel::NodePlan {
  PlanKind kind;
  AcamFunction function = AcamFunction::kIdentity;
  // Calibration statistics.
  double min = kInf, max = -kInf;                     // unary input / softmax (x - max) / var + eps
  double sum_min = kInf, sum_max = -kInf;             // softmax sums
  double abs_max = 0.0;                               // matmul operands
  std::vector<std::vector<Tensor>> calibration_rows;  // per crossbar: [rows, K] chunks
  // Engines.
  std::vector<std::unique_ptr<CrossbarLayer>> crossbars;  // linear: 1, conv: one per group
  std::unique_ptr<AcamUnit> unit, second_unit;
  ir::WindowGeometry window;
  int64_t group = 1;
};

AnalogModel::AnalogModel(const ir::Graph& graph, const arch::Architecture& arch, uint64_t seed,
                         uint64_t trial)
    : graph_(graph), arch_(arch), seed_(seed), trial_(trial), executor_(graph) {
  using arch::Placement;
  for (const auto& node_ptr : graph.nodes()) {
    const ir::Node& node = *node_ptr;
    auto plan = std::make_unique<NodePlan>();
    Placement placement = Placement::kDigital;
    if (node.op == "linear" && arch.placement("linear") == Placement::kCrossbar) {
      if (!node.inputs[1]->is_constant())
        throw_bad_input("{}: mapped to crossbars but its weight is not a constant",
                        node.describe());
      plan->kind = PlanKind::kLinear;
      placement = Placement::kCrossbar;
    } else if (node.op == "conv" && arch.placement("conv") == Placement::kCrossbar &&
               node.attr_ints("kernel_shape", {}).size() == 2) {
      // 1-D and 3-D convolutions stay digital (docs/analog-model.md).
      if (!node.inputs[1]->is_constant())
        throw_bad_input("{}: mapped to crossbars but its weight is not a constant",
                        node.describe());
      plan->kind = PlanKind::kConv;
      plan->group = node.attr_int("group", 1);
      placement = Placement::kCrossbar;
    } else if (node.op == "Softmax" && arch.placement("softmax") == Placement::kAcam &&
               last_axis(node, node.inputs[0])) {
      plan->kind = PlanKind::kSoftmax;
      placement = Placement::kAcam;
    } else if (node.op == "layer_norm" && arch.placement("layer_norm") == Placement::kAcam &&
               last_axis(node, node.inputs[0]) && node.inputs.size() >= 2 &&
               node.inputs[1]->is_constant() &&
               (node.inputs.size() < 3 || !node.inputs[2] || node.inputs[2]->is_constant())) {
      plan->kind = PlanKind::kLayerNorm;
      placement = Placement::kAcam;
    } else if (node.op == "matmul" && arch.placement("matmul") == Placement::kAcam) {
      placement = Placement::kAcam;
      switch (arch.dmmul) {
        case arch::DmmulMode::kDigital:
          plan->kind = PlanKind::kMatmulInt8;
          placement = Placement::kDigital;  // int8 digital MACs, not an analog unit
          break;
        case arch::DmmulMode::kLogAcam:
          plan->kind = PlanKind::kMatmulLog;
          break;
        case arch::DmmulMode::kCrossbar:
          plan->kind = PlanKind::kMatmulCrossbar;
          placement = Placement::kCrossbar;
          break;
      }
    } else {
      bool found = false;
      for (const UnaryOp& u : kUnaryOps) {
        if (node.op == u.op && arch.placement(u.kind) == Placement::kAcam) {
          plan->kind = PlanKind::kUnary;
          plan->function = u.function;
          placement = Placement::kAcam;
          found = true;
        }
      }
      if (!found) continue;
    }
    layers_.push_back({node.name, node.op, placement, 0, 0});
    plans_.emplace(&node, std::move(plan));
  }
}

AnalogModel::~AnalogModel() = default;

void AnalogModel::calibrate(const std::map<std::string, Tensor>& inputs) {
  // 1. A digital run that records what each planned node sees.
  auto record = [&](const ir::Node& node, const std::vector<Tensor>& args, std::vector<Tensor>&) {
    auto it = plans_.find(&node);
    if (it == plans_.end()) return false;
    NodePlan& plan = *it->second;
    const Tensor& x = args[0];
    switch (plan.kind) {
      case PlanKind::kLinear: {
        const int64_t k = args[1].dim(0);
        Tensor rows = x.reshaped({x.numel() / std::max<int64_t>(k, 1), k});
        if (plan.calibration_rows.empty()) plan.calibration_rows.resize(1);
        plan.calibration_rows[0].push_back(rows);
        break;
      }
      case PlanKind::kConv: {
        const Tensor& w = args[1];
        plan.window = ir::resolve_window(node, {x.dim(2), x.dim(3)}, {w.dim(2), w.dim(3)});
        plan.calibration_rows.resize(static_cast<size_t>(plan.group));
        for (int64_t g = 0; g < plan.group; ++g)
          plan.calibration_rows[g].push_back(im2col_group(x, plan.window, plan.group, g));
        break;
      }
      case PlanKind::kUnary:
        for (float v : x.values<float>())
          if (std::isfinite(v))
            plan.min = std::min<double>(plan.min, v), plan.max = std::max<double>(plan.max, v);
        break;
      case PlanKind::kSoftmax: {
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
            plan.min = std::min(plan.min, d);
            s += std::exp(d);
          }
          plan.sum_min = std::min(plan.sum_min, s);
          plan.sum_max = std::max(plan.sum_max, s);
        }
        break;
      }
      case PlanKind::kLayerNorm: {
        const int64_t n = x.shape().back();
        const double eps = node.attr_float("epsilon", 1e-5);
        const float* p = x.data<float>();
        for (int64_t r = 0; r < x.numel() / std::max<int64_t>(n, 1); ++r) {
          double mean = 0.0, var = 0.0;
          for (int64_t i = 0; i < n; ++i) mean += p[r * n + i];
          mean /= n;
          for (int64_t i = 0; i < n; ++i) var += (p[r * n + i] - mean) * (p[r * n + i] - mean);
          var = var / n + eps;
          plan.min = std::min(plan.min, var);
          plan.max = std::max(plan.max, var);
        }
        break;
      }
      case PlanKind::kMatmulLog:
      case PlanKind::kMatmulInt8:
      case PlanKind::kMatmulCrossbar:
        for (int i = 0; i < 2; ++i)
          for (float v : args[i].values<float>())
            if (std::isfinite(v)) plan.abs_max = std::max<double>(plan.abs_max, std::abs(v));
        break;
    }
    return false;  // the digital kernel computes the output
  };
  executor_.run(inputs, nullptr, record);

  // 2. Program the chip instance.
  for (auto& [node, plan] : plans_) {
    ChipKey key{seed_, trial_, node->name};
    AnalogLayer* layer = nullptr;
    for (AnalogLayer& l : layers_)
      if (l.name == node->name) layer = &l;
    auto calibration_input = [&](size_t index) {
      // The recorded rows, concatenated, at most kMaxCalibrationRows of them.
      const auto& chunks = plan->calibration_rows[index];
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
    };
    switch (plan->kind) {
      case PlanKind::kLinear: {
        const Tensor& w = node->inputs[1]->constant;
        Tensor bias =
            node->inputs.size() > 2 && node->inputs[2] ? node->inputs[2]->constant : Tensor();
        plan->crossbars.push_back(std::make_unique<CrossbarLayer>(arch_, w, bias, key));
        if (!plan->calibration_rows.empty()) plan->crossbars[0]->calibrate(calibration_input(0));
        break;
      }
      case PlanKind::kConv: {
        const Tensor& w = node->inputs[1]->constant;  // [M, C/g, kh, kw]
        const Tensor bias =
            node->inputs.size() > 2 && node->inputs[2] ? node->inputs[2]->constant : Tensor();
        const int64_t m = w.dim(0), mg = m / plan->group, k = w.numel() / m;
        for (int64_t g = 0; g < plan->group; ++g) {
          Tensor wg(DType::kF32, {k, mg});  // [C/g*kh*kw, M/g]
          for (int64_t o = 0; o < mg; ++o)
            for (int64_t i = 0; i < k; ++i)
              wg.data<float>()[i * mg + o] = w.data<float>()[(g * mg + o) * k + i];
          Tensor bg;
          if (bias.is_valid()) {
            bg = Tensor(DType::kF32, {mg});
            std::copy(bias.data<float>() + g * mg, bias.data<float>() + (g + 1) * mg,
                      bg.data<float>());
          }
          ChipKey group_key = key;
          if (plan->group > 1) group_key.node += "/group" + std::to_string(g);
          plan->crossbars.push_back(std::make_unique<CrossbarLayer>(arch_, wg, bg, group_key));
          if (plan->calibration_rows.size() > static_cast<size_t>(g))
            plan->crossbars.back()->calibrate(calibration_input(static_cast<size_t>(g)));
        }
        break;
      }
      case PlanKind::kUnary: {
        auto [lo, hi] = usable_range(plan->min, plan->max);
        plan->unit = std::make_unique<AcamUnit>(plan->function, lo, hi, arch_.acam);
        plan->unit->program(key);
        break;
      }
      case PlanKind::kSoftmax: {
        // exp below -(out_bits + 1)·ln 2 is under one output step of the unit: the range
        // stops there so that the codes near 0, where the mass is, stay fine.
        const double floor = -(arch_.acam.out_bits + 1) * std::log(2.0);
        auto [lo, hi] = usable_range(std::max(plan->min, floor), 0.0);
        plan->unit = std::make_unique<AcamUnit>(AcamFunction::kExp, lo, hi, arch_.acam);
        plan->unit->program({seed_, trial_, node->name + "/exp"});
        auto [slo, shi] = usable_range(plan->sum_min, plan->sum_max);
        plan->second_unit =
            std::make_unique<AcamUnit>(AcamFunction::kReciprocal, slo, shi, arch_.acam);
        plan->second_unit->program({seed_, trial_, node->name + "/reciprocal"});
        break;
      }
      case PlanKind::kLayerNorm: {
        auto [lo, hi] = usable_range(plan->min, plan->max);
        plan->unit = std::make_unique<AcamUnit>(AcamFunction::kRsqrt, lo, hi, arch_.acam);
        plan->unit->program({seed_, trial_, node->name + "/rsqrt"});
        break;
      }
      case PlanKind::kMatmulLog: {
        // ln over [max·2^-(in_bits+2), max]: smaller magnitudes count as zero.
        const double hi = plan->abs_max > 0 ? plan->abs_max : 1.0;
        const double lo = hi * std::ldexp(1.0, -(arch_.acam.in_bits + 2));
        plan->unit = std::make_unique<AcamUnit>(AcamFunction::kLog, lo, hi, arch_.acam);
        plan->unit->program({seed_, trial_, node->name + "/log"});
        plan->second_unit = std::make_unique<AcamUnit>(AcamFunction::kExp, 2.0 * std::log(lo),
                                                       2.0 * std::log(hi), arch_.acam);
        plan->second_unit->program({seed_, trial_, node->name + "/exp"});
        break;
      }
      case PlanKind::kMatmulInt8:
      case PlanKind::kMatmulCrossbar:
        break;
    }
    plan->calibration_rows.clear();
    plan->calibration_rows.shrink_to_fit();
    if (layer) {
      for (const auto& xb : plan->crossbars) layer->arrays += xb->stats().arrays;
      if (plan->unit) layer->acam_rows += plan->unit->rows();
      if (plan->second_unit) layer->acam_rows += plan->second_unit->rows();
    }
  }
  calibrated_ = true;
}

namespace {

// Symmetric int8 quantisation of one matrix: round(v / s), s = max|v| / 127.
float quantize_int8(const float* v, int64_t n, float* q) {
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::abs(v[i]));
  const double scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
  for (int64_t i = 0; i < n; ++i)
    q[i] = static_cast<float>(std::clamp(std::round(v[i] / scale), -127.0, 127.0));
  return static_cast<float>(scale);
}

}  // namespace

bool AnalogModel::run_node(const ir::Node& node, const std::vector<Tensor>& args,
                           std::vector<Tensor>& results, int64_t first_sample, int64_t batch) {
  auto it = plans_.find(&node);
  if (it == plans_.end()) return false;
  NodePlan& plan = *it->second;
  const Tensor& x = args[0];
  if (x.dtype() != DType::kF32) return false;
  const int64_t per_sample_elements = rows_per_sample(x.numel(), batch);
  const int64_t first_element = first_sample * per_sample_elements;
  switch (plan.kind) {
    case PlanKind::kLinear: {
      CrossbarLayer& xb = *plan.crossbars[0];
      const int64_t k = xb.in_features(), n = xb.out_features();
      const int64_t rows = x.numel() / k;
      Tensor y = xb.forward(x.reshaped({rows, k}), first_sample * rows_per_sample(rows, batch));
      Shape out = x.shape();
      out.back() = n;
      results = {y.reshaped(out)};
      return true;
    }
    case PlanKind::kConv: {
      plan.window =
          ir::resolve_window(node, {x.dim(2), x.dim(3)}, {args[1].dim(2), args[1].dim(3)});
      const int64_t samples = x.dim(0), oh = plan.window.output[0], ow = plan.window.output[1];
      const int64_t m = args[1].dim(0), mg = m / plan.group;
      Tensor y(DType::kF32, {samples, m, oh, ow});
      for (int64_t g = 0; g < plan.group; ++g) {
        Tensor cols = im2col_group(x, plan.window, plan.group, g);
        Tensor yg = plan.crossbars[g]->forward(cols, first_sample * oh * ow);  // [N*OH*OW, mg]
        const float* src = yg.data<float>();
        float* dst = y.data<float>();
        for (int64_t s = 0; s < samples; ++s)
          for (int64_t p = 0; p < oh * ow; ++p)
            for (int64_t o = 0; o < mg; ++o)
              dst[((s * m) + g * mg + o) * oh * ow + p] = src[(s * oh * ow + p) * mg + o];
      }
      results = {y};
      return true;
    }
    case PlanKind::kUnary: {
      Tensor y(DType::kF32, x.shape());
      plan.unit->apply(x.data<float>(), y.data<float>(), x.numel(), first_element);
      results = {y};
      return true;
    }
    case PlanKind::kSoftmax:
      results = {acam_softmax(x, *plan.unit, *plan.second_unit, first_element)};
      return true;
    case PlanKind::kLayerNorm: {
      const Tensor& beta = args.size() > 2 ? args[2] : Tensor();
      Tensor zero;
      if (!beta.is_valid()) zero = Tensor(DType::kF32, {x.shape().back()});
      results = {acam_layer_norm(x, args[1], beta.is_valid() ? beta : zero,
                                 node.attr_float("epsilon", 1e-5), *plan.unit, first_element)};
      return true;
    }
    case PlanKind::kMatmulLog:
    case PlanKind::kMatmulInt8:
    case PlanKind::kMatmulCrossbar: {
      const Tensor& a = args[0];
      const Tensor& b = args[1];
      // Same batch dimensions on both sides (attention); anything else runs digitally.
      if (a.rank() < 2 || a.rank() != b.rank() || b.dtype() != DType::kF32 ||
          !std::equal(a.shape().begin(), a.shape().end() - 2, b.shape().begin()) ||
          a.shape().back() != b.shape()[b.rank() - 2])
        return false;
      if (plan.kind == PlanKind::kMatmulLog) {
        results = {acam_log_matmul(a, b, *plan.unit, *plan.second_unit, first_element)};
        return true;
      }
      const int64_t m = a.shape()[a.rank() - 2], k = a.shape().back(), n = b.shape().back();
      const int64_t matrices = a.numel() / std::max<int64_t>(m * k, 1);
      Shape out = a.shape();
      out.back() = n;
      Tensor y(DType::kF32, out);
      if (plan.kind == PlanKind::kMatmulInt8) {
        parallel_for(0, matrices, 1, [&](int64_t t) {
          std::vector<float> qa(static_cast<size_t>(m * k)), qb(static_cast<size_t>(k * n));
          const float sa = quantize_int8(a.data<float>() + t * m * k, m * k, qa.data());
          const float sb = quantize_int8(b.data<float>() + t * k * n, k * n, qb.data());
          float* py = y.data<float>() + t * m * n;
          // Integer products summed in float: exact while k·127² < 2^24 (k < 1040).
          runtime::nn::sgemm(false, false, m, n, k, 1.0f, qa.data(), qb.data(), 0.0f, py);
          for (int64_t i = 0; i < m * n; ++i) py[i] *= sa * sb;
        });
      } else {
        // K and V written into arrays for each sequence: one fresh programming per matrix.
        const int64_t per_sample = rows_per_sample(matrices, batch);
        for (int64_t t = 0; t < matrices; ++t) {
          Tensor bt(DType::kF32, {k, n});
          std::copy(b.data<float>() + t * k * n, b.data<float>() + (t + 1) * k * n,
                    bt.data<float>());
          Tensor at(DType::kF32, {m, k});
          std::copy(a.data<float>() + t * m * k, a.data<float>() + (t + 1) * m * k,
                    at.data<float>());
          const int64_t global = first_sample * per_sample + t;
          CrossbarLayer xb(arch_, bt, Tensor(),
                           {seed_, trial_, node.name + "/matrix" + std::to_string(global)});
          xb.calibrate(at);
          Tensor yt = xb.forward(at, global * m);
          std::copy(yt.data<float>(), yt.data<float>() + m * n, y.data<float>() + t * m * n);
        }
      }
      results = {y};
      return true;
    }
  }
  return false;
}

std::map<std::string, Tensor> AnalogModel::run(const std::map<std::string, Tensor>& inputs,
                                               int64_t first_sample,
                                               std::map<std::string, LayerError>* errors) {
  AIMC_ASSERT(calibrated_, "AnalogModel::run before calibrate");
  int64_t batch = 1;
  if (!graph_.inputs.empty()) {
    auto it = inputs.find(graph_.inputs[0]->name);
    if (it != inputs.end() && it->second.rank() > 0) batch = it->second.dim(0);
  }
  auto runner = [&](const ir::Node& node, const std::vector<Tensor>& args,
                    std::vector<Tensor>& results) {
    if (!run_node(node, args, results, first_sample, batch)) return false;
    if (errors) {
      std::vector<Tensor> digital = runtime::evaluate_node(node, args);
      LayerError& e = (*errors)[node.name];
      const float* d = digital[0].data<float>();
      const float* a = results[0].data<float>();
      for (int64_t i = 0; i < digital[0].numel(); ++i) {
        if (!std::isfinite(d[i])) continue;
        e.signal += static_cast<double>(d[i]) * d[i];
        e.noise += (static_cast<double>(a[i]) - d[i]) * (static_cast<double>(a[i]) - d[i]);
      }
    }
    return true;
  };
  return executor_.run(inputs, nullptr, runner);
}

}  // namespace aimc::analog
