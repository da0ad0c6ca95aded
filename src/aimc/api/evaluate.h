// `aimc eval` as a library call: a model's metric on a data set, digitally and on `trials`
// chip instances of an architecture (the Monte-Carlo trial loop), with each analog layer's
// SNR against its digital op. Same seed, same numbers, whatever the thread count or batch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/analog/executor.h"
#include "aimc/arch/architecture.h"
#include "aimc/data/dataset.h"
#include "aimc/ir/graph.h"
#include "aimc/report/summary.h"

namespace aimc::api {

struct EvalRequest {
  std::string model_name;                    // for error messages ("MODEL on DATASET: ...")
  std::string dataset;                       // fashion-mnist | fortunes
  std::string data_dir;                      // "" for the default location
  int64_t limit = -1;                        // first N samples; -1: all
  int64_t batch = 100;                       // samples per forward pass
  const arch::Architecture* arch = nullptr;  // nullptr: digital only
  int64_t trials = 1;                        // chip instances
  uint64_t seed = 0;
  // Called as work is done: samples finished of `total` (digital pass + every trial).
  std::function<void(int64_t done, int64_t total)> progress;
  std::function<void(const std::string&)> warn;  // the data set's warning, before any work
};

struct EvalResult {
  std::string dataset, split, metric;  // metric: accuracy | bits_per_char
  std::string warning;                 // the data set's warning, "" when none
  data::Score digital;
  double digital_seconds = 0;
  std::vector<data::Score> trials;                   // one per chip instance
  double analog_seconds = 0;                         // calibration included
  std::vector<analog::AnalogLayer> layers;           // of the first chip instance
  std::map<std::string, analog::LayerError> errors;  // summed over every trial
  // The metric over the trials (accuracy or bits per character), and perplexity.
  report::TrialSummary summary, perplexity;

  double metric_value(const data::Score& score) const;
  double snr_db(const std::string& layer) const;  // +inf when the layer made no error
};

// Throws Error(kBadInput) for a model with other than one input, no output, an unknown data
// set, or trials < 1; errors while running name the model and the data set.
EvalResult evaluate(const ir::Graph& graph, const EvalRequest& request);

}  // namespace aimc::api
