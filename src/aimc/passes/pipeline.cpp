// The canonicalisation pipeline: every pass in order, repeated until none rewrites anything
// (one pass can enable another: folding makes a weight constant, which makes a MatMul a
// linear). The graph is verified after every pass so that a broken rewrite is caught at the
// pass that made it.
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"

namespace aimc::passes {

namespace {

// Enough for any real model: each round can only enable a few more rewrites.
constexpr int kMaxRounds = 16;

struct Pass {
  PassInfo info;
  std::function<int(ir::Graph&, const NodeEvaluator&)> run;
};

std::vector<Pass> passes() {
  auto plain = [](int (*pass)(ir::Graph&)) {
    return [pass](ir::Graph& graph, const NodeEvaluator&) { return pass(graph); };
  };
  return {
      {{"remove-identities", "Identity and inference Dropout are removed"},
       plain(remove_identities)},
      {{"fold-constants", "nodes with constant inputs (and Shape of static shapes) are evaluated"},
       [](ir::Graph& graph, const NodeEvaluator& evaluate) {
         return fold_constants(graph, evaluate);
       }},
      {{"fold-batchnorm", "BatchNormalization after a constant-weight Conv folds into its weights"},
       plain(fold_batchnorm)},
      {{"canonicalize-conv", "Conv -> conv with explicit pads and kernel_shape"},
       plain(canonicalize_conv)},
      {{"fuse-layer-norm", "LayerNormalization and its decomposed form -> layer_norm"},
       plain(fuse_layer_norm)},
      {{"fuse-gelu", "erf and tanh GELU patterns -> gelu"}, plain(fuse_gelu)},
      {{"canonicalize-matmul",
        "MatMul/Gemm with constant weight (+ bias Add) -> linear; other MatMul -> matmul"},
       plain(canonicalize_matmul)},
      {{"eliminate-dead-code", "nodes and values that reach no graph output are removed"},
       plain(eliminate_dead_code)},
  };
}

}  // namespace

std::vector<PassInfo> pipeline() {
  std::vector<PassInfo> infos;
  for (const Pass& pass : passes()) infos.push_back(pass.info);
  return infos;
}

void canonicalize(ir::Graph& graph, const NodeEvaluator& evaluate) {
  // The passes rely on a well-formed graph (operand counts, producers): check it first, so that
  // a malformed model is reported as such rather than half rewritten.
  ir::verify(graph);
  const std::vector<Pass> all = passes();
  for (int round = 0; round < kMaxRounds; ++round) {
    int rewrites = 0;
    for (const Pass& pass : all) {
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
