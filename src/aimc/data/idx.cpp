#include "aimc/data/idx.h"

#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "aimc/core/npy.h"

namespace aimc::data {

Shape parse_idx_header(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    throw_bad_input("{}: not an IDX file (bad magic number)", source);
  if (static_cast<uint8_t>(bytes[2]) != 0x08)
    throw_bad_input("{}: IDX element type 0x{:02x} is not unsigned byte (0x08)", source,
                    static_cast<uint8_t>(bytes[2]));
  size_t rank = static_cast<uint8_t>(bytes[3]);
  if (rank == 0 || rank > 8) throw_bad_input("{}: IDX rank {} is not supported", source, rank);
  if (bytes.size() < 4 + 4 * rank) throw_bad_input("{}: truncated IDX header", source);
  Shape shape;
  for (size_t i = 0; i < rank; ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + 4 + 4 * i);
    shape.push_back((int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3]);
  }
  return shape;
}

Tensor parse_idx_u8(std::string_view bytes, const std::string& source) {
  const Shape shape = parse_idx_header(bytes, source);
  __int128 numel = 1;
  for (int64_t d : shape) numel *= d;
  const size_t data_start = 4 + 4 * shape.size();
  if (static_cast<__int128>(bytes.size() - data_start) != numel)
    throw_bad_input("{}: IDX data holds {} bytes, shape {} needs {}", source,
                    bytes.size() - data_start, shape_str(shape), static_cast<int64_t>(numel));
  Tensor tensor(DType::kU8, shape);
  if (numel) std::memcpy(tensor.raw(), bytes.data() + data_start, static_cast<size_t>(numel));
  return tensor;
}

namespace {

// deflate expands at most 1032:1 (a stream of maximal-length matches: 258 bytes from about
// 2 bits; zlib's FAQ); a gzip file of n bytes cannot hold more than that.
constexpr double kMaxDeflateRatio = 1032.0;

// A gzip stream read piece by piece, so that no more is inflated than the IDX header declares.
class GzipStream {
 public:
  explicit GzipStream(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw_bad_input("{}: cannot open gzip file", path);
  }
  ~GzipStream() {
    if (file_) gzclose(file_);
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Reads up to `count` bytes into out; returns how many (fewer only at the end).
  int64_t read(char* out, int64_t count) {
    int64_t done = 0;
    while (done < count) {
      const auto piece = static_cast<unsigned>(std::min<int64_t>(count - done, 1 << 30));
      const int n = gzread(file_, out + done, piece);
      if (n < 0) {
        int code = 0;
        throw_bad_input("{}: corrupt gzip data ({})", path_, gzerror(file_, &code));
      }
      if (n == 0) break;
      done += n;
    }
    return done;
  }
  // Closes the stream; gzread reports a truncated stream only here.
  void close() {
    const int code = gzclose(file_);
    file_ = nullptr;
    if (code != Z_OK) throw_bad_input("{}: truncated or corrupt gzip file", path_);
  }

 private:
  std::string path_;
  gzFile file_;
};

bool is_gzip_path(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
}

// The memory the data may take: half the machine's physical memory.
int64_t memory_budget() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page / 2 : int64_t{1} << 32;
}

}  // namespace

std::string read_maybe_gzip(const std::string& path) {
  if (!is_gzip_path(path)) return read_file_bytes(path);
  read_file_bytes(path);  // checks the file exists, names it
  GzipStream stream(path);
  std::string out;
  char buffer[1 << 16];
  for (int64_t n; (n = stream.read(buffer, sizeof(buffer))) > 0;) out.append(buffer, n);
  stream.close();
  return out;
}

Tensor read_idx_u8(const std::string& path) {
  if (!is_gzip_path(path)) return parse_idx_u8(read_file_bytes(path), path);
  std::error_code error;
  const auto compressed = static_cast<int64_t>(std::filesystem::file_size(path, error));
  if (error) throw_bad_input("{}: cannot read the file ({})", path, error.message());
  GzipStream stream(path);
  // The header first: magic, then the dimensions (parse_idx_header checks them).
  std::string header(4, '\0');
  if (stream.read(header.data(), 4) < 4) throw_bad_input("{}: truncated IDX header", path);
  const size_t rank = static_cast<uint8_t>(header[3]);
  if (header[0] == 0 && header[1] == 0 && rank >= 1 && rank <= 8) {
    header.resize(4 + 4 * rank);
    if (stream.read(header.data() + 4, 4 * static_cast<int64_t>(rank)) <
        4 * static_cast<int64_t>(rank))
      throw_bad_input("{}: truncated IDX header", path);
  }
  const Shape shape = parse_idx_header(header, path);
  __int128 numel = 1;
  for (int64_t d : shape) numel *= d;
  if (static_cast<double>(numel) > kMaxDeflateRatio * static_cast<double>(compressed) + 4096.0)
    throw_bad_input(
        "{}: the IDX header declares shape {} ({} bytes), more than a gzip file of "
        "{} bytes can hold",
        path, shape_str(shape), static_cast<int64_t>(numel), compressed);
  if (numel > memory_budget())
    throw_bad_input(
        "{}: the IDX header declares shape {} ({} bytes), more than half of this "
        "machine's memory",
        path, shape_str(shape), static_cast<int64_t>(numel));
  Tensor tensor(DType::kU8, shape);
  const auto wanted = static_cast<int64_t>(numel);
  const int64_t got = wanted ? stream.read(reinterpret_cast<char*>(tensor.raw()), wanted) : 0;
  if (got < wanted)
    throw_bad_input("{}: IDX data holds {} bytes, shape {} needs {}", path, got, shape_str(shape),
                    wanted);
  char extra = 0;
  if (stream.read(&extra, 1) > 0)
    throw_bad_input("{}: IDX data holds more than the {} bytes shape {} needs", path, wanted,
                    shape_str(shape));
  stream.close();
  return tensor;
}

}  // namespace aimc::data
