#pragma once

// Runs the real catalog-api binary as a child process for tests of the CLI,
// signals and exit codes.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace catalog::testing {

class ChildProcess {
 public:
  /// Starts `argv` with exactly `env` as its environment; stdout+stderr go to a file.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int sig);
  /// Exit code, or -1 if it did not exit within `timeout` (then it is killed), or 128+signal.
  int wait(std::chrono::milliseconds timeout);
  /// Everything the child printed so far.
  std::string output() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string output_path_;
  bool reaped_ = false;
  bool keep_output_ = false;  ///< CATALOG_TEST_LOG_DIR set: the output file outlives the test
};

/// Runs to completion (at most `timeout`); returns {exit code, output}.
std::pair<int, std::string> run_process(const std::vector<std::string>& argv,
                                        const std::map<std::string, std::string>& env,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_port();

}  // namespace catalog::testing
