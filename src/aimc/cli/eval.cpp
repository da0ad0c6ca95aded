// aimc eval MODEL --dataset fashion-mnist|fortunes [--limit N] [--batch B] [--data-dir DIR]
//           [--json]
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aimc/cli/commands.h"
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

std::string metric_text(const data::Dataset& dataset, const data::Score& score) {
  if (dataset.metric() == "accuracy")
    return fmt::format("accuracy {:.2f} % ({}/{})", 100.0 * score.accuracy(), score.correct,
                       score.samples);
  return fmt::format("{:.4f} bits per character, perplexity {:.4f} ({} predictions)",
                     score.bits_per_char(), score.perplexity(), score.predictions);
}

int run_eval(const EvalOptions& options, const GlobalOptions& global) {
  std::unique_ptr<ir::Graph> graph = load_model(options.model, global.verbose);
  if (graph->inputs.size() != 1)
    throw_bad_input("{}: eval needs a model with exactly one input, this one has {}",
                    options.model, graph->inputs.size());
  if (graph->outputs.empty()) throw_bad_input("{}: the model has no output", options.model);
  const ir::Value& input = *graph->inputs[0];
  const std::string output_name = graph->outputs[0]->name;

  data::DatasetOptions dataset_options;
  dataset_options.dir = options.data_dir;
  // A language model reads windows as long as its (static) sequence dimension.
  if (input.shape && input.shape->size() == 2 && (*input.shape)[1].known())
    dataset_options.context = (*input.shape)[1].value;
  std::unique_ptr<data::Dataset> dataset = data::open_dataset(options.dataset, dataset_options);
  if (!dataset->warning().empty())
    std::fprintf(stderr, "aimc: warning: %s\n", dataset->warning().c_str());

  runtime::Executor executor(*graph);
  auto forward = [&](const Tensor& inputs) {
    std::map<std::string, Tensor> feeds;
    feeds.emplace(input.name, inputs);
    std::map<std::string, Tensor> outputs;
    try {
      outputs = executor.run(feeds);
    } catch (const Error& e) {
      rethrow_with_context(e, fmt::format("{} on {}", options.model, dataset->name()));
    }
    return outputs.at(output_name);
  };

  const int64_t total =
      options.limit < 0 ? dataset->size() : std::min(options.limit, dataset->size());
  auto start = std::chrono::steady_clock::now();
  data::Score score;
  {
    // The bar clears its line when it goes out of scope, also on an error.
    ProgressBar bar("digital", total, !options.json);
    score = data::evaluate(*dataset, options.limit, options.batch, forward,
                           [&](int64_t done, int64_t) { bar.update(done); });
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (options.json) {
    nlohmann::json digital = metric_json(*dataset, score);
    digital["seconds"] = seconds;
    nlohmann::json result = {{"model", options.model},
                             {"dataset", dataset->name()},
                             {"split", dataset->split()},
                             {"samples", score.samples},
                             {"digital", digital}};
    std::cout << result.dump(2) << "\n";
  } else {
    std::cout << fmt::format("model    {}\n", options.model)
              << fmt::format("dataset  {} ({} split, {} samples)\n", dataset->name(),
                             dataset->split(), score.samples)
              << fmt::format("digital  {}\n", metric_text(*dataset, score))
              << fmt::format("time     {:.2f} s ({:.0f} samples/s)\n", seconds,
                             seconds > 0 ? score.samples / seconds : 0.0);
  }
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
  app.add_flag("--json", options->json, "machine-readable output");
  return [options, &global] { return run_eval(*options, global); };
}

}  // namespace aimc::cli
