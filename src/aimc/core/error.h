// Errors with context. Every error aimc reports to a user is an aimc::Error whose message
// names the file, node or key at fault; its kind decides the process exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace aimc {

enum class ErrorKind {
  kBadInput,  // the user's model, data, YAML or flags are wrong: exit code 2
  kRuntime,   // a failure while doing valid work: exit code 1
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return kind_ == ErrorKind::kBadInput ? 2 : 1; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void throw_bad_input(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ErrorKind::kBadInput, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void throw_runtime(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ErrorKind::kRuntime, fmt::format(format, std::forward<Args>(args)...));
}

// Prefixes the message of an aimc::Error with context ("model.onnx: node 'x': ...") and
// rethrows it with the same kind.
[[noreturn]] inline void rethrow_with_context(const Error& error, const std::string& context) {
  throw Error(error.kind(), context + ": " + error.what());
}

}  // namespace aimc

// Internal invariant: a failure is a bug in aimc, not in the user's input.
#define AIMC_ASSERT(cond, ...)                                                 \
  do {                                                                         \
    if (!(cond))                                                               \
      ::aimc::throw_runtime("internal error at {}:{}: {}", __FILE__, __LINE__, \
                            fmt::format(__VA_ARGS__));                         \
  } while (0)
