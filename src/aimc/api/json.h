// The JSON documents the commands print with --json, built from the api results. The CLI and
// the Python bindings both return these, so that their dicts are the same by construction.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aimc/api/estimate.h"
#include "aimc/api/evaluate.h"
#include "aimc/api/simulate.h"
#include "aimc/api/trees.h"
#include "aimc/arch/architecture.h"
#include "aimc/ir/tree_ensemble.h"

namespace aimc::api {

// `aimc eval --json`. `arch` is the one of request.arch (nullptr: digital only), loaded from
// `arch_file`.
nlohmann::json eval_json(const EvalResult& result, const EvalRequest& request,
                         const std::string& arch_file);

// `aimc estimate --json`; `baseline` is the request's GPU, when it had one.
nlohmann::json estimate_json(const EstimateResult& result, const std::string& model,
                             const arch::Architecture& arch,
                             const std::optional<cost::GpuSpec>& baseline);

// `aimc estimate --peak --json`.
nlohmann::json peak_json(const arch::Architecture& arch);

// `aimc compile --json`: DIR/mapping.json.
nlohmann::json compile_json(const CompileResult& result, const std::string& model,
                            const arch::Architecture& arch);

// `aimc simulate --json`; wall_s: the time api::simulate took. With `trace_file`, the trace's
// file name and its number of spans.
nlohmann::json simulate_json(const SimulateResult& result, const std::string& model,
                             const arch::Architecture& arch, double wall_s,
                             const std::string& trace_file = "", int64_t spans = 0);

// `aimc trees eval --json`.
nlohmann::json trees_eval_json(const TreeEvalResult& result, const ir::TreeEnsemble& ensemble,
                               const std::string& model, int64_t samples);

// `aimc trees estimate --json`.
nlohmann::json trees_estimate_json(const TreeEstimateResult& result,
                                   const ir::TreeEnsemble& ensemble, const std::string& model,
                                   const arch::Architecture& arch);

}  // namespace aimc::api
