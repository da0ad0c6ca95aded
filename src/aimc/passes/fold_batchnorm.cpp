// BatchNormalization (inference) after a convolution with constant weights is an affine map
// per output channel, so it folds into the convolution:
//   s = scale / sqrt(var + epsilon)
//   W'[m, ...] = W[m, ...] * s[m]
//   B'[m]      = (B[m] - mean[m]) * s[m] + bias[m]        (B = 0 when the Conv has none)
// The folded weights are new constants (the old ones may be shared with other nodes).
#include <cmath>

#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

bool is_f32_constant(const ir::Value* v) {
  return v && v->is_constant() && v->constant.dtype() == DType::kF32;
}

bool is_channel_vector(const ir::Value* v, int64_t channels) {
  return is_f32_constant(v) && v->constant.rank() == 1 && v->constant.numel() == channels;
}

struct FoldedConv {
  Tensor weight;
  Tensor bias;
  std::vector<double> scale;       // per output channel: γ / sqrt(var + ε)
  std::vector<double> bias_shift;  // per output channel: what the fold adds to the bias
};

FoldedConv fold(const Tensor& weight, const Tensor* conv_bias, const ir::Node& batch_norm) {
  const int64_t channels = weight.shape()[0];
  const int64_t per_channel = weight.numel() / std::max<int64_t>(1, channels);
  const float* scale = batch_norm.input(1)->constant.data<float>();
  const float* shift = batch_norm.input(2)->constant.data<float>();
  const float* mean = batch_norm.input(3)->constant.data<float>();
  const float* var = batch_norm.input(4)->constant.data<float>();
  const double epsilon = batch_norm.attr_float("epsilon", 1e-5);
  FoldedConv out{Tensor(DType::kF32, weight.shape()), Tensor(DType::kF32, {channels}), {}, {}};
  const float* w = weight.data<float>();
  float* w_out = out.weight.data<float>();
  float* b_out = out.bias.data<float>();
  for (int64_t m = 0; m < channels; ++m) {
    double s = scale[m] / std::sqrt(static_cast<double>(var[m]) + epsilon);
    for (int64_t i = 0; i < per_channel; ++i)
      w_out[m * per_channel + i] = static_cast<float>(w[m * per_channel + i] * s);
    double b = conv_bias ? conv_bias->data<float>()[m] : 0.0;
    b_out[m] = static_cast<float>((b - mean[m]) * s + shift[m]);
    out.scale.push_back(s);
    out.bias_shift.push_back(conv_bias ? shift[m] - mean[m] * s : -mean[m] * s);
  }
  return out;
}

// The BatchNormalization that can fold into `conv`, or nullptr.
ir::Node* foldable_batch_norm(const ir::Graph& graph, const ir::Node& conv) {
  const ir::Value* weight = conv.input(1);
  if (!is_f32_constant(weight) || weight->constant.rank() < 3) return nullptr;
  int64_t channels = weight->constant.shape()[0];
  if (conv.input(2) && !is_channel_vector(conv.input(2), channels)) return nullptr;
  ir::Node* batch_norm = detail::single_user(graph, conv.output(0));
  if (!batch_norm || batch_norm->op != "BatchNormalization") return nullptr;
  if (batch_norm->input(0) != conv.output(0)) return nullptr;
  if (batch_norm->attr_int("training_mode", 0) != 0) return nullptr;
  for (size_t i = 1; i < 5; ++i) {
    if (!is_channel_vector(batch_norm->input(i), channels)) return nullptr;
  }
  // Running mean/var outputs exist only in training mode; refuse if anything reads them.
  for (size_t i = 1; i < batch_norm->outputs.size(); ++i) {
    if (batch_norm->outputs[i] && !detail::is_unused(graph, batch_norm->outputs[i])) return nullptr;
  }
  return batch_norm;
}

}  // namespace

int fold_batchnorm(ir::Graph& graph) {
  std::vector<ir::Node*> convs;
  for (const auto& node : graph.nodes()) {
    if (node->op == "Conv" || node->op == "conv") convs.push_back(node.get());
  }
  int rewrites = 0;
  for (ir::Node* conv : convs) {
    ir::Node* batch_norm = foldable_batch_norm(graph, *conv);
    if (!batch_norm) continue;
    const ir::Value* weight = conv->input(1);
    const ir::Value* bias = conv->input(2);
    FoldedConv folded = fold(weight->constant, bias ? &bias->constant : nullptr, *batch_norm);
    ir::Value* new_weight =
        graph.add_constant(graph.make_unique_name(weight->name + "_bn"), folded.weight);
    ir::Value* new_bias = graph.add_constant(
        graph.make_unique_name((bias ? bias->name : conv->name + "_bias") + "_bn"), folded.bias);
    // weight' = weight·s and bias' = bias·s + (β - mean·s), or without a conv bias
    // bias' = β - mean·s: the BatchNorm's β is then what a trained bias writes back into.
    new_weight->origin =
        detail::derived_origin(weight, weight->constant.numel(), false, folded.scale);
    new_bias->origin = bias ? detail::derived_origin(bias, folded.bias.numel(), false, folded.scale,
                                                     folded.bias_shift)
                            : detail::derived_origin(batch_norm->input(2), folded.bias.numel(),
                                                     false, {1.0}, folded.bias_shift);
    std::string op = conv->op;
    std::string name = conv->name;
    auto attrs = conv->attrs;
    ir::Value* x = conv->input(0);
    ir::Node* fused = detail::replace_with_node(graph, {conv, batch_norm}, op, name,
                                                {x, new_weight, new_bias}, batch_norm->output(0));
    fused->attrs = std::move(attrs);
    ++rewrites;
  }
  if (rewrites) graph.topo_sort();
  return rewrites;
}

}  // namespace aimc::passes
