// aimc eval MODEL --dataset fashion-mnist|fortunes [--limit N] [--batch B] [--data-dir DIR]
//           [--arch A.yaml [--trials N] [--seed S] [--set key=value ...]] [--json]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "aimc/analog/executor.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/cli/trial_summary.h"
#include "aimc/core/progress.h"
#include "aimc/data/dataset.h"
#include "aimc/runtime/executor.h"

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

// The metric's fields, as the JSON object "digital" holds them.
nlohmann::json metric_json(const data::Dataset& dataset, const data::Score& score) {
  if (dataset.metric() == "accuracy")
    return {{"accuracy", score.accuracy()}, {"correct", score.correct}};
  return {{"bits_per_char", score.bits_per_char()},
          {"perplexity", score.perplexity()},
          {"mean_cross_entropy", score.mean_cross_entropy()},
          {"predictions", score.predictions}};
}

double metric_value(const data::Dataset& dataset, const data::Score& score) {
  return dataset.metric() == "accuracy" ? score.accuracy() : score.bits_per_char();
}

std::string metric_text(const data::Dataset& dataset, const data::Score& score) {
  if (dataset.metric() == "accuracy")
    return fmt::format("accuracy {:.2f} % ({}/{})", 100.0 * score.accuracy(), score.correct,
                       score.samples);
  return fmt::format("{:.4f} bits per character, perplexity {:.4f} ({} predictions)",
                     score.bits_per_char(), score.perplexity(), score.predictions);
}

// JSON has no infinity: an error-free layer reports null.
nlohmann::json db_json(double db) {
  return std::isfinite(db) ? nlohmann::json(db) : nlohmann::json();
}

const char* placement_name(arch::Placement p) {
  switch (p) {
    case arch::Placement::kCrossbar:
      return "crossbar";
    case arch::Placement::kAcam:
      return "acam";
    case arch::Placement::kDigital:
      return "digital";
  }
  return "digital";
}

