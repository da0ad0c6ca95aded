// The canonicalisation pipeline: every pass in order, repeated until none rewrites anything
// (one pass can enable another: folding makes a weight constant, which makes a MatMul a
// linear). The graph is verified after every pass so that a broken rewrite is caught at the
// pass that made it.
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/passes/registry.h"

namespace aimc::passes {

namespace {

// Enough for any real model: each round can only enable a few more rewrites.
constexpr int kMaxRounds = 16;

}  // namespace

std::vector<PassInfo> pipeline() {
  std::vector<PassInfo> infos;
  for (const NamedPass& pass : all_passes()) infos.push_back(pass.info);
  return infos;
}

void canonicalize(ir::Graph& graph, const NodeEvaluator& evaluate) {
  // The passes rely on a well-formed graph (operand counts, producers): check it first, so that
  // a malformed model is reported as such rather than half rewritten.
  ir::verify(graph);
  for (int round = 0; round < kMaxRounds; ++round) {
    int rewrites = 0;
    for (const NamedPass& pass : all_passes()) {
      int made = pass.run(graph, evaluate);
      if (made == 0) continue;
      rewrites += made;
      try {
        ir::verify(graph);
      } catch (const Error& e) {
        throw_runtime("internal error: the graph is invalid after pass '{}': {}", pass.info.name,
                      e.what());
      }
    }
    if (rewrites == 0) break;
    // Folding may have made shapes static (a Reshape whose shape became constant), which the
    // next round's patterns can use.
    ir::infer_shapes(graph);
  }
  ir::infer_shapes(graph);
}

}  // namespace aimc::passes
