// A routed load's reader: reads the inputs, cuts them into pieces at row ends, and routes each row by its key.
#pragma once

#include "route_context.hpp"
#include "route_pool.hpp"
#include "route_keys.hpp"
#include "io/copy_fields.hpp"
#include "io/input.hpp"
#include "io/row_splitter.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// Reads the inputs into pieces from the pool, routes every row to its
/// destination (or sets it aside), and hands each piece to `cut`; keeps
/// the places of rows (lines over all inputs, a line log per destination
/// in one transaction) that failures are said at.
class route_reader {
public:
    /// The pieces come from pool; cut takes each one routed.
    route_reader(const route_context& context, const destination_streams& streams, piece_pool& pool,
                 std::function<void(piece&)> cut, std::unique_ptr<input_stream> first);
    /// Reads input index to its end, handing on its pieces.
    void read_input(size_t index);
    /// Routes p's rows (and the \. lines released to it).
    void route(piece& p);
    /// The next row's line in the current input.
    uint64_t line() const { return m_line; }
    /// The input and its line of a line counted over all inputs.
    std::pair<size_t, uint64_t> place_of(uint64_t global_line) const;
    /// One transaction: the lines of the rows destination d was sent.
    const line_log& lines(size_t d) const { return m_lines[d]; }
    /// The unit committed: its line logs are forgotten.
    void clear_lines();

private:
    void take_rows(piece*& p, size_t index, bool at_end);
    void route_row(piece& p, size_t k, uint64_t line);
    bool read_key(std::string_view row, key_value& key);
    void no_partition(piece& p, size_t k, uint64_t line, const key_value& key);
    void reject_here(piece& p, std::string_view bytes, uint64_t line, uint64_t offset, const char* sqlstate,
                     const std::string& message, const std::string& detail);
    void mark_committed(piece& p);
    const char* refusal(const piece& p, size_t end, const end_marker* marker);
    bool refuse_marker(piece*& p, size_t index, size_t end, const end_marker* marker, bool header,
                       const std::string& input);
    void end_input(piece* p, size_t index, bool ended_by_marker);
    uint64_t take_marker_row(piece& p, size_t end, const end_marker& m, bool header);
    void hold_marker(piece*& p, size_t index, size_t end, const end_marker& m, bool header);

    // --reject-file: a \. line before the end of an input is rejected, as
    // the engine rejects it (22P04): held until data follows it, then
    // released to the next batch routed.
    struct held_marker {
        uint64_t line = 0, offset = 0;
        std::string text;
    };

    const route_context& m_context;
    const destination_streams& m_streams;
    piece_pool& m_pool;
    std::function<void(piece&)> m_cut;
    std::unique_ptr<input_stream> m_first;
    std::unique_ptr<row_splitter> m_splitter;
    key_value m_key;
    copy_field_reader m_fields;         // reads the keys
    std::vector<uint64_t> m_input_base; // global line before each input's first line
    uint64_t m_line = 1;                // the next row's line in the current input
    char m_newline = 0;                 // its first line's end: '\n', or '\r' for \r\n
    std::optional<held_marker> m_held;
    std::vector<held_marker> m_released;
    std::vector<line_log> m_lines; // per destination, for the current unit (one transaction)
};

} // namespace pgpipe
