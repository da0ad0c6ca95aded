// Runs the `aimc` binary as a user would, capturing its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace aimc::test {

struct CliRun {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};

// `args` follows the binary's path on a shell command line. stderr goes through a file unique
// to this process and call, since ctest runs several test binaries at once.
inline CliRun run_aimc(const std::string& args) {
  static int calls = 0;
  const std::string err_file =
      (std::filesystem::temp_directory_path() /
       ("aimc_cli_stderr_" + std::to_string(getpid()) + "_" + std::to_string(calls++)))
          .string();
  const std::string command = std::string(AIMC_BINARY) + " " + args + " 2>" + err_file;
  CliRun run;
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  err.close();
  std::filesystem::remove(err_file);
  return run;
}

}  // namespace aimc::test
