// The one transaction's open COPY: batches of one input (or script block),
// or a routed load's parts for one destination, sent into one streamed
// COPY, and the input line of a row the server refused.
#pragma once

#include "batch.hpp"
#include "copy_in.hpp"
#include "load_context.hpp"
#include "io/copy_format.hpp"

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pgpipe {

/// A COPY kept open from batch to batch, as one streamed COPY; a refused
/// row is named by its FILE:LINE although the server counts lines of the
/// whole stream.
class copy_stream {
public:
    /// A stream of the load ctx describes (not open yet); label (a routed
    /// destination's "NAME on SERVER") goes before a refused row's message.
    explicit copy_stream(const load_context& ctx, std::string label = {}) : m_ctx(ctx), m_label(std::move(label)) {}

    /// Whether a COPY is open.
    bool open() const { return m_copy.has_value(); }
    /// Whether the open COPY takes rows of input with sql.
    bool takes(const std::string& sql, size_t input) const { return sql == m_sql && input == m_input; }
    /// Opens COPY sql on c for the rows of b's input.
    void begin(connection& c, const std::string& sql, const batch& b);
    /// Sends b's rows into the open COPY.
    void send(const batch& b);
    /// Sends parts[k]'s rows into streams[k]'s open COPY, all at once
    /// (put_together); a row a server refused is named by its FILE:LINE.
    static void send_together(std::span<copy_stream* const> streams, std::span<const batch* const> parts);
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
        uint64_t first_line;                 // of its first row (a routed part's rows: in lines)
        uint64_t server_lines_before = 0;    // the server's line count before it (copy_line_counter)
        std::vector<multiline_row> multiline; // CSV: its rows that span lines
        bool part = false;                    // a routed part's rows (lines here and there): ...
        std::string lines;                    // ... each row's input line, logged (copy_stream.cpp)
    };
    static uint64_t line_in(const segment& s, uint64_t row, uint64_t physical);
    void note(const batch& b);
    void count_lines(const batch& b, segment& s);
    std::optional<error> named(const server_error& e); // e with the FILE:LINE of the row it names; the COPY ends
    std::pair<size_t, uint64_t> row_of(uint64_t server_line) const; // segment, input line

    const load_context& m_ctx;
    const std::string m_label;
    std::optional<copy_in_session> m_copy;
    std::string m_sql;
    size_t m_input = 0;
    bool m_binary = false;
    std::vector<segment> m_segments;
    std::optional<copy_line_counter> m_lines;
    uint64_t m_lines_total = 0; // the server's line count of the stream so far
    uint64_t m_logged = 0;      // bytes of the parts' line logs (capped: past it a row goes unnamed)
};

} // namespace pgpipe
