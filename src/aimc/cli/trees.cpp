// aimc trees predict  MODEL.json --data X.csv -o P.csv [--arch A.yaml] [--trial T] [--seed S]
// aimc trees eval     MODEL.json --data X.csv --labels Y.csv [--arch A.yaml] [--trials N]
//                     [--seed S] [--json]
// aimc trees estimate MODEL.json --arch A.yaml [--json]
// XGBoost tree ensembles on analog CAM arrays (docs/trees.md).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "aimc/analog/acam_trees.h"
#include "aimc/api/json.h"
#include "aimc/api/trees.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/compiler/tree_compiler.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/cost/tree_cost.h"
#include "aimc/frontend/csv_matrix.h"
#include "aimc/frontend/xgboost_import.h"
#include "aimc/report/summary.h"

namespace aimc::cli {

namespace {

struct TreesOptions {
  std::string model, data, labels, output, arch;
  uint64_t seed = 0, trial = 0;
  int64_t trials = 1;
  std::vector<std::string> overrides;
  bool json = false;
};

frontend::CsvMatrix read_features(const std::string& path, const ir::TreeEnsemble& ensemble) {
  frontend::CsvMatrix x = frontend::read_csv_matrix(path);
  if (x.rows == 0) throw_bad_input("{}: no samples", path);
  if (x.cols != ensemble.num_feature)
    throw_bad_input("{}: {} columns, but the model has {} features", path, x.cols,
                    ensemble.num_feature);
  return x;
}

arch::Architecture load_arch(const TreesOptions& options) {
  if (options.arch.empty() && !options.overrides.empty())
    throw_bad_input("--set needs --arch A.yaml");
  return options.arch.empty() ? arch::Architecture{}
                              : arch::load_architecture(options.arch, options.overrides);
}

int run_predict(const TreesOptions& options, const GlobalOptions& global) {
  ir::TreeEnsemble ensemble = frontend::load_xgboost(options.model);
  frontend::CsvMatrix x = read_features(options.data, ensemble);
  auto start = std::chrono::steady_clock::now();
  std::optional<arch::Architecture> arch;
  if (!options.arch.empty()) arch = load_arch(options);
  const std::vector<float> out = api::predict_trees(
      ensemble, x.values.data(), x.rows, arch ? &*arch : nullptr, options.seed, options.trial);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_file_atomic(options.output,
                    frontend::format_csv_matrix(out.data(), x.rows, ensemble.num_outputs()));
  if (global.verbose)
    std::fprintf(stderr, "aimc: %lld samples in %.3f s (%.0f samples/s)\n",
                 static_cast<long long>(x.rows), seconds, static_cast<double>(x.rows) / seconds);
  if (options.json) {
    nlohmann::json result = {{"model", options.model},
                             {"samples", x.rows},
                             {"outputs", ensemble.num_outputs()},
                             {"file", options.output},
                             {"analog", !options.arch.empty()},
                             {"seconds", seconds}};
    std::cout << result.dump(2) << "\n";
  }
  return 0;
}

int run_eval(const TreesOptions& options, const GlobalOptions& global) {
  ir::TreeEnsemble ensemble = frontend::load_xgboost(options.model);
  frontend::CsvMatrix x = read_features(options.data, ensemble);
  frontend::CsvMatrix y = frontend::read_csv_matrix(options.labels);
  if (y.cols != 1 || y.rows != x.rows)
    throw_bad_input("{}: expected {} rows of one label, got {} rows of {}", options.labels, x.rows,
                    y.rows, y.cols);
  api::check_tree_labels(ensemble, y.values, options.labels);
  const api::TreeEvalResult r = api::evaluate_trees(
      ensemble, x.values, y.values, load_arch(options), options.trials, options.seed);
  if (global.verbose)
    for (size_t trial = 0; trial < r.per_trial.size(); ++trial)
      std::fprintf(stderr, "aimc: trial %zu: %.6g\n", trial, r.per_trial[trial]);
  const char* name = api::tree_metric_name(ensemble);
  if (options.json) {
    std::cout << api::trees_eval_json(r, ensemble, options.model, x.rows).dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} samples, {} ({})\n", x.rows, name,
                             ir::objective_name(ensemble.objective));
    std::cout << fmt::format("digital: {:.6g}\n", r.digital);
    std::cout << fmt::format("acam:    {:.6g} ± {:.3g} over {} trial(s){}\n", r.summary.mean,
                             r.summary.std, r.per_trial.size(),
                             r.exact ? "" : " (in_bits too few: quantisation is lossy)");
  }
  return 0;
}

