// aimc eval MODEL --dataset fashion-mnist|fortunes [--limit N] [--batch B] [--data-dir DIR]
//           [--arch A.yaml [--trials N] [--seed S] [--set key=value ...]] [--json]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "aimc/api/evaluate.h"
#include "aimc/api/json.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/core/progress.h"
#include "aimc/report/summary.h"

namespace aimc::cli {

namespace {

struct EvalOptions {
  std::string model;
  std::string dataset;
  int64_t limit = -1;
  int64_t batch = 100;
  std::string data_dir;
  std::string arch;
  int64_t trials = 1;
  uint64_t seed = 0;
  std::vector<std::string> overrides;
  bool json = false;
};

std::string metric_text(const std::string& metric, const data::Score& score) {
  if (metric == "accuracy")
    return fmt::format("accuracy {:.2f} % ({}/{})", 100.0 * score.accuracy(), score.correct,
                       score.samples);
  return fmt::format("{:.4f} bits per character, perplexity {:.4f} ({} predictions)",
                     score.bits_per_char(), score.perplexity(), score.predictions);
}

void print_analog_text(const EvalOptions& options, const arch::Architecture& arch,
                       const api::EvalResult& r) {
  const bool accuracy = r.metric == "accuracy";
  const double k = accuracy ? 100.0 : 1.0;
  const int digits = accuracy ? 2 : 4;
  const report::TrialSummary& s = r.summary;
  std::cout << fmt::format(
      "analog   {} {:.{}f} ± {:.{}f}{} (min {:.{}f}, max {:.{}f}) over {} chip instance{} of "
      "{} (seed {})\n",
      accuracy ? "accuracy" : "bits per character", k * s.mean, digits, k * s.std, digits,
      accuracy ? " %" : " bits/char", k * s.min, digits, k * s.max, digits, options.trials,
      options.trials == 1 ? "" : "s", arch.name, options.seed);
  std::cout << "\nlayer                                              op          placement "
               "arrays acam_rows  SNR dB\n";
  for (const analog::AnalogLayer& l : r.layers) {
    const double db = r.snr_db(l.name);
    std::cout << fmt::format("{:<50.50} {:<11} {:<9} {:>6} {:>9} {:>7}\n", l.name, l.op,
                             arch::placement_name(l.placement), l.arrays, l.acam_rows,
                             std::isfinite(db) ? fmt::format("{:.1f}", db) : "exact");
  }
}

int run_eval(const EvalOptions& options, const GlobalOptions& global) {
  if (options.arch.empty() && (options.trials != 1 || !options.overrides.empty()))
    throw_bad_input("--trials and --set need --arch A.yaml");
  std::unique_ptr<ir::Graph> graph = api::load_model(options.model, global.verbose);
  std::optional<arch::Architecture> architecture;
  if (!options.arch.empty())
    architecture = arch::load_architecture(options.arch, options.overrides);

  api::EvalRequest request;
  request.model_name = options.model;
  request.dataset = options.dataset;
  request.data_dir = options.data_dir;
  request.limit = options.limit;
  request.batch = options.batch;
  request.arch = architecture ? &*architecture : nullptr;
  request.trials = options.trials;
  request.seed = options.seed;
  std::optional<ProgressBar> bar;
  request.progress = [&](int64_t done, int64_t total) {
    if (!bar) bar.emplace(architecture ? "digital + analog" : "digital", total, !options.json);
    bar->update(done);
  };
  request.warn = [](const std::string& warning) {
    std::fprintf(stderr, "aimc: warning: %s\n", warning.c_str());
  };
  const api::EvalResult r = api::evaluate(*graph, request);
  if (bar) bar->finish();

  const arch::Architecture* arch = architecture ? &*architecture : nullptr;
  if (options.json) {
    std::cout << api::eval_json(r, request, options.arch).dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("model    {}\n", options.model)
            << fmt::format("dataset  {} ({} split, {} samples)\n", r.dataset, r.split,
                           r.digital.samples)
            << fmt::format("digital  {}\n", metric_text(r.metric, r.digital));
  if (arch) print_analog_text(options, *arch, r);
  std::cout << fmt::format("time     {:.2f} s digital", r.digital_seconds)
            << (arch ? fmt::format(", {:.2f} s analog", r.analog_seconds) : "") << "\n";
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<EvalOptions>();
  app.add_option("model", options->model, "ONNX model (.onnx)")->required();
  app.add_option("--dataset,-d", options->dataset, "fashion-mnist or fortunes")
      ->required()
      ->check(CLI::IsMember(data::dataset_names()));
  app.add_option("--limit,-n", options->limit, "evaluate the first N samples only")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  app.add_option("--batch,-b", options->batch, "samples per forward pass (default 100)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  app.add_option("--data-dir", options->data_dir,
                 "folder holding the data set's files (default: the Debian package's)");
  app.add_option("--arch,-a", options->arch,
                 "architecture YAML: also evaluate the model on analog chip instances");
  app.add_option("--trials,-t", options->trials, "chip instances to simulate (default 1)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  app.add_option("--seed,-s", options->seed, "random seed of the chip instances (default 0)")
      ->check(seed_in_range());
  app.add_option("--set", options->overrides,
                 "override an architecture key: key.path=value (repeatable)");
  app.add_flag("--json", options->json, "machine-readable output");
  return [options, &global] { return run_eval(*options, global); };
}

}  // namespace aimc::cli
