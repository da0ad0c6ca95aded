// Evaluation data sets and their metrics, behind one interface so that the digital and the
// analog evaluations run the same loop. Names: "fashion-mnist" (top-1 accuracy on the test
// split) and "fortunes" (bits per character on the validation text). docs/datasets.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"

namespace aimc::data {

// What a metric sums over samples; merging is exact (integers and a sum in a fixed order).
struct Score {
  int64_t samples = 0;      // images or text windows
  int64_t correct = 0;      // classification: top-1 hits
  int64_t predictions = 0;  // language modelling: predicted tokens
  double ce_sum = 0.0;      // language modelling: summed cross-entropy in nats
  // Samples whose model output holds a NaN or an infinity, and the first of them (-1: none).
  int64_t non_finite = 0;
  int64_t first_non_finite = -1;

  double accuracy() const { return samples ? static_cast<double>(correct) / samples : 0.0; }
  double mean_cross_entropy() const { return predictions ? ce_sum / predictions : 0.0; }
  double bits_per_char() const;
  double perplexity() const;
  void add(const Score& other);
  // Counts sample `sample` in non_finite when values[0, count) holds a NaN or an infinity.
  void count_non_finite(int64_t sample, const float* values, int64_t count);
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;
  virtual std::string split() const = 0;
  // "accuracy" or "bits_per_char".
  virtual std::string metric() const = 0;
  // Samples available: images, or text windows.
  virtual int64_t size() const = 0;
  // The model input for samples [begin, end), batch dimension first.
  virtual Tensor inputs(int64_t begin, int64_t end) const = 0;
  // Scores the model output for samples [begin, end). Error(kBadInput) when the output's
  // shape does not fit the data set (e.g. not 10 logits per image).
  virtual Score score(int64_t begin, int64_t end, const Tensor& output) const = 0;
  // The model input for the first n samples of the calibration set (ANALOG_MODEL.md §4: the
  // training split's first samples), n at most calibration_size().
  virtual Tensor calibration_inputs(int64_t n) const = 0;
  virtual int64_t calibration_size() const = 0;
  // A warning for the user (e.g. the installed text differs from the documented one), or "".
  virtual std::string warning() const { return ""; }
};

struct DatasetOptions {
  std::string dir;        // empty: the Debian package's folder
  int64_t context = 128;  // fortunes: tokens per window (the model's sequence length)
};

// Error(kBadInput) for an unknown name (listing the known ones) or unreadable files.
std::unique_ptr<Dataset> open_dataset(const std::string& name, const DatasetOptions& options);
std::vector<std::string> dataset_names();

// Runs `forward` on batches of at most `batch` samples over the first `limit` samples
// (all when limit < 0 or above the size) and sums the scores in sample order. `forward` is
// told the index of the batch's first sample (noise is keyed by sample, not by batch).
// `progress` (may be empty) is told the samples done after each batch.
using Forward = std::function<Tensor(const Tensor& inputs, int64_t first_sample)>;
Score evaluate(const Dataset& dataset, int64_t limit, int64_t batch, const Forward& forward,
               const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace aimc::data
