// Fashion-MNIST (Debian package dataset-fashion-mnist): loading and the exact preprocessing
// the bundled models were trained with. docs/datasets.md is the definition.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"

namespace aimc::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int kFashionMnistClasses = 10;

struct LabelledImages {
  Tensor images;                // kU8 [N, 28, 28]
  std::vector<uint8_t> labels;  // N class ids, each < 10
};

// split: "train" (60,000 images) or "test" (10,000). Error(kBadInput) names the file at fault
// (missing, corrupt, wrong magic, counts that disagree, a label above 9).
LabelledImages load_fashion_mnist(const std::string& dir, const std::string& split);

// The float32 value of every pixel byte: ((float)p / 255.0f - 0.2860f) / 0.3530f, computed in
// float32 in that order (no contraction into fused multiply-adds).
const std::array<float, 256>& fashion_mnist_pixel_table();

// Images [begin, end) as the models' input: float32 [end - begin, 1, 28, 28].
Tensor fashion_mnist_batch(const LabelledImages& set, int64_t begin, int64_t end);

}  // namespace aimc::data
