// IDX files (the MNIST family's format, optionally gzip-compressed): a magic number giving the
// element type and rank, big-endian dimensions, then the data.
#pragma once

#include <string>
#include <string_view>

#include "aimc/core/tensor.h"

namespace aimc::data {

// Reads a whole file, decompressing it when its name ends in ".gz". Error(kBadInput) names
// the path when it cannot be read or is corrupt.
std::string read_maybe_gzip(const std::string& path);

// Parses IDX bytes of unsigned bytes (type 0x08) into a kU8 tensor of the stored shape.
Tensor parse_idx_u8(std::string_view bytes, const std::string& source);

Tensor read_idx_u8(const std::string& path);

}  // namespace aimc::data
