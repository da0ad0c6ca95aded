// The graph IR: a Graph owns Nodes and Values. A Value is produced by at most one Node (or is
// a graph input, or a constant); Nodes refer to their operands by pointer. Op names are ONNX's
// (e.g. "MatMul") for imported ops and lower case for aimc's canonical ops ("linear").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aimc/core/tensor.h"

namespace aimc::ir {

// One dimension of a static shape: a known size, or unknown with an optional symbol
// ("batch", "N") shared by dimensions that must be equal.
struct Dim {
  int64_t value = -1;  // -1: unknown
  std::string symbol;  // set for symbolic dimensions (value == -1)

  bool known() const { return value >= 0; }
  static Dim of(int64_t v) { return Dim{v, {}}; }
  static Dim symbolic(std::string s) { return Dim{-1, std::move(s)}; }
  bool operator==(const Dim& other) const = default;
};
using SymShape = std::vector<Dim>;

std::string sym_shape_str(const SymShape& shape);  // "[batch, 3, 224, 224]", "?" if unknown
bool sym_shape_known(const SymShape& shape);       // every dimension known
Shape to_shape(const SymShape& shape);             // requires sym_shape_known
SymShape to_sym_shape(const Shape& shape);

class Node;

// Where a constant made by a pass comes from in the imported model, so that trained values
// can be written back into it (train/, frontend/onnx_writeback.h):
//   value = (transposed ? sourceᵀ : source) · scale + shift,
// scale and shift holding one number for the whole tensor or one per index of the value's
// axis 0 (an output channel). An imported constant has no origin: it is its own source.
struct ConstantOrigin {
  std::string source;  // the imported constant's name (an ONNX initializer)
  bool transposed = false;
  std::vector<double> scale{1.0}, shift{0.0};
};

class Value {
 public:
  std::string name;
  DType dtype = DType::kF32;
  bool dtype_known = false;
  std::optional<SymShape> shape;         // nullopt: rank unknown
  Tensor constant;                       // valid for initializers and folded constants
  Node* producer = nullptr;              // nullptr for graph inputs and constants
  std::optional<ConstantOrigin> origin;  // set by passes that derive constants (see above)

  bool is_constant() const { return constant.is_valid(); }
};

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<double>, std::vector<std::string>, Tensor>;

class Node {
 public:
  std::string op;    // "MatMul", "linear", ...
  std::string name;  // unique within the graph (the importer makes up names for unnamed nodes)
  std::vector<Value*> inputs;  // nullptr for an omitted optional input
  std::vector<Value*> outputs;
  std::map<std::string, AttrValue> attrs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  // Typed attribute getters; a missing attribute returns the default, a wrong type throws
  // Error(kBadInput) naming the node and the attribute.
  int64_t attr_int(const std::string& key, int64_t default_value) const;
  double attr_float(const std::string& key, double default_value) const;
  std::string attr_string(const std::string& key, const std::string& default_value) const;
  std::vector<int64_t> attr_ints(const std::string& key,
                                 const std::vector<int64_t>& default_value = {}) const;
  std::vector<double> attr_floats(const std::string& key,
                                  const std::vector<double>& default_value = {}) const;
  const Tensor& attr_tensor(const std::string& key) const;
  // Required variants: throw Error(kBadInput) when missing.
  int64_t require_int(const std::string& key) const;
  std::vector<int64_t> require_ints(const std::string& key) const;

  Value* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs.size() ? outputs[i] : nullptr; }
  size_t num_present_inputs() const;
  std::string describe() const;  // "node 'name' (Op)" for error messages
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  std::string name;
  int64_t opset = 17;

  // Creation. Names must be unique; make_unique_name() helps passes invent new ones.
  Value* add_value(const std::string& name);
  Value* add_constant(const std::string& name, Tensor tensor);
  Node* add_node(const std::string& op, const std::string& name, std::vector<Value*> inputs,
                 std::vector<Value*> outputs);
  std::string make_unique_name(const std::string& base);

  Value* find_value(const std::string& name) const;
  Node* find_node(const std::string& name) const;

  std::vector<Value*> inputs;  // runtime inputs (not constants)
  std::vector<Value*> outputs;

  // Nodes in topological order (kept so by add_node order + topo_sort()).
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }

  // Replaces every use of `from` (node inputs and graph outputs) with `to`.
  void replace_all_uses(Value* from, Value* to);
  // Nodes that use v as an input (in node order).
  std::vector<Node*> users(const Value* v) const;
  bool is_graph_output(const Value* v) const;
  // Removes nodes whose outputs are unused and values nobody refers to.
  void remove_dead();
  // Removes the given nodes (their outputs must be unused or replaced).
  void remove_nodes(const std::vector<Node*>& nodes);
  // Sorts nodes topologically (stable); throws Error(kBadInput) on a cycle.
  void topo_sort();
  // Deep copy (constants share tensor storage, which is never mutated in place).
  std::unique_ptr<Graph> clone() const;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::map<std::string, Value*> value_by_name_;
  std::map<std::string, Node*> node_by_name_;
  int64_t unique_counter_ = 0;
};

}  // namespace aimc::ir
