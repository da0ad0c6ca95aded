#include "aimc/ir/op_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unordered_set>

namespace aimc::ir {

const char* attr_type_name(AttrType type) {
  switch (type) {
    case AttrType::kInt:
      return "int";
    case AttrType::kFloat:
      return "float";
    case AttrType::kString:
      return "string";
    case AttrType::kInts:
      return "ints";
    case AttrType::kFloats:
      return "floats";
    case AttrType::kStrings:
      return "strings";
    case AttrType::kTensor:
      return "tensor";
  }
  return "?";
}

const OpRegistry& OpRegistry::instance() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    register_shape_ops(r);
    register_nn_ops(r);
    return r;
  }();
  return registry;
}

const OpSchema* OpRegistry::find(const std::string& name) const {
  auto it = schemas_.find(name);
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, schema] : schemas_) out.push_back(name);
  return out;
}

void OpRegistry::add(OpSchema schema) {
  AIMC_ASSERT(!schemas_.count(schema.name), "op '{}' registered twice", schema.name);
  std::string name = schema.name;
  schemas_.emplace(std::move(name), std::move(schema));
}

void infer_shapes_for_one_inference(Graph& graph) {
  std::map<std::string, int64_t> bindings;
  for (const Value* input : graph.inputs)
    if (input->shape)
      for (const Dim& dim : *input->shape)
        if (!dim.known() && !dim.symbol.empty()) bindings[dim.symbol] = 1;
  infer_shapes(graph, bindings);
}

void infer_shapes(Graph& graph, const std::map<std::string, int64_t>& bindings) {
  if (!bindings.empty()) {
    for (Value* in : graph.inputs) {
      if (!in->shape) continue;
      for (Dim& d : *in->shape) {
        auto it = bindings.find(d.symbol);
        if (!d.known() && it != bindings.end()) d = Dim::of(it->second);
      }
    }
  }
  const OpRegistry& registry = OpRegistry::instance();
  for (const auto& node : graph.nodes()) {
    const OpSchema* schema = registry.find(node->op);
    if (!schema) throw_bad_input("{}: unsupported op '{}'", node->describe(), node->op);
    if (!schema->infer) continue;
    // Shapes declared by the model (ONNX graph outputs, value_info) refine what the shape
    // function can prove: a dimension it leaves unknown keeps its declared size or symbol.
    std::vector<std::optional<SymShape>> declared;
    for (const Value* out : node->outputs) declared.push_back(out ? out->shape : std::nullopt);
    try {
      schema->infer(*node);
    } catch (const Error& e) {
      std::string what = e.what();
      if (what.find(node->name) != std::string::npos) throw;
      rethrow_with_context(e, node->describe());
    }
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      Value* out = node->outputs[i];
      if (!out || !declared[i]) continue;
      if (!out->shape) {
        out->shape = declared[i];
        continue;
      }
      if (out->shape->size() != declared[i]->size()) continue;
      for (size_t d = 0; d < out->shape->size(); ++d) {
        Dim& inferred = (*out->shape)[d];
        if (!inferred.known() && inferred.symbol.empty()) inferred = (*declared[i])[d];
      }
    }
  }
}

namespace {

bool attr_matches(const AttrValue& value, AttrType type) {
  switch (type) {
    case AttrType::kInt:
      return std::holds_alternative<int64_t>(value);
    case AttrType::kFloat:
      return std::holds_alternative<double>(value) || std::holds_alternative<int64_t>(value);
    case AttrType::kString:
      return std::holds_alternative<std::string>(value);
    case AttrType::kInts:
      return std::holds_alternative<std::vector<int64_t>>(value);
    case AttrType::kFloats:
      return std::holds_alternative<std::vector<double>>(value);
    case AttrType::kStrings:
      return std::holds_alternative<std::vector<std::string>>(value);
    case AttrType::kTensor:
      return std::holds_alternative<Tensor>(value);
  }
  return false;
}

}  // namespace

