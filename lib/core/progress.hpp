// The progress line on stderr, and number and size formatting for summaries.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// "1,234,567".
std::string format_count(uint64_t n);
/// "45.1 MB" (decimal units, as rates are usually quoted).
std::string format_bytes(uint64_t n);
/// "0:07", "1:02:03".
std::string format_duration(double seconds);

/// Where a long job stands, for the progress line.
struct progress_state {
    uint64_t rows = 0;          ///< rows sent so far (when known)
    bool rows_known = true;     ///< false for formats whose rows are not counted on the way
    uint64_t bytes = 0;         ///< bytes sent so far
    uint64_t input_bytes = 0;   ///< bytes consumed from the inputs (compressed, if they are)
    std::optional<uint64_t> input_total; ///< total input size, when every input is a regular file
    std::vector<uint64_t> job_rows; ///< rows committed by each parallel job (pgcopy --jobs), when more than one
};

/// Renders one progress line (no prefix, no line ending).
std::string render_progress(const progress_state& state, double elapsed_seconds);

/// Prints progress on stderr at most a few times a second: redrawn in place
/// on a terminal, one line a second otherwise (when asked for).
class progress_meter {
public:
    /// A meter that prints only when enabled.
    explicit progress_meter(bool enabled);
    /// Offers a new state (once per chunk: a clock read is cheap at that
    /// rate); prints only when enough time has passed.
    void update(const progress_state& state) {
        if (m_enabled)
            maybe_print(state);
    }
    /// Clears the line; call before printing the summary.
    void finish();
    /// Seconds since the meter was made.
    double elapsed() const;

private:
    void maybe_print(const progress_state& state);

    bool m_enabled;
    bool m_terminal;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last;
};

/// Whether progress is shown: forced on or off, else on when stderr is a terminal.
bool progress_wanted(bool force_on, bool force_off, bool quiet);

} // namespace pgpipe
