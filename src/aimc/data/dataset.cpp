#include "aimc/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "aimc/core/error.h"
#include "aimc/data/fashion_mnist.h"
#include "aimc/data/fortunes.h"

namespace aimc::data {

double Score::bits_per_char() const {
  return mean_cross_entropy() / std::numbers::ln2;
}

double Score::perplexity() const {
  return std::exp(mean_cross_entropy());
}

void Score::add(const Score& other) {
  samples += other.samples;
  correct += other.correct;
  predictions += other.predictions;
  ce_sum += other.ce_sum;
  non_finite += other.non_finite;
  if (other.first_non_finite >= 0 &&
      (first_non_finite < 0 || other.first_non_finite < first_non_finite))
    first_non_finite = other.first_non_finite;
}

void Score::count_non_finite(int64_t sample, const float* values, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i])) {
      ++non_finite;
      if (first_non_finite < 0 || sample < first_non_finite) first_non_finite = sample;
      return;
    }
}

namespace {

class FashionMnist final : public Dataset {
 public:
  explicit FashionMnist(const std::string& dir)
      : dir_(dir), set_(load_fashion_mnist(dir, "test")) {}
  std::string name() const override { return "fashion-mnist"; }
  std::string split() const override { return "test"; }
  std::string metric() const override { return "accuracy"; }
  int64_t size() const override { return static_cast<int64_t>(set_.labels.size()); }
  Tensor inputs(int64_t begin, int64_t end) const override {
    return fashion_mnist_batch(set_, begin, end);
  }
  int64_t calibration_size() const override { return 60000; }
  Tensor calibration_inputs(int64_t n) const override {
    if (!train_) train_ = std::make_unique<LabelledImages>(load_fashion_mnist(dir_, "train"));
    n = std::min<int64_t>(n, static_cast<int64_t>(train_->labels.size()));
    return fashion_mnist_batch(*train_, 0, n);
  }
  Score score(int64_t begin, int64_t end, const Tensor& output) const override {
    const int64_t n = end - begin;
    if (output.dtype() != DType::kF32 || output.rank() != 2 || output.dim(0) != n ||
        output.dim(1) != kFashionMnistClasses)
      throw_bad_input(
          "fashion-mnist: the model's output must be float32 logits [batch, {}], got {}{}",
          kFashionMnistClasses, dtype_name(output.dtype()), shape_str(output.shape()));
    Score s;
    s.samples = n;
    const float* logits = output.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float* row = logits + i * kFashionMnistClasses;
      s.count_non_finite(begin + i, row, kFashionMnistClasses);
      // The first maximum wins on a tie, as in torch.argmax and numpy.argmax (a NaN never
      // wins a comparison; the caller warns about such samples).
      int best = 0;
      for (int c = 1; c < kFashionMnistClasses; ++c)
        if (row[c] > row[best]) best = c;
      s.correct += best == set_.labels[static_cast<size_t>(begin + i)];
    }
    return s;
  }

 private:
  std::string dir_;
  LabelledImages set_;
  mutable std::unique_ptr<LabelledImages> train_;  // loaded on first calibration
};

class Fortunes final : public Dataset {
 public:
  Fortunes(const std::string& dir, int64_t context) : context_(context) {
    if (context <= 0) throw_bad_input("fortunes: context length {} must be positive", context);
    FortunesText text = load_fortunes(dir);
    std::vector<int64_t> tokens = fortunes_tokens(text.bytes);
    validation_ = fortunes_validation(tokens);
    tokens.resize(tokens.size() * 9 / 10);  // the training text
    train_ = std::move(tokens);
    if (!text.matches_reference)
      warning_ = fmt::format(
          "the fortunes text in {} ({} bytes) differs from the documented one ({} bytes, "
          "CRC-32 {:08x}): results are not comparable with the model cards",
          dir, text.bytes.size(), kFortunesBytes, kFortunesCrc32);
    if (fortunes_window_count(validation_, context_) == 0)
      throw_bad_input(
          "fortunes: the validation text ({} tokens) is shorter than one window of "
          "{} tokens",
          validation_.size(), context_);
  }
  std::string name() const override { return "fortunes"; }
  std::string split() const override { return "validation"; }
  std::string metric() const override { return "bits_per_char"; }
  int64_t size() const override { return fortunes_window_count(validation_, context_); }
  Tensor inputs(int64_t begin, int64_t end) const override {
    return fortunes_batch(validation_, context_, begin, end);
  }
  // Windows of the training text, cut the same way as the validation windows.
  int64_t calibration_size() const override { return fortunes_window_count(train_, context_); }
  Tensor calibration_inputs(int64_t n) const override {
    return fortunes_batch(train_, context_, 0, std::min(n, calibration_size()));
  }
  Score score(int64_t begin, int64_t end, const Tensor& output) const override {
    const int64_t n = end - begin;
    if (output.dtype() != DType::kF32 || output.rank() != 3 || output.dim(0) != n ||
        output.dim(1) != context_ || output.dim(2) != kFortunesVocab)
      throw_bad_input(
          "fortunes: the model's output must be float32 logits [batch, {}, {}], got {}{}", context_,
          kFortunesVocab, dtype_name(output.dtype()), shape_str(output.shape()));
    Score s;
    s.samples = n;
    s.predictions = n * context_;
    const float* logits = output.data<float>();
    for (int64_t k = 0; k < n; ++k) {
      s.count_non_finite(begin + k, logits + k * context_ * kFortunesVocab,
                         context_ * kFortunesVocab);
      for (int64_t i = 0; i < context_; ++i) {
        const float* row = logits + (k * context_ + i) * kFortunesVocab;
        const int64_t target = validation_[static_cast<size_t>((begin + k) * context_ + i + 1)];
        double max = row[0];
        for (int v = 1; v < kFortunesVocab; ++v) max = std::max<double>(max, row[v]);
        double sum = 0.0;
        for (int v = 0; v < kFortunesVocab; ++v) sum += std::exp(row[v] - max);
        s.ce_sum += max + std::log(sum) - row[target];
      }
    }
    return s;
  }
  std::string warning() const override { return warning_; }

 private:
  int64_t context_;
  std::vector<int64_t> validation_;
  std::vector<int64_t> train_;
  std::string warning_;
};

}  // namespace

std::vector<std::string> dataset_names() {
  return {"fashion-mnist", "fortunes"};
}

std::unique_ptr<Dataset> open_dataset(const std::string& name, const DatasetOptions& options) {
  if (name == "fashion-mnist")
    return std::make_unique<FashionMnist>(options.dir.empty() ? kFashionMnistDir : options.dir);
  if (name == "fortunes")
    return std::make_unique<Fortunes>(options.dir.empty() ? kFortunesDir : options.dir,
                                      options.context);
  throw_bad_input("unknown dataset '{}' (known: fashion-mnist, fortunes)", name);
}

Score evaluate(const Dataset& dataset, int64_t limit, int64_t batch, const Forward& forward,
               const std::function<void(int64_t, int64_t)>& progress) {
  if (batch <= 0) throw_bad_input("--batch {} must be positive", batch);
  const int64_t total = limit < 0 ? dataset.size() : std::min(limit, dataset.size());
  Score score;
  for (int64_t begin = 0; begin < total; begin += batch) {
    const int64_t end = std::min(total, begin + batch);
    Tensor output = forward(dataset.inputs(begin, end), begin);
    score.add(dataset.score(begin, end, output));
    if (progress) progress(end, total);
  }
  return score;
}

}  // namespace aimc::data
