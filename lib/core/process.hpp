// Child processes: run a program without a shell and say how it ended.
#pragma once

#include <string>
#include <vector>

namespace pgpipe {

/// How a child process ended.
struct process_result {
    int exit_code = -1;   ///< exit status, or -1 if killed by a signal
    int signal = 0;       ///< the signal that killed it, or 0
    /// Whether it exited with status 0.
    bool ok() const noexcept { return exit_code == 0; }
};

/// Runs argv (no shell) and waits. The child's stdout and stderr go to
/// log_path (appended) when given, else are inherited; stdin is /dev/null.
/// Throws local_error if the program cannot be started.
process_result run_process(const std::vector<std::string>& argv, const std::string& log_path = {});

/// Runs argv (no shell) with stdin, stdout and stderr inherited and returns
/// how it ended; used to wrap a user's command.
process_result run_process_inherited(const std::vector<std::string>& argv);

/// Describes how a process ended: "exited with status 1", "was killed by signal 9".
std::string describe(const process_result& result);

} // namespace pgpipe
