// Fuzzes ONNX external data: models whose initializers point at files beside them. The model
// directory (made once) holds a regular file, a file in a subfolder, a symbolic link out of
// the directory and one to a directory; whatever the locations, offsets and lengths, the
// loader must load only what lies inside the directory, or raise aimc::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "aimc/core/error.h"
#include "aimc/frontend/onnx_import.h"

namespace {

std::string model_dir() {
  namespace fs = std::filesystem;
  static const std::string dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("aimc_fuzz_external_" + std::to_string(getpid()));
    fs::create_directories(d / "sub");
    std::ofstream(d / "weights.bin", std::ios::binary) << std::string(4096, '\x01');
    std::ofstream(d / "sub" / "w.bin", std::ios::binary) << std::string(64, '\x02');
    std::error_code ec;
    fs::create_symlink("/etc/passwd", d / "outside", ec);
    fs::create_directory_symlink("/etc", d / "etc", ec);
    return d.string();
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    aimc::frontend::parse_onnx(bytes, model_dir() + "/fuzz.onnx", model_dir());
  } catch (const aimc::Error&) {
  }
  return 0;
}
