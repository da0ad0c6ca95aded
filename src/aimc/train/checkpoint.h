// Fine-tuning checkpoints: the trained weights, the optimiser's moments and where training
// stands, in one file written atomically (a crash never leaves a half-written checkpoint).
// Layout: the line "aimc-checkpoint 1", a JSON header line (what was trained, with which
// options, and each tensor's name, shape and byte offset), then the raw little-endian
// float32 data of the tensors in header order.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "aimc/core/tensor.h"

namespace aimc::train {

struct Checkpoint {
  std::string model_hash;  // of the ONNX file's bytes (FNV-1a, hex)
  int64_t epochs_done = 0;
  int64_t steps = 0;                      // optimiser steps so far
  nlohmann::json options;                 // the options a resume must repeat (checked key by key)
  std::map<std::string, Tensor> tensors;  // float32
};

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Error(kBadInput) naming the path for a file that is not a complete checkpoint.
Checkpoint read_checkpoint(const std::string& path);

// FNV-1a of a file's bytes, as 16 hex digits.
std::string file_hash(const std::string& path);

}  // namespace aimc::train
