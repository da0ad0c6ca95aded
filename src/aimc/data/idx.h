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

// The shape an IDX header declares (bytes: at least the header); Error(kBadInput) naming
// `source` for a bad magic number, element type, rank or a truncated header.
Shape parse_idx_header(std::string_view bytes, const std::string& source);

// Parses IDX bytes of unsigned bytes (type 0x08) into a kU8 tensor of the stored shape.
Tensor parse_idx_u8(std::string_view bytes, const std::string& source);

// Reads an IDX file; a .gz one is inflated no further than its header declares, and a header
// that declares more than the gzip file can hold (deflate expands at most 1032:1) or more than
// half the machine's memory is rejected before anything is allocated.
Tensor read_idx_u8(const std::string& path);

}  // namespace aimc::data
