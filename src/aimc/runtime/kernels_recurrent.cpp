// Kernels of the recurrent ops LSTM, GRU and RNN (ONNX semantics, opsets 7-17, f32).
//
// Per direction, the input projection X W' of every time step is one GEMM; each step then adds
// the recurrent product H R' (one GEMM over the batch) and applies the gate equations of the
// ONNX operator definitions:
//   LSTM  i = f(x Wi' + h Ri' + Pi.c + Wbi + Rbi)     o = f(x Wo' + h Ro' + Po.C + Wbo + Rbo)
//         f = f(x Wf' + h Rf' + Pf.c + Wbf + Rbf)     C = f.c + i.g(x Wc' + h Rc' + Wbc + Rbc)
//         H = o.h(C)                    (input_forget = 1: f = 1 - i)
//   GRU   z = f(x Wz' + h Rz' + Wbz + Rbz)            r = f(x Wr' + h Rr' + Wbr + Rbr)
//         n = g(x Wh' + (r.h) Rh' + Rbh + Wbh)        (linear_before_reset = 0)
//         n = g(x Wh' + r.(h Rh' + Rbh) + Wbh)        (linear_before_reset = 1)
//         H = (1 - z).n + z.h
//   RNN   H = f(x Wi' + h Ri' + Wbi + Rbi)
// `clip` bounds every gate's pre-activation. With sequence_lens, batch entry b runs its first
// len[b] steps (the reverse direction starts at step len[b] - 1); Y is 0 past them and Y_h (Y_c)
// hold the state after the last step run.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "aimc/runtime/nn_kernels.h"

namespace aimc::runtime::nn {
namespace {

enum class ActKind {
  kSigmoid,
  kTanh,
  kRelu,
  kAffine,
  kLeakyRelu,
  kThresholdedRelu,
  kScaledTanh,
  kHardSigmoid,
  kElu,
  kSoftsign,
  kSoftplus
};

struct Activation {
  ActKind kind = ActKind::kSigmoid;
  float alpha = 0;
  float beta = 0;

