// The progress line on stderr, and number and size formatting for summaries.
#include "core/progress.hpp"

#include "core/log.hpp"

#include <cstdio>
#include <unistd.h>

namespace pgpipe {

std::string format_count(uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    int since_comma = static_cast<int>(digits.size() % 3);
    if (since_comma == 0)
        since_comma = 3;
    for (char c : digits) {
        if (since_comma == 0) {
            out += ',';
            since_comma = 3;
        }
        out += c;
        --since_comma;
    }
    return out;
}

std::string format_bytes(uint64_t n) {
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double value = static_cast<double>(n);
    int unit = 0;
    while (value >= 1000.0 && unit < 5) {
        value /= 1000.0;
        ++unit;
    }
    char buf[32];
    if (unit == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
    return buf;
}

std::string format_duration(double seconds) {
    if (seconds < 0)
        seconds = 0;
    auto total = static_cast<unsigned long long>(seconds + 0.5);
    char buf[32];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", total / 3600, (total / 60) % 60, total % 60);
    else
        std::snprintf(buf, sizeof buf, "%llu:%02llu", total / 60, total % 60);
    return buf;
}

std::string render_progress(const progress_state& s, double elapsed) {
    std::string line;
    double secs = elapsed > 0.001 ? elapsed : 0.001;
    if (s.rows_known)
        line += format_count(s.rows) + " rows  ";
    line += format_bytes(s.bytes);
    if (s.rows_known)
        line += "  " + format_count(static_cast<uint64_t>(static_cast<double>(s.rows) / secs)) + " rows/s";
    line += "  " + format_bytes(static_cast<uint64_t>(static_cast<double>(s.bytes) / secs)) + "/s";
    if (s.job_rows.size() > 1) {
        line += "  jobs:";
        for (uint64_t rows : s.job_rows)
            line += " " + format_count(rows);
    }
    if (s.input_total && *s.input_total > 0) {
        double fraction = static_cast<double>(s.input_bytes) / static_cast<double>(*s.input_total);
        if (fraction > 1)
            fraction = 1;
        char pct[16];
        std::snprintf(pct, sizeof pct, "  %3d%%", static_cast<int>(fraction * 100));
        line += pct;
        if (fraction > 0.001)
            line += "  ETA " + format_duration(elapsed / fraction - elapsed);
    }
    return line;
}

progress_meter::progress_meter(bool enabled)
    : m_enabled(enabled), m_terminal(isatty(STDERR_FILENO) != 0),
      m_start(std::chrono::steady_clock::now()), m_last(m_start) {}

double progress_meter::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

void progress_meter::maybe_print(const progress_state& state) {
    auto now = std::chrono::steady_clock::now();
    // About five redraws a second on a terminal; a line a second in a log.
    auto interval = m_terminal ? std::chrono::milliseconds(200) : std::chrono::milliseconds(1000);
    if (now - m_last < interval)
        return;
    m_last = now;
    std::string line = std::string(program_name()) + ": " +
                       render_progress(state, std::chrono::duration<double>(now - m_start).count());
    if (m_terminal) {
        // Pad so that a shorter line wipes the end of a longer one.
        if (line.size() < 79)
            line.append(79 - line.size(), ' ');
        log_raw("\r" + line);
        m_drawn = true;
    } else {
        log_raw(line + "\n");
    }
}

void progress_meter::finish() {
    if (m_drawn) {
        log_raw("\r" + std::string(79, ' ') + "\r");
        m_drawn = false;
    }
}

bool progress_wanted(bool force_on, bool force_off, bool quiet_mode) {
    if (force_off || quiet_mode)
        return false;
    return force_on || isatty(STDERR_FILENO);
}

} // namespace pgpipe
