// Schemas and shape functions of the recurrent ops LSTM, GRU and RNN (ONNX opsets 7-17; the
// `layout` attribute of opset 14 included). Outputs: Y [seq, dirs, batch, hidden] (layout 0)
// or [batch, seq, dirs, hidden] (layout 1), Y_h and (LSTM) Y_c [dirs, batch, hidden] (layout 0)
// or [batch, dirs, hidden] (layout 1).
#include <optional>
#include <string>

#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

struct Cell {
  const char* name;
  int gates;  // gate blocks stacked in W and R: 4 (LSTM, i o f c), 3 (GRU, z r h), 1 (RNN)
  int max_inputs;
  int max_outputs;
  const char* description;
};

int64_t directions(const Node& node) {
  std::string direction = node.attr_string("direction", "forward");
  if (direction == "forward" || direction == "reverse") return 1;
  if (direction == "bidirectional") return 2;
  throw_bad_input("{}: direction '{}' is not forward, reverse or bidirectional", node.describe(),
                  direction);
}

void require_rank(const Node& node, size_t i, size_t rank, const char* what) {
  const Value* v = node.input(i);
  if (v && v->shape && v->shape->size() != rank)
    throw_bad_input("{}: {} (input {}) must have rank {}, it has rank {}", node.describe(), what, i,
                    rank, v->shape->size());
  if (v && v->dtype_known && v->dtype != DType::kF32)
    throw_bad_input("{}: {} (input {}) must be f32, got {}", node.describe(), what, i,
                    dtype_name(v->dtype));
}

void infer_recurrent(const Cell& cell, Node& node) {
  int64_t dirs = directions(node);
  int64_t hidden = node.require_int("hidden_size");
  if (hidden <= 0)
    throw_bad_input("{}: hidden_size must be positive, not {}", node.describe(), hidden);
  int64_t layout = node.attr_int("layout", 0);
  if (layout != 0 && layout != 1)
    throw_bad_input("{}: layout must be 0 or 1, not {}", node.describe(), layout);
  require_rank(node, 0, 3, "X");
  require_rank(node, 1, 3, "W");
  require_rank(node, 2, 3, "R");
  // W [dirs, gates * hidden, input] and R [dirs, gates * hidden, hidden] when their shapes
  // are known; a mismatch with hidden_size or direction is the model's error.
  for (size_t i : {size_t{1}, size_t{2}}) {
    const Value* v = node.input(i);
    if (!v || !v->shape) continue;
    const SymShape& s = *v->shape;
    if ((s[0].known() && s[0].value != dirs) ||
        (s[1].known() && s[1].value != cell.gates * hidden) ||
        (i == 2 && s[2].known() && s[2].value != hidden))
      throw_bad_input("{}: {} has shape {} but direction and hidden_size {} need [{}, {}, {}]",
                      node.describe(), i == 1 ? "W" : "R", sym_shape_str(s), hidden, dirs,
                      cell.gates * hidden,
                      i == 1 ? std::string("input_size") : std::to_string(hidden));
  }
  std::optional<SymShape> x;
  if (const Value* v = node.input(0); v && v->shape) x = v->shape;
  Dim seq = x ? (*x)[layout == 0 ? 0 : 1] : Dim{};
  Dim batch = x ? (*x)[layout == 0 ? 1 : 0] : Dim{};
  SymShape y = layout == 0 ? SymShape{seq, Dim::of(dirs), batch, Dim::of(hidden)}
                           : SymShape{batch, seq, Dim::of(dirs), Dim::of(hidden)};
  SymShape state = layout == 0 ? SymShape{Dim::of(dirs), batch, Dim::of(hidden)}
                               : SymShape{batch, Dim::of(dirs), Dim::of(hidden)};
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    Value* out = node.output(i);
    if (!out) continue;
    out->dtype = DType::kF32;
    out->dtype_known = true;
    out->shape = i == 0 ? y : state;
  }
}

AttrSpec attr(const char* name, AttrType type, const char* description) {
  return AttrSpec{name, type, false, description};
}

}  // namespace

void register_recurrent_ops(OpRegistry& registry) {
  const Cell cells[] = {
      {"LSTM", 4, 8, 3,
       "long short-term memory over a sequence (gates i, o, f, c; optional peepholes)"},
      {"GRU", 3, 6, 2, "gated recurrent unit over a sequence (gates z, r, h)"},
      {"RNN", 1, 6, 2, "simple recurrent layer over a sequence: H = f(X W' + H R' + b)"},
  };
  for (const Cell& cell : cells) {
    OpSchema s;
    s.name = cell.name;
    s.min_inputs = 3;
    s.max_inputs = cell.max_inputs;
    s.min_outputs = 1;
    s.max_outputs = cell.max_outputs;
    s.description = cell.description;
    s.attrs = {
        AttrSpec{"hidden_size", AttrType::kInt, true, "number of hidden units"},
        attr("direction", AttrType::kString, "forward (default), reverse or bidirectional"),
        attr("activations", AttrType::kStrings,
             "activation functions per direction (default Sigmoid, Tanh[, Tanh])"),
        attr("activation_alpha", AttrType::kFloats,
             "alpha of the activations that take one, in order"),
        attr("activation_beta", AttrType::kFloats,
             "beta of the activations that take one, in order"),
        attr("clip", AttrType::kFloat, "gate pre-activations are clipped to [-clip, clip]"),
        attr("layout", AttrType::kInt, "0 (default): X is [seq, batch, input]; 1: batch first"),
    };
    if (cell.gates == 4)
      s.attrs.push_back(
          attr("input_forget", AttrType::kInt, "1: couple the forget gate, f = 1 - i"));
    if (cell.gates == 3)
      s.attrs.push_back(
          attr("linear_before_reset", AttrType::kInt,
               "1: apply the reset gate after the recurrent product (PyTorch's GRU)"));
    s.infer = [cell](Node& node) { infer_recurrent(cell, node); };
    registry.add(std::move(s));
  }
}

}  // namespace aimc::ir