int run_estimate(const TreesOptions& options, const GlobalOptions&) {
  ir::TreeEnsemble ensemble = frontend::load_xgboost(options.model);
  arch::Architecture arch = load_arch(options);
  const api::TreeEstimateResult estimate = api::estimate_trees(ensemble, arch);
  const ir::TreeRows& rows = estimate.rows;
  const cost::TreeCost& c = estimate.cost;
  if (options.json) {
    std::cout << api::trees_estimate_json(estimate, ensemble, options.model, arch).dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} trees -> {} ACAM rows on {} arrays ({} x {})\n",
                             ensemble.trees.size(), c.rows, c.arrays, rows.row_blocks,
                             rows.col_blocks);
    std::cout << fmt::format("latency     {:.4g} ns (search {:.4g} ns, reduction {:.4g} ns)\n",
                             c.latency_s * 1e9, c.search_s * 1e9, c.reduction_s * 1e9);
    std::cout << fmt::format("throughput  {:.4g} samples/s\n", c.throughput);
    std::cout << fmt::format(
        "energy      {:.4g} pJ/sample (data line {:.4g}, match line {:.4g}, source line {:.4g}, "
        "register {:.4g})\n",
        c.energy_j * 1e12, c.energy_data_line_j * 1e12, c.energy_match_line_j * 1e12,
        c.energy_source_line_j * 1e12, c.energy_register_j * 1e12);
    std::cout << (c.area_m2 > 0 ? fmt::format("area        {:.4g} mm^2\n", c.area_m2 * 1e6)
                                : std::string("area        unknown (acam_array.cell_area = 0)\n"));
  }
  return 0;
}

}  // namespace

Command add_trees_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<TreesOptions>();
  app.require_subcommand(1);

  CLI::App* predict = app.add_subcommand("predict", "predictions of a tree ensemble on a CSV");
  predict->add_option("model", options->model, "XGBoost model (.json)")->required();
  predict->add_option("--data", options->data, "features, CSV without header")->required();
  predict->add_option("--output,-o", options->output, "predictions, CSV")->required();
  predict->add_option("--arch,-a", options->arch,
                      "architecture YAML: predict on ACAM arrays (else the digital reference)");
  predict->add_option("--trial", options->trial, "which chip instance (default 0)");
  predict->add_option("--seed,-s", options->seed, "random seed (default 0)")
      ->check(seed_in_range());
  predict->add_option("--set", options->overrides, "override an architecture key: key.path=value");
  predict->add_flag("--json", options->json, "machine-readable summary");

  CLI::App* eval = app.add_subcommand("eval", "accuracy or RMSE, digital vs ACAM");
  eval->add_option("model", options->model, "XGBoost model (.json)")->required();
  eval->add_option("--data", options->data, "features, CSV without header")->required();
  eval->add_option("--labels,-l", options->labels, "labels, CSV of one column")->required();
  eval->add_option("--arch,-a", options->arch,
                   "architecture YAML (default: the default architecture, noise off)");
  eval->add_option("--trials,-t", options->trials, "chip instances (default 1)");
  eval->add_option("--seed,-s", options->seed, "random seed (default 0)")->check(seed_in_range());
  eval->add_option("--set", options->overrides, "override an architecture key: key.path=value");
  eval->add_flag("--json", options->json, "machine-readable output");

  CLI::App* estimate =
      app.add_subcommand("estimate", "throughput, latency, energy and area on ACAM arrays");
  estimate->add_option("model", options->model, "XGBoost model (.json)")->required();
  estimate->add_option("--arch,-a", options->arch, "architecture YAML")->required();
  estimate->add_option("--set", options->overrides, "override an architecture key: key.path=value");
  estimate->add_flag("--json", options->json, "machine-readable output");

  return [options, &global, predict, eval, estimate]() -> int {
    if (predict->parsed()) return run_predict(*options, global);
    if (eval->parsed()) return run_eval(*options, global);
    if (estimate->parsed()) return run_estimate(*options, global);
    return 2;
  };
}

}  // namespace aimc::cli
