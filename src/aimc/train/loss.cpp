#include "aimc/train/loss.h"

#include <algorithm>
#include <cmath>

#include "aimc/core/error.h"

namespace aimc::train {

namespace {

// log-softmax of one row of n values, in double.
void log_softmax(const float* row, int64_t n, double scale, std::vector<double>& out) {
  out.resize(static_cast<size_t>(n));
  double max = -INFINITY;
  for (int64_t c = 0; c < n; ++c) max = std::max(max, row[c] * scale);
  double sum = 0.0;
  for (int64_t c = 0; c < n; ++c) sum += std::exp(row[c] * scale - max);
  const double log_sum = max + std::log(sum);
  for (int64_t c = 0; c < n; ++c) out[static_cast<size_t>(c)] = row[c] * scale - log_sum;
}

int64_t argmax(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t c = 1; c < n; ++c)
    if (row[c] > row[best]) best = c;
  return best;
}

}  // namespace

LossValue cross_entropy(const Tensor& logits, const Tensor& labels) {
  if (logits.dtype() != DType::kF32 || logits.rank() < 1)
    throw_bad_input("cross-entropy: logits must be float32 [..., classes], got {}{}",
                    dtype_name(logits.dtype()), shape_str(logits.shape()));
  const int64_t classes = logits.dim(-1);
  const int64_t rows = classes ? logits.numel() / classes : 0;
  if (labels.dtype() != DType::kI64 || labels.numel() != rows)
    throw_bad_input("cross-entropy: {} labels (i64) needed for logits {}, got {}{}", rows,
                    shape_str(logits.shape()), dtype_name(labels.dtype()),
                    shape_str(labels.shape()));
  LossValue result;
  result.grad = Tensor(DType::kF32, logits.shape());
  const float* pl = logits.data<float>();
  const int64_t* py = labels.data<int64_t>();
  float* pg = result.grad.data<float>();
  std::vector<double> lsm;
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t label = py[r];
    if (label < 0 || label >= classes)
      throw_bad_input("cross-entropy: label {} of sample {} is outside [0, {})", label, r, classes);
    log_softmax(pl + r * classes, classes, 1.0, lsm);
    total -= lsm[static_cast<size_t>(label)];
    for (int64_t c = 0; c < classes; ++c) {
      double p = std::exp(lsm[static_cast<size_t>(c)]);
      pg[r * classes + c] =
          static_cast<float>((p - (c == label ? 1.0 : 0.0)) / static_cast<double>(rows));
    }
    result.correct += argmax(pl + r * classes, classes) == label;
  }
  result.loss = rows ? total / static_cast<double>(rows) : 0.0;
  return result;
}

LossValue distillation(const Tensor& logits, const Tensor& teacher_logits, double temperature) {
  if (logits.shape() != teacher_logits.shape())
    throw_bad_input("distillation: student logits {} and teacher logits {} differ",
                    shape_str(logits.shape()), shape_str(teacher_logits.shape()));
  if (!(temperature > 0.0)) throw_bad_input("distillation: temperature must be > 0");
  const int64_t classes = logits.dim(-1);
  const int64_t rows = classes ? logits.numel() / classes : 0;
  LossValue result;
  result.grad = Tensor(DType::kF32, logits.shape());
  const double inv_t = 1.0 / temperature;
  std::vector<double> student, teacher;
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    log_softmax(logits.data<float>() + r * classes, classes, inv_t, student);
    log_softmax(teacher_logits.data<float>() + r * classes, classes, inv_t, teacher);
    for (int64_t c = 0; c < classes; ++c) {
      auto k = static_cast<size_t>(c);
      double p = std::exp(teacher[k]);
      total += p * (teacher[k] - student[k]);
      // d/dz of T² KL = T (softmax(z/T) - p).
      result.grad.data<float>()[r * classes + c] =
          static_cast<float>(temperature * (std::exp(student[k]) - p) / static_cast<double>(rows));
    }
  }
  result.loss = rows ? temperature * temperature * total / static_cast<double>(rows) : 0.0;
  return result;
}

}  // namespace aimc::train
