// Child processes: fork, exec with a report pipe for exec failures, wait.
#include "core/process.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace pgpipe {
namespace {

// The log file the child writes to, or -1 when it inherits the parent's.
int open_log(bool redirect, const std::string& log_path) {
    if (!redirect || log_path.empty())
        return -1;
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        throw local_error("could not open \"" + log_path + "\": " + std::strerror(errno));
    return log_fd;
}

// In the forked child: default signal dispositions, stdin from /dev/null
// and output to log_fd when redirected, then exec. A failed exec writes its
// errno to report_fd for the parent.
[[noreturn]] void exec_child(std::vector<char*>& args, bool redirect, int log_fd, int report_fd) {
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        std::signal(sig, SIG_DFL);
    if (redirect) {
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0)
            ::dup2(null_fd, STDIN_FILENO);
        if (log_fd >= 0) {
            ::dup2(log_fd, STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
        }
    }
    ::execvp(args[0], args.data());
    int err = errno;
    (void)!::write(report_fd, &err, sizeof err);
    _exit(127);
}

// The errno of a failed exec, read from the report pipe; 0 when the exec
// worked (the pipe closed on exec without a word).
int read_exec_errno(int report_fd) {
    int exec_errno = 0;
    ssize_t got;
    do
        got = ::read(report_fd, &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    ::close(report_fd);
    return got == sizeof exec_errno ? exec_errno : 0;
}

// Waits for pid and says how it ended; name is for messages.
process_result wait_for(pid_t pid, const std::string& name) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw local_error(std::string("could not wait for \"") + name + "\": " + std::strerror(errno));
    }
    process_result result;
    if (WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        result.signal = WTERMSIG(status);
    return result;
}

process_result spawn_and_wait(const std::vector<std::string>& argv, bool redirect, const std::string& log_path) {
    if (argv.empty())
        throw local_error("no command to run");
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int log_fd = open_log(redirect, log_path);
    // A pipe whose write end closes on exec tells the parent whether exec worked.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        throw local_error(std::string("could not create a pipe: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0)
        throw local_error(std::string("could not fork: ") + std::strerror(errno));
    if (pid == 0)
        exec_child(args, redirect, log_fd, report[1]);
    ::close(report[1]);
    if (log_fd >= 0)
        ::close(log_fd);
    int exec_errno = read_exec_errno(report[0]);
    process_result result = wait_for(pid, argv[0]);
    if (exec_errno)
        throw local_error("could not run \"" + argv[0] + "\": " + std::strerror(exec_errno));
    return result;
}

} // namespace

process_result run_process(const std::vector<std::string>& argv, const std::string& log_path) {
    return spawn_and_wait(argv, true, log_path);
}

process_result run_process_inherited(const std::vector<std::string>& argv) {
    return spawn_and_wait(argv, false, {});
}

std::string describe(const process_result& result) {
    if (result.signal)
        return "was killed by signal " + std::to_string(result.signal) + " (" + strsignal(result.signal) + ")";
    return "exited with status " + std::to_string(result.exit_code);
}

} // namespace pgpipe