  float operator()(float x) const {
    switch (kind) {
      case ActKind::kSigmoid:
        return 1.0f / (1.0f + std::exp(-x));
      case ActKind::kTanh:
        return std::tanh(x);
      case ActKind::kRelu:
        return x > 0 ? x : 0.0f;
      case ActKind::kAffine:
        return alpha * x + beta;
      case ActKind::kLeakyRelu:
        return x >= 0 ? x : alpha * x;
      case ActKind::kThresholdedRelu:
        return x > alpha ? x : 0.0f;
      case ActKind::kScaledTanh:
        return alpha * std::tanh(beta * x);
      case ActKind::kHardSigmoid:
        return std::clamp(alpha * x + beta, 0.0f, 1.0f);
      case ActKind::kElu:
        return x >= 0 ? x : alpha * std::expm1(x);
      case ActKind::kSoftsign:
        return x / (1.0f + std::fabs(x));
      case ActKind::kSoftplus:
        return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    }
    return x;
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The activations of every direction: `per_direction` names each (defaults when the attribute
// is absent; one direction's list is used for both when a bidirectional node gives only one).
// activation_alpha/beta are consumed in order by the functions that take them, as onnxruntime
// does; a function without a given value takes its ONNX operator's default.
std::vector<Activation> activations(const ir::Node& node, int64_t dirs,
                                    const std::vector<std::string>& defaults) {
  std::vector<std::string> names;
  if (node.has_attr("activations")) {
    const auto* list = std::get_if<std::vector<std::string>>(&node.attrs.at("activations"));
    if (!list)
      throw_bad_input("{}: attribute 'activations' must be a list of strings", node.describe());
    names = *list;
  } else {
    for (int64_t d = 0; d < dirs; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  }
  size_t per = defaults.size();
  if (names.size() == per && dirs == 2) names.insert(names.end(), names.begin(), names.end());
  if (names.size() != per * static_cast<size_t>(dirs))
    throw_bad_input("{}: activations lists {} functions, the node needs {} ({} per direction)",
                    node.describe(), names.size(), per * static_cast<size_t>(dirs), per);
  std::vector<double> alphas = node.attr_floats("activation_alpha", {});
  std::vector<double> betas = node.attr_floats("activation_beta", {});
  size_t next_alpha = 0, next_beta = 0;
  auto take = [](const std::vector<double>& values, size_t& next, float fallback) {
    return next < values.size() ? static_cast<float>(values[next++]) : fallback;
  };
  std::vector<Activation> out;
  for (const std::string& name : names) {
    std::string n = lower(name);
    Activation a;
    if (n == "sigmoid") {
      a.kind = ActKind::kSigmoid;
    } else if (n == "tanh") {
      a.kind = ActKind::kTanh;
    } else if (n == "relu") {
      a.kind = ActKind::kRelu;
    } else if (n == "softsign") {
      a.kind = ActKind::kSoftsign;
    } else if (n == "softplus") {
      a.kind = ActKind::kSoftplus;
    } else if (n == "affine") {
      a = {ActKind::kAffine, take(alphas, next_alpha, 1.0f), take(betas, next_beta, 0.0f)};
    } else if (n == "leakyrelu") {
      a = {ActKind::kLeakyRelu, take(alphas, next_alpha, 0.01f), 0};
    } else if (n == "thresholdedrelu") {
      a = {ActKind::kThresholdedRelu, take(alphas, next_alpha, 1.0f), 0};
    } else if (n == "scaledtanh") {
      a = {ActKind::kScaledTanh, take(alphas, next_alpha, 1.0f), take(betas, next_beta, 1.0f)};
    } else if (n == "hardsigmoid") {
      a = {ActKind::kHardSigmoid, take(alphas, next_alpha, 0.2f), take(betas, next_beta, 0.5f)};
    } else if (n == "elu") {
      a = {ActKind::kElu, take(alphas, next_alpha, 1.0f), 0};
    } else {
      throw_bad_input(
          "{}: activation '{}' is not one of Sigmoid, Tanh, Relu, Affine, LeakyRelu, "
          "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus",
          node.describe(), name);
    }
    out.push_back(a);
  }
  return out;
}

enum class CellKind { kLstm, kGru, kRnn };

struct Problem {
  CellKind cell;
  int64_t gates, dirs, hidden, seq, batch, input;
  bool reverse;  // direction = reverse (a bidirectional node's second direction is reverse too)
  bool layout1;
  float clip;  // +inf when absent
  std::vector<int64_t> lengths;
  std::vector<Activation> acts;
};

// A [dirs, batch, hidden] state input (layout 0) or [batch, dirs, hidden] (layout 1), as
// [dirs][batch][hidden]; zeros when omitted.
std::vector<float> state_input(const ir::Node& node, const std::vector<Tensor>& inputs, size_t i,
                               const Problem& p, const char* what) {
  std::vector<float> state(static_cast<size_t>(p.dirs * p.batch * p.hidden), 0.0f);
  const Tensor& t = optional_input(inputs, i);
  if (!t.is_valid()) return state;
  const Tensor& s = f32_input(node, inputs, i);
  Shape want = p.layout1 ? Shape{p.batch, p.dirs, p.hidden} : Shape{p.dirs, p.batch, p.hidden};
  if (s.shape() != want)
    throw_bad_input("{}: {} has shape {}, expected {}", node.describe(), what, shape_str(s.shape()),
                    shape_str(want));
  const float* src = s.data<float>();
  for (int64_t d = 0; d < p.dirs; ++d)
    for (int64_t b = 0; b < p.batch; ++b)
      for (int64_t h = 0; h < p.hidden; ++h)
        state[static_cast<size_t>((d * p.batch + b) * p.hidden + h)] =
            p.layout1 ? src[(b * p.dirs + d) * p.hidden + h]
                      : src[(d * p.batch + b) * p.hidden + h];
  return state;
}

Problem make_problem(const ir::Node& node, const std::vector<Tensor>& inputs, CellKind cell) {
  Problem p;
  p.cell = cell;
  p.gates = cell == CellKind::kLstm ? 4 : cell == CellKind::kGru ? 3 : 1;
  std::string direction = node.attr_string("direction", "forward");
  p.dirs = direction == "bidirectional" ? 2 : 1;
  p.reverse = direction == "reverse";
  p.hidden = node.require_int("hidden_size");
  p.layout1 = node.attr_int("layout", 0) == 1;
  p.clip = node.has_attr("clip") ? static_cast<float>(node.attr_float("clip", 0))
                                 : std::numeric_limits<float>::infinity();
  if (!(p.clip > 0)) throw_bad_input("{}: clip must be positive", node.describe());
  const Tensor& x = f32_input(node, inputs, 0);
  const Tensor& w = f32_input(node, inputs, 1);
  const Tensor& r = f32_input(node, inputs, 2);
  if (x.rank() != 3)
    throw_bad_input("{}: X must have rank 3, got {}", node.describe(), shape_str(x.shape()));
  p.seq = x.shape()[p.layout1 ? 1 : 0];
  p.batch = x.shape()[p.layout1 ? 0 : 1];
  p.input = x.shape()[2];
  if (w.shape() != Shape{p.dirs, p.gates * p.hidden, p.input})
    throw_bad_input("{}: W has shape {}, expected {}", node.describe(), shape_str(w.shape()),
                    shape_str({p.dirs, p.gates * p.hidden, p.input}));
  if (r.shape() != Shape{p.dirs, p.gates * p.hidden, p.hidden})
    throw_bad_input("{}: R has shape {}, expected {}", node.describe(), shape_str(r.shape()),
                    shape_str({p.dirs, p.gates * p.hidden, p.hidden}));
  const Tensor& lens = optional_input(inputs, 4);
  p.lengths.assign(static_cast<size_t>(p.batch), p.seq);
  if (lens.is_valid()) {
    if (lens.dtype() != DType::kI32 && lens.dtype() != DType::kI64)
      throw_bad_input("{}: sequence_lens must be int32, not {}", node.describe(),
                      dtype_name(lens.dtype()));
    if (lens.shape() != Shape{p.batch})
      throw_bad_input("{}: sequence_lens has shape {}, expected [{}]", node.describe(),
                      shape_str(lens.shape()), p.batch);
    p.lengths = lens.to_int_vector();
    for (int64_t len : p.lengths)
      if (len < 0 || len > p.seq)
        throw_bad_input("{}: sequence length {} is outside [0, {}]", node.describe(), len, p.seq);
  }
  std::vector<std::string> defaults =
      cell == CellKind::kLstm  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
      : cell == CellKind::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                               : std::vector<std::string>{"Tanh"};
  p.acts = activations(node, p.dirs, defaults);
  return p;
}

float clipped(float v, float clip) {
  return std::clamp(v, -clip, clip);
}

std::vector<Tensor> recurrent_kernel(const ir::Node& node, const std::vector<Tensor>& inputs,
                                     CellKind cell) {
  Problem p = make_problem(node, inputs, cell);
  const int64_t G = p.gates, H = p.hidden, B = p.batch, T = p.seq, I = p.input;
  const int64_t GH = G * H;
  // X as [T][B][I].
  const Tensor& x_tensor = inputs[0];
  std::vector<float> x(static_cast<size_t>(T * B * I));
  const float* xs = x_tensor.data<float>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(xs + (p.layout1 ? (b * T + t) * I : (t * B + b) * I), I,
                  x.data() + (t * B + b) * I);
  const Tensor& bias = optional_input(inputs, 3);
  if (bias.is_valid() && f32_input(node, inputs, 3).shape() != Shape{p.dirs, 2 * GH})
    throw_bad_input("{}: B has shape {}, expected [{}, {}]", node.describe(),
                    shape_str(bias.shape()), p.dirs, 2 * GH);
  size_t peephole_input = 7;
  const Tensor& peep = cell == CellKind::kLstm ? optional_input(inputs, peephole_input) : Tensor();
  if (peep.is_valid() && f32_input(node, inputs, peephole_input).shape() != Shape{p.dirs, 3 * H})
    throw_bad_input("{}: P has shape {}, expected [{}, {}]", node.describe(),
                    shape_str(peep.shape()), p.dirs, 3 * H);
  std::vector<float> h_all = state_input(node, inputs, 5, p, "initial_h");
  std::vector<float> c_all =
      cell == CellKind::kLstm ? state_input(node, inputs, 6, p, "initial_c") : std::vector<float>();
  bool input_forget = cell == CellKind::kLstm && node.attr_int("input_forget", 0) != 0;
  bool linear_before_reset = cell == CellKind::kGru && node.attr_int("linear_before_reset", 0) != 0;

  // Y as [T][dirs][B][H] (zeros past each sequence's length).
  std::vector<float> y(static_cast<size_t>(T * p.dirs * B * H), 0.0f);
  std::vector<float> xw(static_cast<size_t>(T * B * GH));
  std::vector<float> hr(static_cast<size_t>(B * GH));
  std::vector<float> rh(static_cast<size_t>(B * H));  // GRU: r.h, then (r.h) Rh'
  std::vector<float> product(cell == CellKind::kGru ? static_cast<size_t>(B * H) : 0);
  std::vector<float> gate(static_cast<size_t>(B * GH));
  for (int64_t d = 0; d < p.dirs; ++d) {
    bool reverse = p.reverse || d == 1;
    const float* w = inputs[1].data<float>() + d * GH * I;
    const float* r = inputs[2].data<float>() + d * GH * H;
    const float* wb = bias.is_valid() ? bias.data<float>() + d * 2 * GH : nullptr;
    const float* rb = wb ? wb + GH : nullptr;
    const float* pp = peep.is_valid() ? peep.data<float>() + d * 3 * H : nullptr;
    const Activation* act = p.acts.data() + d * static_cast<int64_t>(p.acts.size()) / p.dirs;
    float* h = h_all.data() + d * B * H;
    float* c = cell == CellKind::kLstm ? c_all.data() + d * B * H : nullptr;
    sgemm(false, true, T * B, GH, I, 1.0f, x.data(), w, 0.0f, xw.data());
    for (int64_t s = 0; s < T; ++s) {
      // The recurrent product of every batch entry; for the GRU without linear_before_reset
      // only the z and r blocks (the h block needs r first).
      int64_t n_rec = cell == CellKind::kGru && !linear_before_reset ? 2 * H : GH;
      if (n_rec == GH) {
        sgemm(false, true, B, GH, H, 1.0f, h, r, 0.0f, hr.data());
      } else {
        sgemm(false, true, B, n_rec, H, 1.0f, h, r, 0.0f, hr.data());
        // hr rows are GH wide in the loop below: spread the B x 2H result.
        for (int64_t b = B - 1; b >= 0; --b)
          std::copy_backward(hr.data() + b * n_rec, hr.data() + (b + 1) * n_rec,
                             hr.data() + b * GH + n_rec);
      }
      for (int64_t b = 0; b < B; ++b) {
        int64_t len = p.lengths[static_cast<size_t>(b)];
        if (s >= len) continue;
        int64_t t = reverse ? len - 1 - s : s;
        const float* xg = xw.data() + (t * B + b) * GH;
        const float* hg = hr.data() + b * GH;
        float* g = gate.data() + b * GH;
        for (int64_t k = 0; k < GH; ++k)
          g[k] = xg[k] + (wb ? wb[k] : 0.0f) +
                 (cell == CellKind::kGru && k >= 2 * H ? 0.0f : hg[k] + (rb ? rb[k] : 0.0f));
      }
      if (cell == CellKind::kGru) {
        // z and r first; r.h (or r.(h Rh' + Rbh)) feeds the candidate.
        for (int64_t b = 0; b < B; ++b) {
          if (s >= p.lengths[static_cast<size_t>(b)]) continue;
          float* g = gate.data() + b * GH;
          for (int64_t k = 0; k < 2 * H; ++k) g[k] = act[0](clipped(g[k], p.clip));
          const float* hb = h + b * H;
          for (int64_t k = 0; k < H; ++k)
            rh[static_cast<size_t>(b * H + k)] =
                linear_before_reset ? g[H + k] * (hr[static_cast<size_t>(b * GH + 2 * H + k)] +
                                                  (rb ? rb[2 * H + k] : 0.0f))
                                    : g[H + k] * hb[k];
        }
        if (!linear_before_reset) {
          sgemm(false, true, B, H, H, 1.0f, rh.data(), r + 2 * H * H, 0.0f, product.data());
          for (int64_t b = 0; b < B; ++b)
            for (int64_t k = 0; k < H; ++k)
              rh[static_cast<size_t>(b * H + k)] =
                  product[static_cast<size_t>(b * H + k)] + (rb ? rb[2 * H + k] : 0.0f);
        }
      }
      for (int64_t b = 0; b < B; ++b) {
        int64_t len = p.lengths[static_cast<size_t>(b)];
        if (s >= len) continue;
        int64_t t = reverse ? len - 1 - s : s;
        float* g = gate.data() + b * GH;
        float* hb = h + b * H;
        for (int64_t k = 0; k < H; ++k) {
          if (cell == CellKind::kLstm) {
            float cprev = c[b * H + k];
            float i = act[0](clipped(g[k] + (pp ? pp[k] * cprev : 0.0f), p.clip));
            float f =
                input_forget
                    ? 1.0f - i
                    : act[0](clipped(g[2 * H + k] + (pp ? pp[2 * H + k] * cprev : 0.0f), p.clip));
            float cand = act[1](clipped(g[3 * H + k], p.clip));
            float cnew = f * cprev + i * cand;
            float o = act[0](clipped(g[H + k] + (pp ? pp[H + k] * cnew : 0.0f), p.clip));
            c[b * H + k] = cnew;
            hb[k] = o * act[2](cnew);
          } else if (cell == CellKind::kGru) {
            float z = g[k];
            float n = act[1](clipped(g[2 * H + k] + rh[static_cast<size_t>(b * H + k)], p.clip));
            hb[k] = (1.0f - z) * n + z * hb[k];
          } else {
            hb[k] = act[0](clipped(g[k], p.clip));
          }
        }
        std::copy_n(hb, H, y.data() + ((t * p.dirs + d) * B + b) * H);
      }
    }
  }

  std::vector<Tensor> outputs;
  Shape y_shape = p.layout1 ? Shape{B, T, p.dirs, H} : Shape{T, p.dirs, B, H};
  Tensor y_out(DType::kF32, y_shape);
  float* yo = y_out.data<float>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t d = 0; d < p.dirs; ++d)
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(
            y.data() + ((t * p.dirs + d) * B + b) * H, H,
            yo + (p.layout1 ? ((b * T + t) * p.dirs + d) * H : ((t * p.dirs + d) * B + b) * H));
  outputs.push_back(y_out);
  auto state_output = [&](const std::vector<float>& state) {
    Shape shape = p.layout1 ? Shape{B, p.dirs, H} : Shape{p.dirs, B, H};
    Tensor out(DType::kF32, shape);
    float* o = out.data<float>();
    for (int64_t d = 0; d < p.dirs; ++d)
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(state.data() + (d * B + b) * H, H,
                    o + (p.layout1 ? (b * p.dirs + d) * H : (d * B + b) * H));
    return out;
  };
  outputs.push_back(state_output(h_all));
  if (cell == CellKind::kLstm) outputs.push_back(state_output(c_all));
  outputs.resize(std::min(outputs.size(), node.outputs.size()));
  return outputs;
}

}  // namespace

void register_recurrent_kernels(KernelRegistry& registry) {
  registry.add("LSTM", [](const ir::Node& node, const std::vector<Tensor>& inputs) {
    return recurrent_kernel(node, inputs, CellKind::kLstm);
  });
  registry.add("GRU", [](const ir::Node& node, const std::vector<Tensor>& inputs) {
    return recurrent_kernel(node, inputs, CellKind::kGru);
  });
  registry.add("RNN", [](const ir::Node& node, const std::vector<Tensor>& inputs) {
    return recurrent_kernel(node, inputs, CellKind::kRnn);
  });
}

}  // namespace aimc::runtime::nn
