// Fuzzes the .npy reader: any bytes must parse or raise aimc::Error, and whatever parses
// must serialise and parse back to the same tensor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "aimc/core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    aimc::Tensor t = aimc::parse_npy(bytes, "fuzz.npy");
    aimc::Tensor back = aimc::parse_npy(aimc::serialize_npy(t), "round-trip");
    if (back.shape() != t.shape() || back.dtype() != t.dtype() ||
        std::memcmp(back.raw(), t.raw(), t.nbytes()) != 0)
      std::abort();
  } catch (const aimc::Error&) {
  }
  return 0;
}
