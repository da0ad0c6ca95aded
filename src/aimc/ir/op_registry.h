// The one table of ops aimc knows: for each op its name, inputs, attributes (with types and
// defaults, for documentation and verification) and its shape function. The importer, the
// verifier, the printer and `aimc inspect` all read this table; the runtime keeps its kernels
// in a separate table keyed by the same names.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/ir/graph.h"

namespace aimc::ir {

enum class AttrType { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor };
const char* attr_type_name(AttrType type);

struct AttrSpec {
  std::string name;
  AttrType type;
  bool required = false;
  std::string description;
};

// Sets the dtype and (when it can be known) the shape of every output of `node` from its
// inputs' dtypes, shapes and constant values. Leaves an output's shape nullopt when it
// depends on data only known at run time. Throws Error(kBadInput) for inconsistent inputs.
using ShapeFn = std::function<void(Node& node)>;

struct OpSchema {
  std::string name;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: variadic
  int min_outputs = 1;
  int max_outputs = 1;
  std::vector<AttrSpec> attrs;
  ShapeFn infer;
  std::string description;  // one line
};

class OpRegistry {
 public:
  static const OpRegistry& instance();

  const OpSchema* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  void add(OpSchema schema);               // used while building the table

 private:
  std::map<std::string, OpSchema> schemas_;
};

// Registration functions, one per family of ops; OpRegistry::instance() calls them all.
void register_elementwise_ops(OpRegistry& registry);
void register_shape_ops(OpRegistry& registry);
void register_nn_ops(OpRegistry& registry);
void register_recurrent_ops(OpRegistry& registry);  // LSTM, GRU, RNN
void register_indexing_ops(OpRegistry& registry);   // Scatter*, GatherND, DepthToSpace, ...

// Runs every node's shape function in order. `bindings` fixes symbolic dimensions
// (e.g. {"batch", 1}) on the graph inputs first.
void infer_shapes(Graph& graph, const std::map<std::string, int64_t>& bindings = {});
// infer_shapes with every symbolic dimension of the graph inputs (the batch) bound to 1: one
// inference, so that shape computations fold and every layer's size is known (cost, compile).
void infer_shapes_for_one_inference(Graph& graph);

// Checks the graph's structure (every op registered, operand counts, required attributes and
// their types, each value defined before use, outputs produced). Throws Error(kBadInput)
// naming the node at fault.
void verify(const Graph& graph);

// The textual IR shown by `aimc inspect --ir`.
std::string print_graph(const Graph& graph);

struct PrintOptions {
  // Also write every constant's values (and tensor attributes'), floats in their shortest exact
  // form and names quoted where a bare word would not read back: the form that
  // ir::parse_graph (parser.h) turns back into the same graph, bit for bit.
  bool exact = false;
};
std::string print_graph(const Graph& graph, const PrintOptions& options);

}  // namespace aimc::ir
