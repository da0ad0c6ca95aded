// NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order, little endian, every dtype of
// Tensor: f32, f64, f16, i64, i32, i16, i8, u64, u32, u16, u8, bool.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "aimc/core/tensor.h"

namespace aimc {

// Parses a whole .npy file held in memory. `source` names it in error messages.
// Throws Error(kBadInput) for anything malformed or unsupported; never reads out of bounds.
Tensor parse_npy(std::string_view bytes, const std::string& source);
Tensor read_npy(const std::string& path);

std::string serialize_npy(const Tensor& tensor);
// Writes atomically: to a temporary file beside `path`, then renames it, so a failure never
// leaves a half-written file behind.
void write_npy(const std::string& path, const Tensor& tensor);

// Reads a whole file; Error(kBadInput) naming the path when it cannot be opened.
std::string read_file_bytes(const std::string& path);
// Atomic write (a temporary file beside the target, then rename). The target must be a
// regular file or a new path: a symbolic link, directory or device is Error(kBadInput).
// A write that fails says why (e.g. "No space left on device").
void write_file_atomic(const std::string& path, std::string_view bytes);
// Error(kBadInput) unless `path` is absent or a regular file (not a link, dir or device).
void check_output_target(const std::string& path);
// Removes entries of `dir` named `prefix` + PID whose process is gone (staging left behind
// by a run that was killed).
void remove_stale_staging(const std::filesystem::path& dir, const std::string& prefix);

}  // namespace aimc
