// The family's errors and exit statuses.
#pragma once

#include <stdexcept>
#include <string>

namespace pgpipe {

/// The family's exit codes (docs/design.md); the only statuses a program returns.
enum class exit_status : int {
    success = 0,        ///< everything was done
    local_error = 1,    ///< bad option, unreadable input, bad spec
    server_error = 2,   ///< connection failed or lost, or the server refused the load
    rows_rejected = 3,  ///< finished, but some rows went to the reject file
};

/// An error that ends a program: a message plus the exit status it maps to.
class error : public std::runtime_error {
public:
    /// A failure with its exit status, optional detail and hint lines.
    error(exit_status status, const std::string& message, std::string detail = {},
          std::string hint = {})
        : std::runtime_error(message), m_status(status), m_detail(std::move(detail)),
          m_hint(std::move(hint)) {}

    /// The exit status this failure maps to.
    exit_status status() const noexcept { return m_status; }
    /// A second line with specifics, or empty.
    const std::string& detail() const noexcept { return m_detail; }
    /// A line suggesting what to do, or empty.
    const std::string& hint() const noexcept { return m_hint; }
    /// Where it happened (a server CONTEXT), or empty.
    const std::string& context() const noexcept { return m_context; }
    /// Attaches a context line.
    void set_context(std::string context) { m_context = std::move(context); }
    /// Whether the command line was at fault: the program then adds its
    /// `Try "PROG --help"` line.
    bool usage() const noexcept { return m_usage; }
    /// Marks the failure as the command line's.
    error& mark_usage() noexcept {
        m_usage = true;
        return *this;
    }

private:
    bool m_usage = false;
    exit_status m_status;
    std::string m_detail;
    std::string m_hint;
    std::string m_context;
};

/// A bad command line (exit 1), found after parsing: an option's value or a
/// combination of options.
inline error usage_failure(const std::string& message, std::string detail = {}, std::string hint = {}) {
    return error(exit_status::local_error, message, std::move(detail), std::move(hint)).mark_usage();
}

/// A local failure (exit 1): unreadable input, bad spec, bad option value.
inline error local_error(const std::string& message, std::string detail = {},
                         std::string hint = {}) {
    return error(exit_status::local_error, message, std::move(detail), std::move(hint));
}

} // namespace pgpipe
