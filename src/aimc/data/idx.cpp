#include "aimc/data/idx.h"

#include <zlib.h>

#include <cstring>

#include "aimc/core/npy.h"

namespace aimc::data {

std::string read_maybe_gzip(const std::string& path) {
  bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (!gz) return read_file_bytes(path);
  std::string compressed = read_file_bytes(path);  // checks the file exists, names it
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw_bad_input("{}: cannot open gzip file", path);
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    int n = gzread(file, buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      std::string message = gzerror(file, &code);
      gzclose(file);
      throw_bad_input("{}: corrupt gzip data ({})", path, message);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  // gzread reports a truncated stream only through gzclose / gzerror.
  int close_code = gzclose(file);
  if (close_code != Z_OK) throw_bad_input("{}: truncated or corrupt gzip file", path);
  return out;
}

Tensor parse_idx_u8(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    throw_bad_input("{}: not an IDX file (bad magic number)", source);
  if (static_cast<uint8_t>(bytes[2]) != 0x08)
    throw_bad_input("{}: IDX element type 0x{:02x} is not unsigned byte (0x08)", source,
                    static_cast<uint8_t>(bytes[2]));
  size_t rank = static_cast<uint8_t>(bytes[3]);
  if (rank == 0 || rank > 8) throw_bad_input("{}: IDX rank {} is not supported", source, rank);
  if (bytes.size() < 4 + 4 * rank) throw_bad_input("{}: truncated IDX header", source);
  Shape shape;
  __int128 numel = 1;
  for (size_t i = 0; i < rank; ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + 4 + 4 * i);
    int64_t dim = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3];
    shape.push_back(dim);
    numel *= dim;
  }
  size_t data_start = 4 + 4 * rank;
  if (static_cast<__int128>(bytes.size() - data_start) != numel)
    throw_bad_input("{}: IDX data holds {} bytes, shape {} needs {}", source,
                    bytes.size() - data_start, shape_str(shape), static_cast<int64_t>(numel));
  Tensor tensor(DType::kU8, shape);
  if (numel) std::memcpy(tensor.raw(), bytes.data() + data_start, static_cast<size_t>(numel));
  return tensor;
}

Tensor read_idx_u8(const std::string& path) {
  return parse_idx_u8(read_maybe_gzip(path), path);
}

}  // namespace aimc::data
