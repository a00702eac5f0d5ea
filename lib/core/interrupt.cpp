#include "core/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>
#include <unistd.h>

namespace pgpipe {
namespace {

volatile std::sig_atomic_t g_signal = 0;
std::atomic<PGcancel*> g_cancel{nullptr};

extern "C" void on_interrupt(int signal_number) {
    int saved_errno = errno;
    g_signal = signal_number;
    if (PGcancel* cancel = g_cancel.load()) {
        char errbuf[256];
        PQcancel(cancel, errbuf, sizeof errbuf);
    }
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

void die_by_signal(int signal_number) {
    std::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
    _exit(128 + signal_number); // not reached unless the signal is blocked
}

cancel_target::cancel_target(PGconn* conn) : m_cancel(PQgetCancel(conn)) { g_cancel.store(m_cancel); }

cancel_target::~cancel_target() {
    g_cancel.store(nullptr);
    if (m_cancel)
        PQfreeCancel(m_cancel);
}

} // namespace pgpipe
