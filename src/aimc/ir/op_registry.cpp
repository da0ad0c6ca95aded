#include "aimc/ir/op_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_set>

#include "aimc/ir/text_syntax.h"

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
    register_recurrent_ops(r);
    register_indexing_ops(r);
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

// The default form is for reading; `exact` adds what parse_graph needs to rebuild the graph bit
// for bit (values, quoted names, shortest round-trip floats) and leaves the rest alone.
struct Printer {
  bool exact = false;

  std::string name(const std::string& text) const { return exact ? text::name_text(text) : text; }

  std::string type_str(const Value& v) const {
    std::string s = v.dtype_known ? dtype_name(v.dtype) : "?";
    if (!v.shape) return s + "[*]";
    if (!exact) return s + sym_shape_str(*v.shape);
    std::vector<std::string> dims;
    for (const Dim& d : *v.shape) {
      if (d.known()) {
        dims.push_back(std::to_string(d.value));
      } else {
        dims.push_back(d.symbol.empty() ? "?" : text::name_text(d.symbol, true));
      }
    }
    return fmt::format("{}[{}]", s, fmt::join(dims, ", "));
  }

  std::string ref(const Value* v) const {
    if (!v) return "none";
    return (v->is_constant() ? "@" : "%") + name(v->name);
  }

  std::string attr_str(const AttrValue& value) const {
    return std::visit(
        [this](const auto& a) -> std::string {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            return std::to_string(a);
          } else if constexpr (std::is_same_v<T, double>) {
            return exact ? text::exact_double(a) : fmt::format("{:g}", a);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return exact ? text::quote(a) : "\"" + a + "\"";
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            return fmt::format("[{}]", fmt::join(a, ", "));
          } else if constexpr (std::is_same_v<T, std::vector<double>>) {
            if (!exact) return fmt::format("[{}]", fmt::join(a, ", "));
            std::vector<std::string> items;
            for (double d : a) items.push_back(text::exact_double(d));
            return fmt::format("[{}]", fmt::join(items, ", "));
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            if (!exact) return fmt::format("[\"{}\"]", fmt::join(a, "\", \""));
            std::vector<std::string> items;
            for (const std::string& item : a) items.push_back(text::quote(item));
            return fmt::format("[{}]", fmt::join(items, ", "));
          } else {
            std::string type =
                fmt::format("tensor<{}{}>", dtype_name(a.dtype()), shape_str(a.shape()));
            return exact ? type + text::tensor_values_text(a) : type;
          }
        },
        value);
  }

  std::string node_name(const std::string& text) const {
    if (!exact) return text;
    bool plain = !text.empty() && text[0] != '"' && text.back() != ' ' &&
                 std::none_of(text.begin(), text.end(), [](char c) {
                   return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                 });
    return plain ? text : text::quote(text);
  }

  std::string print(const Graph& graph) const;
};

std::string Printer::print(const Graph& graph) const {
  std::string out;
  std::vector<std::string> ins, outs;
  for (const Value* v : graph.inputs) ins.push_back("%" + name(v->name) + ": " + type_str(*v));
  for (const Value* v : graph.outputs) outs.push_back(ref(v) + ": " + type_str(*v));
  out += fmt::format("graph {}({}) -> ({}) {{\n", graph.name.empty() ? "main" : name(graph.name),
                     fmt::join(ins, ", "), fmt::join(outs, ", "));
  // Constants that nodes use, with their types (and, when exact, their values).
  std::unordered_set<const Value*> used;
  for (const auto& node : graph.nodes()) {
    for (const Value* in : node->inputs) {
      if (in && in->is_constant()) used.insert(in);
    }
  }
  for (const auto& v : graph.values()) {
    if (!used.count(v.get()) && !(v->is_constant() && graph.is_graph_output(v.get()))) continue;
    out += fmt::format("  @{}: {}", name(v->name), type_str(*v));
    if (exact) out += " = " + text::tensor_values_text(v->constant);
    out += "\n";
  }
  for (const auto& node : graph.nodes()) {
    std::vector<std::string> results, operands, attrs;
    for (const Value* v : node->outputs)
      results.push_back(v ? "%" + name(v->name) + ": " + type_str(*v) : "none");
    for (const Value* v : node->inputs) operands.push_back(ref(v));
    for (const auto& [key, value] : node->attrs)
      attrs.push_back(name(key) + " = " + attr_str(value));
    out +=
        fmt::format("  {} = {}({})", fmt::join(results, ", "), node->op, fmt::join(operands, ", "));
    if (!attrs.empty()) out += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
    out += fmt::format("  // {}\n", node_name(node->name));
  }
  out += "}\n";
  return out;
}

}  // namespace

std::string print_graph(const Graph& graph) {
  return Printer{}.print(graph);
}

std::string print_graph(const Graph& graph, const PrintOptions& options) {
  return Printer{options.exact}.print(graph);
}

}  // namespace aimc::ir
