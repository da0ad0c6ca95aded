// The subcommands of `aimc`. Each registers its options on a CLI11 subcommand and returns the
// function that runs it; cli/ holds argument handling only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "aimc/api/model.h"  // load_model, load_model_for_one_inference
#include "aimc/ir/graph.h"

namespace aimc::cli {

struct GlobalOptions {
  int threads = 0;  // 0: every core
  bool verbose = false;
};

using Command = std::function<int()>;

Command add_inspect_command(CLI::App& app, const GlobalOptions& global);
Command add_run_command(CLI::App& app, const GlobalOptions& global);
Command add_eval_command(CLI::App& app, const GlobalOptions& global);
// aimc arch [FILE] [--describe] [--set key.path=value ...] [--json]
Command add_arch_command(CLI::App& app, const GlobalOptions& global);
// aimc trees predict|eval|estimate MODEL.json ... (XGBoost tree ensembles on ACAM arrays)
Command add_trees_command(CLI::App& app, const GlobalOptions& global);
// aimc estimate MODEL --arch A.yaml [--batch B] [--chips N] [--json] [--csv FILE]
// aimc estimate --peak --arch A.yaml [--json]
Command add_estimate_command(CLI::App& app, const GlobalOptions& global);

// aimc compile MODEL --arch A.yaml -o DIR [--chips N] (mapping.json, ACAM tables, one .s per core)
Command add_compile_command(CLI::App& app, const GlobalOptions& global);

// aimc simulate MODEL --arch A.yaml [--batch B] [--json] [--trace OUT.json] (cycle-level run
// of the compiled programs, sim/simulator.h)
Command add_simulate_command(CLI::App& app, const GlobalOptions& global);

// aimc finetune MODEL --arch A.yaml --dataset D -o OUT.onnx [--epochs E] [--lr LR] ...
// (noise-aware fine-tuning, train/finetune.h)
Command add_finetune_command(CLI::App& app, const GlobalOptions& global);

// aimc sweep SWEEP.yaml -o RESULTS.jsonl [--jobs J] [--pareto] [--json] (api/sweep.h)
Command add_sweep_command(CLI::App& app, const GlobalOptions& global);
// aimc report RESULTS.jsonl [-o REPORT.html] [--svg-dir DIR] [--pareto] [--json]
Command add_report_command(CLI::App& app, const GlobalOptions& global);

// Accepts an integer in [0, 2^64): a "-1" or a seed past 2^64 is an error naming the flag,
// not a silently wrapped or saturated seed.
CLI::Validator seed_in_range();

// "logits:0" -> "logits_0": keeps [A-Za-z0-9._-], replaces the rest with '_'.
std::string sanitize_file_name(const std::string& name);

}  // namespace aimc::cli
