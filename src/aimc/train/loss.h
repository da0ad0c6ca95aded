// Training losses on the model's logits, each returning the loss and its gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "aimc/core/tensor.h"

namespace aimc::train {

struct LossValue {
  double loss = 0.0;    // mean over the predictions
  Tensor grad;          // dLoss/dLogits, shaped like the logits
  int64_t correct = 0;  // top-1 hits (first maximum wins), for the training accuracy
};

// Mean softmax cross-entropy of logits [..., C] against integer labels [...] (i64, each in
// [0, C)); Error(kBadInput) for a label out of range or shapes that do not fit.
LossValue cross_entropy(const Tensor& logits, const Tensor& labels);

// Knowledge distillation (Hinton et al., 2015): the mean over predictions of
// T² · KL(softmax(teacher / T) ‖ softmax(logits / T)), and its gradient in the logits.
LossValue distillation(const Tensor& logits, const Tensor& teacher_logits, double temperature);

}  // namespace aimc::train
