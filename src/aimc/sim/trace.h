// Chrome trace JSON (the Trace Event Format that chrome://tracing and Perfetto read) of a
// simulated run: one complete event ("ph": "X") per executed instruction on its core's unit,
// one per message hop on its link; processes are cores (and "network"), threads their units.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "aimc/sim/simulator.h"

namespace aimc::sim {

class ChromeTrace {
 public:
  // Writes into a staging file beside `path`; finish() renames it to `path`. Destroyed
  // without finish() (an error midway), it removes the staging file: no half-written trace.
  explicit ChromeTrace(std::string path);
  ~ChromeTrace();
  ChromeTrace(const ChromeTrace&) = delete;
  ChromeTrace& operator=(const ChromeTrace&) = delete;

  void add(const TraceSpan& span);
  TraceSink sink() {
    return [this](const TraceSpan& span) { add(span); };
  }
  void finish();
  int64_t spans() const { return spans_; }

 private:
  int thread_id(int64_t pid, const std::string& lane);
  void write(const std::string& text);

  std::string path_, staging_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  std::map<std::pair<int64_t, std::string>, int> threads_;
  std::map<int64_t, int> next_thread_;
  std::map<const std::string*, std::string> layer_json_;
  int64_t spans_ = 0;
  bool first_ = true;
};

}  // namespace aimc::sim
