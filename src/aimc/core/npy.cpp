#include "aimc/core/npy.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace aimc {

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_bad_input("{}: is a directory", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("{}: cannot open file ({})", path, std::strerror(errno));
  // One read into a string sized from the file (a stream copy would grow it step by step,
  // which doubles the peak memory and the time for a model of hundreds of MB).
  const auto size = std::filesystem::file_size(path, ec);
  std::string bytes;
  if (!ec) {
    bytes.resize(size);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (in.gcount() != static_cast<std::streamsize>(size))
      throw_bad_input("{}: read error (got {} of {} bytes)", path, in.gcount(), size);
    return bytes;
  }
  std::ostringstream buffer;  // not a regular file (a pipe): read to the end
  buffer << in.rdbuf();
  if (in.bad()) throw_bad_input("{}: read error", path);
  return std::move(buffer).str();
}

namespace {

// Whether process `pid` is gone (its staging files are litter).
bool process_is_gone(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

void remove_stale_staging(const std::filesystem::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    if (digits.size() < 10 && process_is_gone(std::stol(digits)))
      std::filesystem::remove_all(entry.path(), ec);
  }
}

void check_output_target(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::symlink_status(path, ec);
  if (ec || !std::filesystem::exists(status)) return;  // a new file
  if (std::filesystem::is_symlink(status))
    throw_bad_input("{}: is a symbolic link; aimc writes only to regular files or new paths", path);
  if (std::filesystem::is_directory(status))
    throw_bad_input("{}: is a directory, not a file", path);
  if (!std::filesystem::is_regular_file(status))
    throw_bad_input(
        "{}: is not a regular file (a device, pipe or socket); aimc does not replace it", path);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  check_output_target(path);
  const std::filesystem::path target(path);
  // Staged beside the target under a name the next run recognises: a run killed midway
  // leaves litter that the next write to the same path removes.
  const std::string prefix = target.filename().string() + ".tmp-aimc-";
  remove_stale_staging(target.parent_path(), prefix);
  const std::string tmp = (target.parent_path() / (prefix + std::to_string(::getpid()))).string();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw_bad_input("{}: cannot create file ({})", path, std::strerror(errno));
    errno = 0;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      const int error = errno;
      std::remove(tmp.c_str());
      throw_runtime("{}: write failed{}", path,
                    error ? fmt::format(" ({})", std::strerror(error)) : std::string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw_runtime("{}: cannot rename temporary file: {}", path, ec.message());
  }
}

namespace {

// Extracts the value text of `'key': value` in the header dict.
bool find_header_value(std::string_view header, std::string_view key, std::string_view& value) {
  std::string quoted1;
  quoted1.reserve(key.size() + 2);
  quoted1.push_back('\'');
  quoted1.append(key);
  quoted1.push_back('\'');
  size_t pos = header.find(quoted1);
  if (pos == std::string_view::npos) return false;
  pos = header.find(':', pos + quoted1.size());
  if (pos == std::string_view::npos) return false;
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  if (pos >= header.size()) return false;
  size_t end;
  if (header[pos] == '\'') {
    end = header.find('\'', pos + 1);
    if (end == std::string_view::npos) return false;
    value = header.substr(pos + 1, end - pos - 1);
  } else if (header[pos] == '(') {
    end = header.find(')', pos);
    if (end == std::string_view::npos) return false;
    value = header.substr(pos + 1, end - pos - 1);
  } else {
    end = header.find_first_of(",}", pos);
    if (end == std::string_view::npos) return false;
    value = header.substr(pos, end - pos);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  }
  return true;
}

DType parse_descr(std::string_view descr, const std::string& source) {
  // '<' little endian, '|' not applicable, '=' native (little on every machine we build for).
  if (descr.size() >= 2 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '=')) {
    std::string_view code = descr.substr(1);
    if (code == "f4") return DType::kF32;
    if (code == "i8") return DType::kI64;
    if (code == "i4") return DType::kI32;
    if (code == "i1") return DType::kI8;
    if (code == "b1") return DType::kBool;
    if (code == "f8") return DType::kF64;
    if (code == "f2") return DType::kF16;
    if (code == "u1") return DType::kU8;
    if (code == "i2") return DType::kI16;
    if (code == "u2") return DType::kU16;
    if (code == "u4") return DType::kU32;
    if (code == "u8") return DType::kU64;
  }
  throw_bad_input(
      "{}: unsupported .npy dtype '{}' (supported: <f4, <f8, <f2, <i8, <i4, <i2, |i1, <u8, <u4, "
      "<u2, |u1, |b1)",
      source, descr);
}

const char* descr_of(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "<f4";
    case DType::kI64:
      return "<i8";
    case DType::kI32:
      return "<i4";
    case DType::kI8:
      return "|i1";
    case DType::kBool:
      return "|b1";
    case DType::kF64:
      return "<f8";
    case DType::kF16:
      return "<f2";
    case DType::kU8:
      return "|u1";
    case DType::kI16:
      return "<i2";
    case DType::kU16:
      return "<u2";
    case DType::kU32:
      return "<u4";
    case DType::kU64:
      return "<u8";
  }
  return "";
}

}  // namespace

