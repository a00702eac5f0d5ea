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

process_result spawn_and_wait(const std::vector<std::string>& argv, bool redirect, const std::string& log_path) {
    if (argv.empty())
        throw local_error("no command to run");
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int log_fd = -1;
    if (redirect && !log_path.empty()) {
        log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0)
            throw local_error("could not open \"" + log_path + "\": " + std::strerror(errno));
    }
    // A pipe whose write end closes on exec tells the parent whether exec worked.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        throw local_error(std::string("could not create a pipe: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0)
        throw local_error(std::string("could not fork: ") + std::strerror(errno));
    if (pid == 0) {
        std::signal(SIGPIPE, SIG_DFL);
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        std::signal(SIGHUP, SIG_DFL);
        std::signal(SIGQUIT, SIG_DFL);
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
        (void)!::write(report[1], &err, sizeof err);
        _exit(127);
    }
    ::close(report[1]);
    if (log_fd >= 0)
        ::close(log_fd);
    int exec_errno = 0;
    ssize_t got;
    do
        got = ::read(report[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    ::close(report[0]);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw local_error(std::string("could not wait for \"") + argv[0] + "\": " + std::strerror(errno));
    }
    if (got == sizeof exec_errno)
        throw local_error("could not run \"" + argv[0] + "\": " + std::strerror(exec_errno));
    process_result result;
    if (WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        result.signal = WTERMSIG(status);
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
