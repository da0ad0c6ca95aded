// The canonicalisation passes by name, so that one pass (or a chosen list) can run alone:
// `aimc inspect MODEL --passes=fold-constants,fuse-gelu` and the .ir pass tests use this.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "aimc/ir/graph.h"
#include "aimc/passes/passes.h"

namespace aimc::passes {

struct NamedPass {
  PassInfo info;
  // Returns the number of rewrites, like the pass functions in passes.h.
  std::function<int(ir::Graph&, const NodeEvaluator&)> run;
};

// Every pass, in the order canonicalize() runs them.
const std::vector<NamedPass>& all_passes();
// Their names ("fold-constants", ...), in that order.
std::vector<std::string> pass_names();
// The pass called `name`; '_' and '-' are the same ("fold_constants" is "fold-constants").
// Throws Error(kBadInput) listing the known names when there is none.
const NamedPass& find_pass(const std::string& name);
// "a,b,c" -> the passes a, b, c (checked with find_pass); an empty text or "none" is no pass.
std::vector<const NamedPass*> parse_pass_list(const std::string& comma_separated);
// Runs `passes` once each, in order, verifying the graph before and after each, then re-infers
// shapes (as canonicalize() does at its end).
void run_passes(ir::Graph& graph, const std::vector<const NamedPass*>& passes,
                const NodeEvaluator& evaluate);

}  // namespace aimc::passes
