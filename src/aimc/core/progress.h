// A one-line progress bar on stderr, drawn only when stderr is a terminal (never into logs or
// pipes), at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace aimc {

class ProgressBar {
 public:
  // enabled = false draws nothing (e.g. --json, or a caller that wants silence).
  ProgressBar(std::string label, int64_t total, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(int64_t done);
  // Clears the line; called by the destructor too.
  void finish();

 private:
  void draw(int64_t done);

  std::string label_;
  int64_t total_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace aimc
