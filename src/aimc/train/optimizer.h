// Optimisers (SGD with momentum, AdamW), learning-rate schedules, gradient clipping by the
// global norm and layer-wise Gaussian weight clipping, over the Parameters of parameters.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/train/parameters.h"

namespace aimc::train {

enum class OptimizerKind { kSgd, kAdamW };
enum class Schedule { kConstant, kCosine, kOneCycle };

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kAdamW;
  double momentum = 0.9;              // SGD
  double beta1 = 0.9, beta2 = 0.999;  // AdamW (Loshchilov & Hutter, ICLR 2019)
  double epsilon = 1e-8;              // AdamW
  double weight_decay = 0.0;          // decoupled; only Parameters with decay = true
  double clip_grad_norm = 0.0;        // > 0: scale gradients to this global L2 norm at most
  // > 0: after each step clamp every trained weight matrix or kernel to ±clip_sigma times
  // the standard deviation of its elements (aihwkit's WeightClipType.LAYER_GAUSSIAN), so that
  // outliers do not set the per-column conductance scale.
  double clip_weight_sigma = 0.0;
};

// The learning rate at `step` of `total` for a peak rate `peak`:
// constant: peak after `warmup` linear warm-up steps; cosine: linear warm-up, then cosine to
// 0; one-cycle (Smith & Topin 2019, PyTorch's OneCycleLR defaults): cosine from peak/25 up
// to peak over the first 30 % of the steps, then cosine down to peak/(25·10⁴).
double learning_rate(Schedule schedule, double peak, int64_t step, int64_t total, int64_t warmup);

class Optimizer {
 public:
  Optimizer(OptimizerOptions options, std::vector<Parameter> parameters);

  // One update at learning rate `lr` from d(loss)/d(value) of every parameter. Replaces each
  // parameter's constant with a new tensor (constants are shared, never changed in place).
  // Returns the global gradient norm before clipping.
  double step(const std::map<const ir::Value*, Tensor>& grads, double lr);

  const std::vector<Parameter>& parameters() const { return parameters_; }

  // State for checkpoints: the step count and one or two moment tensors per parameter.
  int64_t steps() const { return steps_; }
  std::vector<Tensor>& moments() { return moments_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 private:
  OptimizerOptions options_;
  std::vector<Parameter> parameters_;
  std::vector<Tensor> moments_;  // SGD: velocity per parameter; AdamW: m then v per parameter
  int64_t steps_ = 0;
};

const char* optimizer_name(OptimizerKind kind);
const char* schedule_name(Schedule schedule);

}  // namespace aimc::train