void verify(const Graph& graph) {
  const OpRegistry& registry = OpRegistry::instance();
  std::unordered_set<const Value*> defined;
  for (const Value* in : graph.inputs) defined.insert(in);
  for (const auto& v : graph.values()) {
    if (v->is_constant()) defined.insert(v.get());
  }
  for (const auto& node : graph.nodes()) {
    const OpSchema* schema = registry.find(node->op);
    if (!schema) throw_bad_input("{}: unsupported op '{}'", node->describe(), node->op);
    int n_in = static_cast<int>(node->inputs.size());
    if (n_in < schema->min_inputs || (schema->max_inputs >= 0 && n_in > schema->max_inputs))
      throw_bad_input(
          "{}: has {} inputs, {} takes {} to {}", node->describe(), n_in, node->op,
          schema->min_inputs,
          schema->max_inputs < 0 ? std::string("any") : std::to_string(schema->max_inputs));
    for (int i = 0; i < std::min(n_in, schema->min_inputs); ++i) {
      if (!node->inputs[static_cast<size_t>(i)])
        throw_bad_input("{}: required input {} is missing", node->describe(), i);
    }
    int n_out = static_cast<int>(node->outputs.size());
    if (n_out < schema->min_outputs || (schema->max_outputs >= 0 && n_out > schema->max_outputs))
      throw_bad_input("{}: has {} outputs, {} produces {} to {}", node->describe(), n_out, node->op,
                      schema->min_outputs, schema->max_outputs);
    for (const AttrSpec& spec : schema->attrs) {
      auto it = node->attrs.find(spec.name);
      if (it == node->attrs.end()) {
        if (spec.required)
          throw_bad_input("{}: missing required attribute '{}'", node->describe(), spec.name);
        continue;
      }
      if (!attr_matches(it->second, spec.type))
        throw_bad_input("{}: attribute '{}' must be of type {}", node->describe(), spec.name,
                        attr_type_name(spec.type));
    }
    for (const Value* in : node->inputs) {
      if (in && !defined.count(in))
        throw_bad_input("{}: input '{}' is used before it is defined (or never defined)",
                        node->describe(), in->name);
    }
    for (const Value* out : node->outputs) {
      if (!out) continue;
      if (out->producer != node.get())
        throw_bad_input("{}: output '{}' has another producer", node->describe(), out->name);
      defined.insert(out);
    }
  }
  for (const Value* out : graph.outputs) {
    if (!defined.count(out)) throw_bad_input("graph output '{}' is never produced", out->name);
  }
}

// ---- printer ----

namespace {

std::string type_str(const Value& v) {
  std::string s = v.dtype_known ? dtype_name(v.dtype) : "?";
  s += v.shape ? sym_shape_str(*v.shape) : "[*]";
  return s;
}

std::string ref(const Value* v) {
  if (!v) return "none";
  return (v->is_constant() ? "@" : "%") + v->name;
}

std::string attr_str(const AttrValue& value) {
  return std::visit(
      [](const auto& a) -> std::string {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(a);
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("{:g}", a);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return "\"" + a + "\"";
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          return fmt::format("[{}]", fmt::join(a, ", "));
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          return fmt::format("[{}]", fmt::join(a, ", "));
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return fmt::format("[\"{}\"]", fmt::join(a, "\", \""));
        } else {
          return fmt::format("tensor<{}{}>", dtype_name(a.dtype()), shape_str(a.shape()));
        }
      },
      value);
}

}  // namespace

std::string print_graph(const Graph& graph) {
  std::string out;
  std::vector<std::string> ins, outs;
  for (const Value* v : graph.inputs) ins.push_back("%" + v->name + ": " + type_str(*v));
  for (const Value* v : graph.outputs) outs.push_back(ref(v) + ": " + type_str(*v));
  out += fmt::format("graph {}({}) -> ({}) {{\n", graph.name.empty() ? "main" : graph.name,
                     fmt::join(ins, ", "), fmt::join(outs, ", "));
  // Constants that nodes use, with their types (values are not printed).
  std::unordered_set<const Value*> used;
  for (const auto& node : graph.nodes()) {
    for (const Value* in : node->inputs) {
      if (in && in->is_constant()) used.insert(in);
    }
  }
  for (const auto& v : graph.values()) {
    if (used.count(v.get()) || (v->is_constant() && graph.is_graph_output(v.get())))
      out += fmt::format("  @{}: {}\n", v->name, type_str(*v));
  }
  for (const auto& node : graph.nodes()) {
    std::vector<std::string> results, operands, attrs;
    for (const Value* v : node->outputs)
      results.push_back(v ? "%" + v->name + ": " + type_str(*v) : "none");
    for (const Value* v : node->inputs) operands.push_back(ref(v));
    for (const auto& [key, value] : node->attrs) attrs.push_back(key + " = " + attr_str(value));
    out +=
        fmt::format("  {} = {}({})", fmt::join(results, ", "), node->op, fmt::join(operands, ", "));
    if (!attrs.empty()) out += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
    out += fmt::format("  // {}\n", node->name);
  }
  out += "}\n";
  return out;
}

}  // namespace aimc::ir
