#include "aimc/train/parameters.h"

#include <algorithm>

#include "aimc/core/error.h"
#include "aimc/train/autodiff.h"
#include "aimc/train/backward_rules.h"

namespace aimc::train {

namespace {

// True when some reader of `v` can pass a gradient into it.
bool read_differentiably(const ir::Graph& graph, const ir::Value* v) {
  for (const ir::Node* node : graph.users(v)) {
    const BackwardRule* rule = BackwardRegistry::instance().find(node->op);
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      if (node->inputs[i] != v) continue;
      if (!rule) return true;  // check_differentiable names the op
      if (rule->differentiable.empty() ||
          std::find(rule->differentiable.begin(), rule->differentiable.end(), i) !=
              rule->differentiable.end())
        return true;
    }
  }
  return false;
}

double at(const std::vector<double>& per_row, int64_t row) {
  return per_row.size() == 1 ? per_row[0] : per_row[static_cast<size_t>(row)];
}

// Why the origin cannot be inverted for `value`, or "".
std::string origin_problem(const ir::ConstantOrigin& origin, const Tensor& value) {
  const int64_t rows = value.rank() ? value.dim(0) : 1;
  for (const auto* v : {&origin.scale, &origin.shift}) {
    if (v->size() != 1 && static_cast<int64_t>(v->size()) != rows) return "origin does not fit";
  }
  for (double s : origin.scale) {
    if (s == 0.0) return "derived with a zero scale (e.g. a BatchNorm with γ = 0)";
  }
  if (origin.transposed && value.rank() != 2) return "transposed origin of a non-matrix";
  return "";
}

Tensor transpose_2d(const Tensor& t) {
  const int64_t rows = t.dim(0), cols = t.dim(1);
  Tensor out(DType::kF32, {cols, rows});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out.data<float>()[c * rows + r] = t.data<float>()[r * cols + c];
  return out;
}

}  // namespace

ParameterSet find_parameters(const ir::Graph& graph, const std::set<std::string>& writable) {
  std::vector<ir::Value*> candidates;
  for (const auto& v : graph.values()) {
    if (!v->is_constant() || v->constant.dtype() != DType::kF32) continue;
    if (graph.users(v.get()).empty() || !read_differentiably(graph, v.get())) continue;
    candidates.push_back(v.get());
  }
  std::set<const ir::Value*> all(candidates.begin(), candidates.end());
  std::set<const ir::Value*> on_path;
  for (const ir::Node* node : nodes_to_differentiate(graph, all)) {
    for (const ir::Value* in : node->inputs) {
      if (in && all.count(in)) on_path.insert(in);
    }
  }
  ParameterSet set;
  std::map<std::string, int> per_source;
  std::vector<Parameter> found;
  for (ir::Value* v : candidates) {
    if (!on_path.count(v)) continue;
    if (v->constant.numel() <= 1) {
      set.frozen.push_back(v->name + ": a single number (scale factors stay fixed)");
      continue;
    }
    ir::ConstantOrigin origin = v->origin ? *v->origin : ir::ConstantOrigin{v->name};
    if (!writable.count(origin.source)) {
      set.frozen.push_back(v->name +
                           ": computed from the model's constants, no initializer to "
                           "write it back into");
      continue;
    }
    if (std::string why = origin_problem(origin, v->constant); !why.empty()) {
      set.frozen.push_back(v->name + ": " + why);
      continue;
    }
    const Shape& shape = v->constant.shape();
    bool decay = shape.size() >= 2 && shape[0] > 1;
    if (origin.transposed) decay = shape.size() >= 2 && shape[1] > 1;
    found.push_back(Parameter{v, origin, decay});
    ++per_source[origin.source];
  }
  for (Parameter& p : found) {
    if (per_source[p.origin.source] > 1) {
      set.frozen.push_back(p.value->name + ": its initializer '" + p.origin.source +
                           "' feeds several layers (tied weights are not trained)");
      continue;
    }
    set.trained.push_back(p);
  }
  return set;
}

std::map<std::string, Tensor> initializer_values(const std::vector<Parameter>& parameters) {
  std::map<std::string, Tensor> out;
  for (const Parameter& p : parameters) {
    const Tensor& value = p.value->constant;
    Tensor source(DType::kF32, value.shape());
    const int64_t rows = value.rank() ? value.dim(0) : 1;
    const int64_t per_row = rows ? value.numel() / rows : 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double scale = at(p.origin.scale, r), shift = at(p.origin.shift, r);
      for (int64_t i = 0; i < per_row; ++i) {
        const int64_t k = r * per_row + i;
        source.data<float>()[k] = static_cast<float>((value.data<float>()[k] - shift) / scale);
      }
    }
    out[p.origin.source] = p.origin.transposed ? transpose_2d(source) : source;
  }
  return out;
}

Tensor initializer_gradient(const Parameter& parameter, const Tensor& value_gradient) {
  Tensor g(DType::kF32, value_gradient.shape());
  const int64_t rows = g.rank() ? g.dim(0) : 1;
  const int64_t per_row = rows ? g.numel() / rows : 0;
  for (int64_t r = 0; r < rows; ++r) {
    const double scale = at(parameter.origin.scale, r);
    for (int64_t i = 0; i < per_row; ++i)
      g.data<float>()[r * per_row + i] =
          static_cast<float>(value_gradient.data<float>()[r * per_row + i] * scale);
  }
  return parameter.origin.transposed ? transpose_2d(g) : g;
}

}  // namespace aimc::train
