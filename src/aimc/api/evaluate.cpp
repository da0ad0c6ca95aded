#include "aimc/api/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "aimc/core/error.h"
#include "aimc/runtime/executor.h"

namespace aimc::api {

namespace {

using ProgressFn = std::function<void(int64_t done, int64_t total)>;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::unique_ptr<data::Dataset> open_for(const ir::Graph& graph, const EvalRequest& request) {
  data::DatasetOptions options;
  options.dir = request.data_dir;
  // A language model reads windows as long as its (static) sequence dimension.
  const ir::Value& input = *graph.inputs[0];
  if (input.shape && input.shape->size() == 2 && (*input.shape)[1].known())
    options.context = (*input.shape)[1].value;
  return data::open_dataset(request.dataset, options);
}

// The analog trials: one chip instance each, calibrated on the training split's first samples.
void run_trials(const ir::Graph& graph, const EvalRequest& request, data::Dataset& dataset,
                const ProgressFn& progress, const std::function<void()>& next_pass,
                const std::function<Tensor(std::function<Tensor()>)>& with_context,
                EvalResult& result) {
  const std::string& input = graph.inputs[0]->name;
  const std::string& output = graph.outputs[0]->name;
  const int64_t calibration_n =
      std::min(request.arch->calibration_samples, dataset.calibration_size());
  Tensor calibration = dataset.calibration_inputs(calibration_n);
  auto start = std::chrono::steady_clock::now();
  for (int64_t t = 0; t < request.trials; ++t) {
    analog::AnalogModel model(graph, *request.arch, request.seed, static_cast<uint64_t>(t));
    try {
      with_context([&] {
        model.calibrate({{input, calibration}});
        return Tensor();
      });
    } catch (const Error& e) {
      rethrow_with_context(e, fmt::format("calibrating chip instance {} on the first {} samples "
                                          "of the {} training split",
                                          t, calibration_n, dataset.name()));
    }
    auto forward = [&](const Tensor& inputs, int64_t first_sample) {
      return with_context([&] {
        return model.run({{input, inputs}}, first_sample, &result.errors).at(output);
      });
    };
    result.trials.push_back(
        data::evaluate(dataset, request.limit, request.batch, forward, progress));
    next_pass();
    if (t == 0) result.layers = model.layers();
  }
  result.analog_seconds = seconds_since(start);
}

}  // namespace

double EvalResult::metric_value(const data::Score& score) const {
  return metric == "accuracy" ? score.accuracy() : score.bits_per_char();
}

double EvalResult::snr_db(const std::string& layer) const {
  auto it = errors.find(layer);
  return it == errors.end() ? std::numeric_limits<double>::infinity() : it->second.snr_db();
}

EvalResult evaluate(const ir::Graph& graph, const EvalRequest& request) {
  if (graph.inputs.size() != 1)
    throw_bad_input("{}: eval needs a model with exactly one input, this one has {}",
                    request.model_name, graph.inputs.size());
  if (graph.outputs.empty()) throw_bad_input("{}: the model has no output", request.model_name);
  if (request.arch && request.trials < 1)
    throw_bad_input("--trials {}: must be at least 1", request.trials);
  std::unique_ptr<data::Dataset> dataset = open_for(graph, request);
  EvalResult result;
  result.dataset = dataset->name();
  result.split = dataset->split();
  result.metric = dataset->metric();
  result.warning = dataset->warning();
  if (!result.warning.empty() && request.warn) request.warn(result.warning);

  const std::string context = fmt::format("{} on {}", request.model_name, dataset->name());
  auto with_context = [&](const std::function<Tensor()>& body) -> Tensor {
    try {
      return body();
    } catch (const Error& e) {
      rethrow_with_context(e, context);
    }
  };
  const int64_t total =
      request.limit < 0 ? dataset->size() : std::min(request.limit, dataset->size());
  const int64_t all = total * (1 + (request.arch ? request.trials : 0));
  int64_t done_before = 0;
  const ProgressFn progress = [&](int64_t done, int64_t) {
    if (request.progress) request.progress(done_before + done, all);
  };
  auto next_pass = [&] { done_before += total; };

  runtime::Executor executor(graph);
  const std::string& input = graph.inputs[0]->name;
  const std::string& output = graph.outputs[0]->name;
  auto digital_forward = [&](const Tensor& inputs, int64_t) {
    return with_context([&] { return executor.run({{input, inputs}}).at(output); });
  };
  auto start = std::chrono::steady_clock::now();
  result.digital =
      data::evaluate(*dataset, request.limit, request.batch, digital_forward, progress);
  result.digital_seconds = seconds_since(start);
  next_pass();
  // A NaN or an infinity in the output is scored as it is (NaN loses every comparison, so the
  // argmax is another class; the cross-entropy becomes NaN): say so, once per evaluation.
  auto warn_non_finite = [&](const data::Score& score, const std::string& where) {
    if (score.non_finite == 0) return;
    std::string text = fmt::format(
        "{}: the output '{}' holds NaN or infinite values for {} of {} samples{} (first: "
        "sample {} of the {} split); they are scored as they are",
        request.model_name, output, score.non_finite, score.samples, where, score.first_non_finite,
        dataset->split());
    if (request.warn) request.warn(text);
    result.warning += (result.warning.empty() ? "" : "\n") + text;
  };
  warn_non_finite(result.digital, " in the digital run");

  if (request.arch) {
    run_trials(graph, request, *dataset, progress, next_pass, with_context, result);
    for (size_t t = 0; t < result.trials.size(); ++t)
      if (result.trials[t].non_finite > 0) {
        warn_non_finite(result.trials[t], fmt::format(" on chip instance {}", t));
        break;
      }
  }
  std::vector<double> values, perplexities;
  for (const data::Score& s : result.trials) {
    values.push_back(result.metric_value(s));
    perplexities.push_back(s.perplexity());
  }
  result.summary = report::summarize_trials(values);
  result.perplexity = report::summarize_trials(perplexities);
  return result;
}

}  // namespace aimc::api