Tensor parse_npy(std::string_view bytes, const std::string& source) {
  static constexpr std::string_view kMagic = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic)
    throw_bad_input("{}: not a .npy file (bad magic bytes)", source);
  auto major = static_cast<uint8_t>(bytes[6]);
  size_t header_len;
  size_t header_start;
  if (major == 1) {
    header_len =
        static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw_bad_input("{}: truncated .npy header", source);
    header_len = 0;
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    throw_bad_input("{}: unsupported .npy format version {}", source, major);
  }
  if (header_len > bytes.size() - header_start)
    throw_bad_input("{}: truncated .npy header", source);
  std::string_view header = bytes.substr(header_start, header_len);

  std::string_view descr, fortran, shape_text;
  if (!find_header_value(header, "descr", descr) ||
      !find_header_value(header, "fortran_order", fortran) ||
      !find_header_value(header, "shape", shape_text))
    throw_bad_input("{}: malformed .npy header '{}'", source, header);
  DType dtype = parse_descr(descr, source);
  if (fortran != "False")
    throw_bad_input("{}: Fortran-ordered .npy arrays are not supported (save with C order)",
                    source);

  Shape shape;
  std::string_view rest = shape_text;
  __int128 numel = 1;
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    if (rest.empty()) break;
    int64_t dim = 0;
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      if (dim > (int64_t{1} << 50)) throw_bad_input("{}: .npy dimension too large", source);
      dim = dim * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 0) throw_bad_input("{}: malformed .npy shape '({})'", source, shape_text);
    rest.remove_prefix(digits);
    while (!rest.empty() && rest.front() == 'L') rest.remove_prefix(1);  // Python 2 longs
    shape.push_back(dim);
    numel *= dim;
    if (numel > (__int128{1} << 40)) throw_bad_input("{}: .npy array too large", source);
    if (shape.size() > 32) throw_bad_input("{}: .npy array has too many dimensions", source);
  }
  size_t data_start = header_start + header_len;
  size_t need = static_cast<size_t>(numel) * dtype_size(dtype);
  if (bytes.size() - data_start != need)
    throw_bad_input("{}: .npy data holds {} bytes, shape {} of {} needs {}", source,
                    bytes.size() - data_start, shape_str(shape), dtype_name(dtype), need);
  Tensor tensor(dtype, shape);
  if (need) std::memcpy(tensor.raw(), bytes.data() + data_start, need);
  if (dtype == DType::kBool) {
    // Only 0 and 1 are valid bools; normalise anything else instead of keeping UB values.
    auto* b = reinterpret_cast<uint8_t*>(tensor.raw());
    for (int64_t i = 0; i < tensor.numel(); ++i) b[i] = b[i] ? 1 : 0;
  }
  return tensor;
}

Tensor read_npy(const std::string& path) {
  return parse_npy(read_file_bytes(path), path);
}

std::string serialize_npy(const Tensor& tensor) {
  std::string header = "{'descr': '";
  header += descr_of(tensor.dtype());
  header += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape().size(); ++i) {
    header += std::to_string(tensor.shape()[i]);
    if (tensor.shape().size() == 1 || i + 1 < tensor.shape().size()) header += ",";
    if (i + 1 < tensor.shape().size()) header += " ";
  }
  header += "), }";
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char*>(tensor.raw()), tensor.nbytes());
  return out;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  write_file_atomic(path, serialize_npy(tensor));
}

}  // namespace aimc
