// Signal handlers that set a flag and run one signal-safe action, async-signal-safe.
#include "core/interrupt.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>

namespace pgpipe {
namespace {

volatile std::sig_atomic_t g_signal = 0;
std::atomic<void (*)()> g_action{nullptr};

extern "C" void on_interrupt(int signal_number) {
    int saved_errno = errno;
    g_signal = signal_number;
    if (void (*action)() = g_action.load())
        action();
    errno = saved_errno;
}

const char* signal_name(int signal_number) {
    switch (signal_number) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
    }
}

} // namespace

interrupted::interrupted(int signal_number, std::string detail)
    : error(exit_status::local_error, std::string("interrupted by ") + signal_name(signal_number),
            std::move(detail)),
      m_signal(signal_number) {}

void install_interrupt_handlers() {
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: a read blocked on a quiet pipe must return EINTR so that
    // the loader notices the signal and rolls back.
    action.sa_flags = 0;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGHUP, &action, nullptr);
}

int pending_interrupt() noexcept { return g_signal; }

void throw_if_interrupted() {
    if (g_signal)
        throw interrupted(g_signal);
}

void sleep_unless_interrupted(double seconds) {
    using clock = std::chrono::steady_clock;
    const auto end = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    for (;;) {
        throw_if_interrupted();
        const auto now = clock::now();
        if (now >= end)
            return;
        std::this_thread::sleep_for(std::min<clock::duration>(end - now, std::chrono::milliseconds(100)));
    }
}

void die_by_signal(int signal_number) {
    std::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
    _exit(128 + signal_number); // not reached unless the signal is blocked
}

void set_interrupt_action(void (*action)()) { g_action.store(action); }

} // namespace pgpipe
