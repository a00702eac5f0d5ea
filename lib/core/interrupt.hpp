// Ctrl-C and SIGTERM: a flag, and cancel requests to every open connection.
#pragma once

#include "core/error.hpp"

#include <libpq-fe.h>

#include <string>

namespace pgpipe {

/// Thrown when SIGINT or SIGTERM arrived during work; maps to a non-zero exit.
class interrupted : public error {
public:
    /// The failure for the given signal number.
    explicit interrupted(int signal_number, std::string detail = {});
    /// The signal that stopped the work.
    int signal_number() const noexcept { return m_signal; }

private:
    int m_signal;
};

/// Installs SIGINT/SIGTERM handlers that set a flag (and cancel the running
/// query, see cancel_target) instead of killing the process, so that a COPY
/// can be aborted and its transaction rolled back first.
void install_interrupt_handlers();
/// The signal received since install_interrupt_handlers, or 0.
int pending_interrupt() noexcept;
/// Throws interrupted if a signal has arrived.
void throw_if_interrupted();
/// Waits for seconds, throwing interrupted as soon as a signal arrives (a
/// plain sleep resumes after the handler and would hold Ctrl-C for its length).
void sleep_unless_interrupted(double seconds);
/// Ends the process by the signal that interrupted it, as a shell expects.
[[noreturn]] void die_by_signal(int signal_number);

/// While alive, a signal also sends a cancel request to this connection's
/// running query (PQcancel is safe in a signal handler). Every open
/// connection holds one, so Ctrl-C stops the statements of every path:
/// the streamed and batched loads, each --jobs connection, pginsert, pgrec.
class cancel_target {
public:
    /// Registers conn's cancel handle in a free slot (of 128).
    explicit cancel_target(PGconn* conn);
    /// Unregisters it, waits for a signal handler that may be using it, frees it.
    ~cancel_target();
    cancel_target(const cancel_target&) = delete;
    cancel_target& operator=(const cancel_target&) = delete;

private:
    PGcancel* m_cancel;
    int m_slot = -1;
};

} // namespace pgpipe
