// The one transaction's open COPY: batches of one input (or script block)
// sent into one streamed COPY, and the input line of a row the server refused.
#pragma once

#include "batch.hpp"
#include "copy_in.hpp"
#include "load_context.hpp"
#include "io/copy_format.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgpipe {

/// A COPY kept open from batch to batch, as one streamed COPY; a refused
/// row is named by its FILE:LINE although the server counts lines of the
/// whole stream.
class copy_stream {
public:
    /// A stream of the load ctx describes (not open yet).
    explicit copy_stream(const load_context& ctx) : m_ctx(ctx) {}

    /// Whether a COPY is open.
    bool open() const { return m_copy.has_value(); }
    /// Whether the open COPY takes rows of input with sql.
    bool takes(const std::string& sql, size_t input) const { return sql == m_sql && input == m_input; }
    /// Opens COPY sql on c for the rows of b's input.
    void begin(connection& c, const std::string& sql, const batch& b);
    /// Sends b's rows into the open COPY.
    void send(const batch& b);
    /// Whether b's last row lacks a line end (the data before a \.): the
    /// COPY must end there, or the next block's rows would run on from it.
    bool ends_unterminated(const batch& b) const {
        return !m_binary && b.bytes[b.starts.back() - 1] != '\n';
    }
    /// Ends the open COPY: the rows it loaded, or nullopt when none was
    /// open. A row the server refused is named by its FILE:LINE.
    std::optional<uint64_t> end();
    /// Drops the open COPY (the transaction is being rolled back).
    void abort() { m_copy.reset(); }

private:
    // A row whose server line count or input line count is not one (CSV
    // quotes holding newlines): the few that need telling apart.
    struct multiline_row {
        uint64_t row;            // in the segment
        uint64_t server_extra;   // lines the server counts beyond one
        uint64_t physical_extra; // newlines of the input beyond its line end
    };
    // Where a batch's rows came from (for FILE:LINE): a line of m_input, as
    // the COPY of one input ends where the next begins.
    struct segment {
        uint64_t first_line;
        uint64_t server_lines_before = 0;    // the server's line count before it (copy_line_counter)
        std::vector<multiline_row> multiline; // CSV: its rows that span lines
    };
    void count_lines(const batch& b, segment& s);
    std::pair<size_t, uint64_t> row_of(uint64_t server_line) const; // segment, input line

    const load_context& m_ctx;
    std::optional<copy_in_session> m_copy;
    std::string m_sql;
    size_t m_input = 0;
    bool m_binary = false;
    std::vector<segment> m_segments;
    std::optional<copy_line_counter> m_lines;
    uint64_t m_lines_total = 0; // the server's line count of the stream so far
};

} // namespace pgpipe
