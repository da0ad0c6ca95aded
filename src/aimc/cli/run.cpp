// aimc run MODEL --input NAME=FILE.npy [--input ...] --output-dir DIR [--json]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "aimc/analog/executor.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/core/npy.h"
#include "aimc/runtime/executor.h"

namespace aimc::cli {

namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  std::string arch;
  uint64_t seed = 0;
  uint64_t trial = 0;
  std::vector<std::string> overrides;
  int repeat = 1;
  bool json = false;
};

// The --input files by graph input name; every input given exactly once.
std::map<std::string, Tensor> read_inputs(const RunOptions& options, const ir::Graph& graph) {
  std::map<std::string, Tensor> feeds;
  for (const std::string& spec : options.inputs) {
    auto eq = spec.find('=');
    std::string name, file;
    if (eq == std::string::npos) {
      // A bare FILE is accepted when the model has exactly one input.
      if (graph.inputs.size() != 1)
        throw_bad_input("--input '{}': expected NAME=FILE.npy (the model has {} inputs)", spec,
                        graph.inputs.size());
      name = graph.inputs[0]->name;
      file = spec;
    } else {
      name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
    }
    bool known = false;
    for (const ir::Value* in : graph.inputs) known |= in->name == name;
    if (!known) {
      std::string names;
      for (const ir::Value* in : graph.inputs) names += (names.empty() ? "" : ", ") + in->name;
      throw_bad_input("--input {}: the model has no input named '{}' (its inputs: {})", spec, name,
                      names);
    }
    if (feeds.count(name)) throw_bad_input("--input {}: input '{}' given twice", spec, name);
    feeds[name] = read_npy(file);
  }
  for (const ir::Value* in : graph.inputs) {
    if (!feeds.count(in->name))
      throw_bad_input("missing --input {}=FILE.npy for the model's input '{}'", in->name, in->name);
  }
  return feeds;
}

int run_run(const RunOptions& options, const GlobalOptions& global) {
  std::unique_ptr<ir::Graph> graph = api::load_model(options.model, global.verbose);
  const std::map<std::string, Tensor> feeds = read_inputs(options, *graph);
  if (options.arch.empty() && !options.overrides.empty())
    throw_bad_input("--set needs --arch A.yaml");
  if (options.repeat != 1 && !options.arch.empty())
    throw_bad_input("--repeat times the fp32 run only; it does not go with --arch");
  auto start = std::chrono::steady_clock::now();
  std::map<std::string, Tensor> outputs;
  std::vector<double> each;  // --repeat: the time of every run
  if (options.arch.empty()) {
    runtime::Executor executor(*graph);
    for (int r = 0; r < options.repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      outputs = executor.run(feeds);
      each.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  } else {
    // One analog inference on chip instance `trial`, calibrated on these inputs
    // (docs/analog-model.md: `aimc eval` calibrates on the data set's training samples).
    arch::Architecture architecture = arch::load_architecture(options.arch, options.overrides);
    analog::AnalogModel model(*graph, architecture, options.seed, options.trial);
    model.calibrate(feeds);
    outputs = model.run(feeds, 0);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!each.empty()) seconds = *std::min_element(each.begin(), each.end());

  std::filesystem::path dir(options.output_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw_bad_input("--output-dir {}: cannot create directory{}", options.output_dir,
                    ec ? " (" + ec.message() + ")" : "");

  // File names are unique even when two output names sanitise to the same text.
  std::set<std::string> used;
  nlohmann::json written = nlohmann::json::array();
  for (const ir::Value* out : graph->outputs) {
    std::string base = sanitize_file_name(out->name);
    std::string file = base;
    for (int k = 1; used.count(file); ++k) file = fmt::format("{}_{}", base, k);
    used.insert(file);
    std::filesystem::path path = dir / (file + ".npy");
    const Tensor& tensor = outputs.at(out->name);
    write_npy(path.string(), tensor);
    nlohmann::json shape = tensor.shape();
    written.push_back({{"name", out->name},
                       {"file", path.string()},
                       {"dtype", dtype_name(tensor.dtype())},
                       {"shape", shape}});
  }
  if (options.json) {
    nlohmann::json result = {{"model", options.model}, {"outputs", written}, {"seconds", seconds}};
    if (options.repeat > 1) result["seconds_each"] = each;
    std::cout << result.dump(2) << "\n";
  } else {
    for (const auto& w : written)
      std::cout << fmt::format("{:<24} {}{} -> {}\n", w["name"].get<std::string>(),
                               w["dtype"].get<std::string>(), shape_str(w["shape"].get<Shape>()),
                               w["file"].get<std::string>());
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<RunOptions>();
  app.add_option("model", options->model, "ONNX model (.onnx)")->required();
  app.add_option("--input,-i", options->inputs, "graph input as NAME=FILE.npy (repeatable)")
      ->required();
  app.add_option("-o,--output,--output-dir", options->output_dir,
                 "directory for one <output name>.npy per graph output")
      ->required();
  app.add_option("--arch,-a", options->arch,
                 "architecture YAML: run one analog inference instead of the digital one");
  app.add_option("--seed,-s", options->seed, "random seed of the chip instance (default 0)")
      ->check(seed_in_range());
  app.add_option("--trial", options->trial, "which chip instance (default 0)");
  app.add_option("--set", options->overrides,
                 "override an architecture key: key.path=value (repeatable)");
  app.add_option("--repeat", options->repeat,
                 "run the fp32 model N times (1-1000); --json's seconds is the fastest run and "
                 "seconds_each lists them all")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--json", options->json, "machine-readable output");
  return [options, &global] { return run_run(*options, global); };
}

}  // namespace aimc::cli
