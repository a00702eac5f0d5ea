// Ctrl-C and SIGTERM: a flag, and one signal-safe action (lib/pg cancels the running queries).
#pragma once

#include "core/error.hpp"

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

/// Installs SIGINT/SIGTERM handlers that set a flag (and run the interrupt
/// action: lib/pg's cancel_target cancels the running queries) instead of
/// killing the process, so that a COPY can be aborted and its transaction
/// rolled back first.
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

/// Sets what the signal handler does after setting the flag: one function,
/// async-signal-safe, set before the work it stops starts (lib/pg sets the
/// one that cancels every open connection's running query).
void set_interrupt_action(void (*action)());

} // namespace pgpipe
