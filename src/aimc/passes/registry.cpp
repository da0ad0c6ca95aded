#include "aimc/passes/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "aimc/ir/op_registry.h"

namespace aimc::passes {

namespace {

std::vector<NamedPass> make_passes() {
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

std::string trimmed(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

const std::vector<NamedPass>& all_passes() {
  static const std::vector<NamedPass> passes = make_passes();
  return passes;
}

std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const NamedPass& pass : all_passes()) names.push_back(pass.info.name);
  return names;
}

const NamedPass& find_pass(const std::string& name) {
  std::string spelled = name;
  std::replace(spelled.begin(), spelled.end(), '_', '-');
  for (const NamedPass& pass : all_passes()) {
    if (pass.info.name == spelled) return pass;
  }
  throw_bad_input("unknown pass '{}' (known passes: {})", name, fmt::join(pass_names(), ", "));
}

std::vector<const NamedPass*> parse_pass_list(const std::string& comma_separated) {
  std::vector<const NamedPass*> passes;
  // "none" says it where an empty value is awkward to write (`--passes=none`).
  if (trimmed(comma_separated).empty() || trimmed(comma_separated) == "none") return passes;
  size_t start = 0;
  for (;;) {
    size_t comma = comma_separated.find(',', start);
    std::string name = trimmed(comma_separated.substr(start, comma - start));
    if (name.empty()) throw_bad_input("empty pass name in the list '{}'", comma_separated);
    passes.push_back(&find_pass(name));
    if (comma == std::string::npos) return passes;
    start = comma + 1;
  }
}

void run_passes(ir::Graph& graph, const std::vector<const NamedPass*>& passes,
                const NodeEvaluator& evaluate) {
  ir::verify(graph);
  for (const NamedPass* pass : passes) {
    if (pass->run(graph, evaluate) == 0) continue;
    try {
      ir::verify(graph);
    } catch (const Error& e) {
      throw_runtime("internal error: the graph is invalid after pass '{}': {}", pass->info.name,
                    e.what());
    }
  }
  ir::infer_shapes(graph);
}

}  // namespace aimc::passes
