// The Chrome trace writer of sim/trace.h. Timestamps are microseconds (the format's unit),
// written with picosecond resolution.
#include "aimc/sim/trace.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "aimc/core/error.h"

namespace aimc::sim {

namespace {

// Process ids: core c is c + 1; the network is 0.
int64_t process_of(int64_t core) {
  return core + 1;
}

std::string micros(int64_t ps) {
  return fmt::format("{}.{:06}", ps / 1000000, ps % 1000000);
}

}  // namespace

ChromeTrace::ChromeTrace(std::string path) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  const fs::path target(path_);
  staging_ = (target.parent_path() /
              fmt::format(".{}.aimc-trace-{}", target.filename().string(), getpid()))
                 .string();
  file_ = std::fopen(staging_.c_str(), "w");
  if (!file_) throw_bad_input("--trace {}: cannot write a file there", path_);
  write("{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
}

ChromeTrace::~ChromeTrace() {
  if (file_) {
    std::fclose(file_);
    std::remove(staging_.c_str());
  }
}

void ChromeTrace::write(const std::string& text) {
  buffer_ += text;
  if (buffer_.size() >= (1 << 20)) {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
      throw_runtime("--trace {}: write failed", path_);
    buffer_.clear();
  }
}

int ChromeTrace::thread_id(int64_t pid, const std::string& lane) {
  auto [it, added] = threads_.try_emplace({pid, lane}, 0);
  if (!added) return it->second;
  it->second = next_thread_[pid]++;
  if (it->second == 0) {
    const std::string name = pid == 0 ? "network" : fmt::format("core {}", pid - 1);
    write(
        fmt::format("{}{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{},\"args\":{{\"name\":"
                    "\"{}\"}}}}",
                    first_ ? "" : ",\n", pid, name));
    write(
        fmt::format(",\n{{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":{},\"args\":{{"
                    "\"sort_index\":{}}}}}",
                    pid, pid));
    first_ = false;
  }
  write(
      fmt::format("{}{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{"
                  "\"name\":{}}}}}",
                  first_ ? "" : ",\n", pid, it->second, nlohmann::json(lane).dump()));
  first_ = false;
  return it->second;
}

void ChromeTrace::add(const TraceSpan& span) {
  const int64_t pid = span.core < 0 ? 0 : process_of(span.core);
  const int tid = thread_id(pid, span.lane);
  auto [layer, added] = layer_json_.try_emplace(span.layer);
  if (added) layer->second = nlohmann::json(*span.layer).dump();
  write(
      fmt::format(",\n{{\"ph\":\"X\",\"name\":\"{}\",\"cat\":{},\"pid\":{},\"tid\":{},\"ts\":{},"
                  "\"dur\":{}}}",
                  span.name, layer->second, pid, tid, micros(span.start_ps),
                  micros(span.end_ps - span.start_ps)));
  ++spans_;
}

void ChromeTrace::finish() {
  write("\n]}\n");
  const bool flushed = std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    std::remove(staging_.c_str());
    throw_runtime("--trace {}: write failed", path_);
  }
  std::error_code ec;
  std::filesystem::rename(staging_, path_, ec);
  if (ec) {
    std::remove(staging_.c_str());
    throw_bad_input("--trace {}: cannot write the file ({})", path_, ec.message());
  }
}

}  // namespace aimc::sim
