// Identity and inference-mode Dropout forward their input unchanged: their readers read the
// input instead. The graph's output names are what `aimc run` writes, so they never change:
// when the forwarded value is a graph output, the input's producer is made to produce it.
#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

namespace {

// Dropout is the identity at inference unless training_mode is given and not a constant false.
bool is_inference_dropout(const ir::Graph& graph, const ir::Node& node) {
  const ir::Value* training_mode = node.input(2);
  if (training_mode) {
    if (!training_mode->is_constant() || training_mode->constant.numel() != 1) return false;
    if (training_mode->constant.item_as_int(0) != 0) return false;
  }
  const ir::Value* mask = node.output(1);
  return !mask || detail::is_unused(graph, mask);
}

// Rewires readers of `out` to `in` and removes `node`; false when that would rename a graph
// output and cannot be avoided.
bool forward_input(ir::Graph& graph, ir::Node* node, ir::Value* in, ir::Value* out) {
  if (!graph.is_graph_output(out)) {
    graph.replace_all_uses(out, in);
    graph.remove_nodes({node});
    return true;
  }
  // `out` must keep its name: its new producer is `in`'s producer, when `in` is an ordinary
  // intermediate value (not a graph input, constant or another graph output).
  ir::Node* producer = in->producer;
  if (!producer || in->is_constant() || graph.is_graph_output(in)) return false;
  graph.remove_nodes({node});
  graph.replace_all_uses(in, out);
  for (ir::Value*& produced : producer->outputs) {
    if (produced == in) produced = out;
  }
  out->producer = producer;
  in->producer = nullptr;
  return true;
}

}  // namespace

int remove_identities(ir::Graph& graph) {
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->op == "Identity" || (node->op == "Dropout" && is_inference_dropout(graph, *node)))
      candidates.push_back(node.get());
  }
  int rewrites = 0;
  for (ir::Node* node : candidates) {
    ir::Value* in = node->input(0);
    ir::Value* out = node->output(0);
    if (!in || !out) continue;
    if (forward_input(graph, node, in, out)) ++rewrites;
  }
  return rewrites;
}

}  // namespace aimc::passes
