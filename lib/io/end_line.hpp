// The end line: a producer's "I finished" as the last line of its output
// (\. , PostgreSQL's own end of COPY data), which --require-end insists on.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace pgpipe {

/// The end line as written: pggen --end-line, pgrec --end-line.
inline constexpr std::string_view end_line_text = "\\.\n";

/// Whether line (its line end included or not) is the end line \. alone.
inline bool is_end_line(std::string_view line) {
    if (line.ends_with('\n'))
        line.remove_suffix(1);
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    return line == "\\.";
}

/// --require-end: input ended without its end line, so its producer did
/// not say it finished (it died, failed, or was cut off).
error missing_end_line(const std::string& input);

/// --require-end: something other than blank lines after the end line at end_line.
error data_after_end_line(const std::string& input, uint64_t line, uint64_t end_line);

/// An input's end line as it is read: one per input, nothing after it.
class end_line_watch {
public:
    /// Watches input (its name in messages); required: its end must come.
    end_line_watch(std::string input, bool required) : m_input(std::move(input)), m_required(required) {}
    /// Line number (1-based) and text of a line that is not blank: true
    /// when it is the end line (not a record); throws when it follows one.
    bool take(uint64_t number, std::string_view line) {
        if (m_seen_at)
            throw data_after_end_line(m_input, number, m_seen_at);
        if (!is_end_line(line))
            return false;
        m_seen_at = number;
        return true;
    }
    /// The input ended: throws when the end line was required and did not come.
    void finish() const {
        if (m_required && !m_seen_at)
            throw missing_end_line(m_input);
    }

private:
    std::string m_input;
    bool m_required;
    uint64_t m_seen_at = 0; // the end line's number, 0 before it
};

} // namespace pgpipe
