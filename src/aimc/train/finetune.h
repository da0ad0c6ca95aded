// Noise-aware (hardware-aware) fine-tuning: train a model so that it keeps its accuracy on an
// analog chip. Each batch runs forward on a fresh chip instance of the architecture (the
// analog executor: programming noise, drift, stuck cells, DAC/ADC, read noise, ACAM
// quantisation and threshold noise, exactly as `aimc eval` simulates them), the backward
// pass treats every analog op as the digital op it implements (straight-through), and the
// optimiser updates the digital weights. docs/finetune.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/train/optimizer.h"

namespace aimc::train {

struct FinetuneOptions {
  std::string model_path;   // ONNX
  std::string output_path;  // the fine-tuned ONNX (written once, at the end, atomically)
  std::string dataset = "fashion-mnist";
  std::string data_dir;                    // empty: the Debian package's folder
  std::optional<arch::Architecture> arch;  // the chip the forward pass simulates
  int64_t epochs = 1;
  int64_t batch = 32;
  int64_t limit = -1;  // training samples per epoch (< 0: the whole training split)
  uint64_t seed = 0;
  double lr = 1e-4;  // peak learning rate
  Schedule schedule = Schedule::kCosine;
  int64_t warmup = 0;  // steps
  OptimizerOptions optimizer;
  // Additive Gaussian noise on every trained weight matrix for the forward pass of each
  // batch, σ = weight_noise · max|W| of the tensor (aihwkit-style weight modifier), on top
  // of the chip's own noise.
  double weight_noise = 0.0;
  // Loss = (1 - distill)·cross-entropy + distill·T²·KL(digital teacher ‖ model) with the
  // original model as the teacher (0: no teacher).
  double distill = 0.0;
  double temperature = 2.0;
  std::string checkpoint_path;  // written after every epoch when set
  std::string resume_path;      // a checkpoint to continue from
};

struct EpochReport {
  int64_t epoch = 0;  // 1-based
  int64_t steps = 0;  // optimiser steps so far
  int64_t samples = 0;
  double loss = 0.0;       // mean training loss of the epoch
  double accuracy = 0.0;   // top-1 on the (analog) forward passes of the epoch
  double lr = 0.0;         // at the last step
  double grad_norm = 0.0;  // mean global gradient norm before clipping
  double seconds = 0.0;
};

struct FinetuneResult {
  std::vector<EpochReport> epochs;  // those run now (not those before a resume)
  int64_t trained_tensors = 0;
  int64_t trained_elements = 0;
  std::vector<std::string> frozen;  // "name: why"
  int64_t start_epoch = 0;          // epochs already done (resume)
};

struct FinetuneCallbacks {
  std::function<void(int64_t done, int64_t total)> progress;  // samples of the current epoch
  std::function<void(const EpochReport&)> epoch_done;
  std::function<void(const std::string&)> note;  // one-line notices for the user
};

// Validates the options (Error(kBadInput) naming the option), then trains and writes
// options.output_path.
FinetuneResult finetune(const FinetuneOptions& options, const FinetuneCallbacks& callbacks = {});

}  // namespace aimc::train
