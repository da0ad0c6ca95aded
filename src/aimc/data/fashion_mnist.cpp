#include "aimc/data/fashion_mnist.h"

#include <filesystem>

#include "aimc/data/idx.h"

namespace aimc::data {

namespace {

// Volatile stores keep the compiler from contracting (p / 255 - mean) / std into an FMA or
// from replacing a division by a multiplication: the table must be bit-exact.
float preprocess(int p) {
  volatile float x = static_cast<float>(p);
  x = x / 255.0f;
  x = x - 0.2860f;
  x = x / 0.3530f;
  return x;
}

}  // namespace

const std::array<float, 256>& fashion_mnist_pixel_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int p = 0; p < 256; ++p) t[p] = preprocess(p);
    return t;
  }();
  return table;
}

LabelledImages load_fashion_mnist(const std::string& dir, const std::string& split) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";
  } else {
    throw_bad_input("Fashion-MNIST has no split '{}' (use train or test)", split);
  }
  const std::string images_path =
      (std::filesystem::path(dir) / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string labels_path =
      (std::filesystem::path(dir) / (prefix + "-labels-idx1-ubyte.gz")).string();
  for (const std::string& path : {images_path, labels_path}) {
    if (!std::filesystem::exists(path))
      throw_bad_input(
          "{}: not found (install the Debian package dataset-fashion-mnist, or "
          "point --data-dir at a folder holding the Fashion-MNIST .gz files)",
          path);
  }
  LabelledImages set;
  set.images = read_idx_u8(images_path);
  Tensor labels = read_idx_u8(labels_path);
  if (set.images.rank() != 3 || set.images.dim(1) != 28 || set.images.dim(2) != 28)
    throw_bad_input("{}: expected images of 28x28 pixels, found shape {}", images_path,
                    shape_str(set.images.shape()));
  if (labels.rank() != 1)
    throw_bad_input("{}: expected a 1-D label file, found shape {}", labels_path,
                    shape_str(labels.shape()));
  if (labels.dim(0) != set.images.dim(0))
    throw_bad_input("{} holds {} labels but {} holds {} images", labels_path, labels.dim(0),
                    images_path, set.images.dim(0));
  set.labels.assign(labels.data<uint8_t>(), labels.data<uint8_t>() + labels.numel());
  for (size_t i = 0; i < set.labels.size(); ++i) {
    if (set.labels[i] >= kFashionMnistClasses)
      throw_bad_input("{}: label {} of sample {} is not a class id 0..9", labels_path,
                      int{set.labels[i]}, i);
  }
  return set;
}

Tensor fashion_mnist_batch(const LabelledImages& set, int64_t begin, int64_t end) {
  AIMC_ASSERT(0 <= begin && begin <= end && end <= set.images.dim(0), "batch [{}, {})", begin, end);
  const auto& table = fashion_mnist_pixel_table();
  Tensor batch(DType::kF32, {end - begin, 1, 28, 28});
  const uint8_t* src = set.images.data<uint8_t>() + begin * 28 * 28;
  float* dst = batch.data<float>();
  for (int64_t i = 0; i < batch.numel(); ++i) dst[i] = table[src[i]];
  return batch;
}

}  // namespace aimc::data
