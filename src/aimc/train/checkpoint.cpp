#include "aimc/train/checkpoint.h"

#include <fmt/format.h>

#include <cstring>

#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/core/rng.h"

namespace aimc::train {

namespace {

constexpr const char* kMagic = "aimc-checkpoint 1\n";

}  // namespace

std::string file_hash(const std::string& path) {
  return fmt::format("{:016x}", hash_string(read_file_bytes(path)));
}

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  nlohmann::json header = {{"model_hash", checkpoint.model_hash},
                           {"epochs_done", checkpoint.epochs_done},
                           {"steps", checkpoint.steps},
                           {"options", checkpoint.options},
                           {"tensors", nlohmann::json::array()}};
  size_t offset = 0;
  for (const auto& [name, tensor] : checkpoint.tensors) {
    AIMC_ASSERT(tensor.dtype() == DType::kF32, "checkpoint tensor '{}' is not float32", name);
    header["tensors"].push_back({{"name", name}, {"shape", tensor.shape()}, {"offset", offset}});
    offset += tensor.nbytes();
  }
  std::string bytes = kMagic + header.dump() + "\n";
  const size_t data_start = bytes.size();
  bytes.resize(data_start + offset);
  size_t at = data_start;
  for (const auto& [name, tensor] : checkpoint.tensors) {
    std::memcpy(bytes.data() + at, tensor.raw(), tensor.nbytes());
    at += tensor.nbytes();
  }
  write_file_atomic(path, bytes);
}

Checkpoint read_checkpoint(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  const size_t magic = std::strlen(kMagic);
  if (bytes.compare(0, magic, kMagic) != 0)
    throw_bad_input("{}: not an aimc fine-tuning checkpoint", path);
  const size_t end = bytes.find('\n', magic);
  if (end == std::string::npos) throw_bad_input("{}: truncated checkpoint header", path);
  Checkpoint c;
  try {
    nlohmann::json header = nlohmann::json::parse(bytes.substr(magic, end - magic));
    c.model_hash = header.at("model_hash").get<std::string>();
    c.epochs_done = header.at("epochs_done").get<int64_t>();
    c.steps = header.at("steps").get<int64_t>();
    c.options = header.at("options");
    const size_t data_start = end + 1;
    for (const auto& entry : header.at("tensors")) {
      Shape shape = entry.at("shape").get<Shape>();
      const auto offset = entry.at("offset").get<size_t>();
      for (int64_t d : shape) {
        if (d < 0 || d > (int64_t{1} << 40)) throw_bad_input("{}: bad tensor shape", path);
      }
      Tensor t(DType::kF32, shape);
      if (offset > bytes.size() - data_start || t.nbytes() > bytes.size() - data_start - offset)
        throw_bad_input("{}: truncated checkpoint (tensor '{}' runs past the end)", path,
                        entry.at("name").get<std::string>());
      std::memcpy(t.raw(), bytes.data() + data_start + offset, t.nbytes());
      c.tensors[entry.at("name").get<std::string>()] = t;
    }
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input("{}: corrupt checkpoint header ({})", path, e.what());
  }
  return c;
}

}  // namespace aimc::train
