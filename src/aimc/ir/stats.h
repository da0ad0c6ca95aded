// Static statistics of a graph: op histogram, parameter count, multiply-accumulates per layer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aimc/ir/graph.h"

namespace aimc::ir {

struct LayerMacs {
  std::string node;
  std::string op;
  int64_t macs = 0;  // -1 when the shapes are not known
  std::string output_shape;
};

struct GraphStats {
  std::map<std::string, int64_t> op_histogram;
  int64_t parameters = 0;         // elements of the f32 constants that nodes read (weights, biases)
  std::vector<LayerMacs> layers;  // nodes that multiply-accumulate (linear, matmul, conv, ...)
  int64_t total_macs = 0;         // sum over layers with known shapes
  bool macs_complete = true;      // false when some layer's shapes were unknown
};

// MACs of one node from its inputs' and outputs' static shapes; 0 for ops that do no MACs,
// -1 when a needed shape is unknown.
int64_t node_macs(const Node& node);

GraphStats compute_stats(const Graph& graph);

}  // namespace aimc::ir