int run_eval(const EvalOptions& options, const GlobalOptions& global) {
  if (options.arch.empty() && (options.trials != 1 || !options.overrides.empty()))
    throw_bad_input("--trials and --set need --arch A.yaml");
  std::unique_ptr<ir::Graph> graph = load_model(options.model, global.verbose);
  if (graph->inputs.size() != 1)
    throw_bad_input("{}: eval needs a model with exactly one input, this one has {}", options.model,
                    graph->inputs.size());
  if (graph->outputs.empty()) throw_bad_input("{}: the model has no output", options.model);
  const ir::Value& input = *graph->inputs[0];
  const std::string output_name = graph->outputs[0]->name;
  std::optional<arch::Architecture> architecture;
  if (!options.arch.empty())
    architecture = arch::load_architecture(options.arch, options.overrides);

  data::DatasetOptions dataset_options;
  dataset_options.dir = options.data_dir;
  // A language model reads windows as long as its (static) sequence dimension.
  if (input.shape && input.shape->size() == 2 && (*input.shape)[1].known())
    dataset_options.context = (*input.shape)[1].value;
  std::unique_ptr<data::Dataset> dataset = data::open_dataset(options.dataset, dataset_options);
  if (!dataset->warning().empty())
    std::fprintf(stderr, "aimc: warning: %s\n", dataset->warning().c_str());

  auto with_context = [&](auto&& body) {
    try {
      return body();
    } catch (const Error& e) {
      rethrow_with_context(e, fmt::format("{} on {}", options.model, dataset->name()));
    }
  };
  runtime::Executor executor(*graph);
  auto digital_forward = [&](const Tensor& inputs, int64_t) {
    return with_context([&] { return executor.run({{input.name, inputs}}).at(output_name); });
  };

  const int64_t total =
      options.limit < 0 ? dataset->size() : std::min(options.limit, dataset->size());
  const int64_t passes = 1 + (architecture ? options.trials : 0);
  ProgressBar bar(architecture ? "digital + analog" : "digital", total * passes, !options.json);
  int64_t done_before = 0;
  auto progress = [&](int64_t done, int64_t) { bar.update(done_before + done); };

  auto start = std::chrono::steady_clock::now();
  data::Score digital =
      data::evaluate(*dataset, options.limit, options.batch, digital_forward, progress);
  const double digital_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done_before += total;

  // Analog: one chip instance per trial.
  std::vector<data::Score> trials;
  std::map<std::string, analog::LayerError> errors;
  std::vector<analog::AnalogLayer> layers;
  double analog_seconds = 0;
  if (architecture) {
    const int64_t calibration_n =
        std::min(architecture->calibration_samples, dataset->calibration_size());
    Tensor calibration = dataset->calibration_inputs(calibration_n);
    auto analog_start = std::chrono::steady_clock::now();
    for (int64_t t = 0; t < options.trials; ++t) {
      analog::AnalogModel model(*graph, *architecture, options.seed, static_cast<uint64_t>(t));
      with_context([&] {
        model.calibrate({{input.name, calibration}});
        return 0;
      });
      auto forward = [&](const Tensor& inputs, int64_t first_sample) {
        return with_context([&] {
          return model.run({{input.name, inputs}}, first_sample, &errors).at(output_name);
        });
      };
      trials.push_back(data::evaluate(*dataset, options.limit, options.batch, forward, progress));
      done_before += total;
      if (t == 0) layers = model.layers();
    }
    analog_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - analog_start).count();
  }
  bar.finish();

  std::vector<double> values;
  for (const data::Score& s : trials) values.push_back(metric_value(*dataset, s));
  const TrialSummary summary = summarize_trials(values);

  if (options.json) {
    nlohmann::json digital_json = metric_json(*dataset, digital);
    digital_json["seconds"] = digital_seconds;
    nlohmann::json result = {{"model", options.model},
                             {"dataset", dataset->name()},
                             {"split", dataset->split()},
                             {"samples", digital.samples},
                             {"digital", digital_json}};
    if (architecture) {
      nlohmann::json per_trial = nlohmann::json::array();
      for (const data::Score& s : trials) per_trial.push_back(metric_json(*dataset, s));
      nlohmann::json analog_json = {{"arch", architecture->name},
                                    {"arch_file", options.arch},
                                    {"trials", options.trials},
                                    {"seed", options.seed},
                                    {dataset->metric(), trial_summary_json(summary)},
                                    {"per_trial", per_trial},
                                    {"seconds", analog_seconds}};
      if (dataset->metric() == "bits_per_char") {
        std::vector<double> ppl;
        for (const data::Score& s : trials) ppl.push_back(s.perplexity());
        analog_json["perplexity"] = trial_summary_json(summarize_trials(ppl));
      }
      result["analog"] = analog_json;
      nlohmann::json layer_json = nlohmann::json::array();
      for (const analog::AnalogLayer& l : layers) {
        auto it = errors.find(l.name);
        double db =
            it == errors.end() ? std::numeric_limits<double>::infinity() : it->second.snr_db();
        layer_json.push_back({{"name", l.name},
                              {"op", l.op},
                              {"placement", placement_name(l.placement)},
                              {"arrays", l.arrays},
                              {"acam_rows", l.acam_rows},
                              {"snr_db", db_json(db)}});
      }
      result["layers"] = layer_json;
    }
    std::cout << result.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("model    {}\n", options.model)
            << fmt::format("dataset  {} ({} split, {} samples)\n", dataset->name(),
                           dataset->split(), digital.samples)
            << fmt::format("digital  {}\n", metric_text(*dataset, digital));
  if (architecture) {
    const bool accuracy = dataset->metric() == "accuracy";
    const double k = accuracy ? 100.0 : 1.0;
    const char* unit = accuracy ? " %" : " bits/char";
    std::cout << fmt::format(
        "analog   {} {:.{}f} ± {:.{}f}{} (min {:.{}f}, max {:.{}f}) over {} chip instance{} of "
        "{} (seed {})\n",
        accuracy ? "accuracy" : "bits per character", k * summary.mean, accuracy ? 2 : 4,
        k * summary.std, accuracy ? 2 : 4, unit, k * summary.min, accuracy ? 2 : 4, k * summary.max,
        accuracy ? 2 : 4, options.trials, options.trials == 1 ? "" : "s", architecture->name,
        options.seed);
    std::cout << "\nlayer                                              op          placement "
                 "arrays acam_rows  SNR dB\n";
    for (const analog::AnalogLayer& l : layers) {
      auto it = errors.find(l.name);
      double db =
          it == errors.end() ? std::numeric_limits<double>::infinity() : it->second.snr_db();
      std::cout << fmt::format("{:<50.50} {:<11} {:<9} {:>6} {:>9} {:>7}\n", l.name, l.op,
                               placement_name(l.placement), l.arrays, l.acam_rows,
                               std::isfinite(db) ? fmt::format("{:.1f}", db) : "exact");
    }
  }
  std::cout << fmt::format("time     {:.2f} s digital", digital_seconds)
            << (architecture ? fmt::format(", {:.2f} s analog", analog_seconds) : "") << "\n";
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
      ->check(CLI::PositiveNumber);
  app.add_option("--batch,-b", options->batch, "samples per forward pass (default 100)")
      ->check(CLI::PositiveNumber);
  app.add_option("--data-dir", options->data_dir,
                 "folder holding the data set's files (default: the Debian package's)");
  app.add_option("--arch,-a", options->arch,
                 "architecture YAML: also evaluate the model on analog chip instances");
  app.add_option("--trials,-t", options->trials, "chip instances to simulate (default 1)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed,-s", options->seed, "random seed of the chip instances (default 0)");
  app.add_option("--set", options->overrides,
                 "override an architecture key: key.path=value (repeatable)");
  app.add_flag("--json", options->json, "machine-readable output");
  return [options, &global] { return run_eval(*options, global); };
}

}  // namespace aimc::cli
