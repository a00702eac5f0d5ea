// The one transaction's streamed COPY, and naming the row it refused.
#include "copy_stream.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace pgpipe {

void copy_stream::begin(connection& c, const std::string& sql, const batch& b) {
    m_copy.emplace(c, sql);
    m_sql = sql;
    m_input = b.input_index;
    m_binary = m_ctx.format.format == copy_format::binary;
    m_segments.clear();
    m_lines.emplace(m_ctx.format.format == copy_format::csv);
    m_lines_total = 0;
    if (m_binary)
        m_copy->put(b.header.data(), b.header.size());
}

void copy_stream::send(const batch& b) {
    m_segments.push_back({b.first_line, 0, {}});
    count_lines(b, m_segments.back());
    for (size_t from = b.starts.front(); from < b.starts.back(); from += read_chunk)
        m_copy->put(b.bytes.data() + from, std::min<size_t>(b.starts.back() - from, read_chunk));
}

// The server's line count of the stream's rows, and the rows among them
// that span lines (CSV), for naming a refused row by its input line.
void copy_stream::count_lines(const batch& b, segment& s) {
    s.server_lines_before = m_lines_total;
    if (m_binary || m_ctx.format.format != copy_format::csv) {
        m_lines_total += b.rows(); // one line per row, as the server counts
        return;
    }
    for (size_t k = 0; k < b.rows(); ++k) {
        const uint64_t line = m_lines->add(b.row(k));
        const uint64_t extra = line - m_lines_total - 1, physical = m_lines->extra_newlines();
        if (extra || physical)
            s.multiline.push_back({k, extra, physical});
        m_lines_total = line;
    }
}

// The segment and input line of the row the server's line names (its first line).
std::pair<size_t, uint64_t> copy_stream::row_of(uint64_t server_line) const {
    const auto it = std::prev(std::upper_bound(
        m_segments.begin(), m_segments.end(), server_line - 1,
        [](uint64_t line, const segment& s) { return line < s.server_lines_before; }));
    uint64_t counted = it->server_lines_before, row = 0, physical = 0;
    for (const multiline_row& m : it->multiline) {
        if (counted + (m.row - row) >= server_line)
            break; // among the one-line rows before m
        counted += m.row - row;
        row = m.row;
        if (counted + 1 + m.server_extra >= server_line)
            return {static_cast<size_t>(it - m_segments.begin()), it->first_line + row + physical};
        counted += 1 + m.server_extra;
        physical += m.physical_extra;
        ++row;
    }
    row += server_line - counted - 1;
    return {static_cast<size_t>(it - m_segments.begin()), it->first_line + row + physical};
}

std::optional<uint64_t> copy_stream::end() {
    if (!m_copy)
        return std::nullopt;
    try {
        if (m_binary) {
            static const std::string trailer = binary_copy_trailer();
            m_copy->put(trailer.data(), trailer.size());
        }
        const uint64_t rows = m_copy->finish();
        m_copy.reset();
        return rows;
    } catch (const server_error& e) {
        m_copy.reset();
        std::optional<uint64_t> line = copy_context_line(e.context());
        if (!line || *line == 0 || *line > m_lines_total)
            throw;
        const uint64_t input_line = row_of(*line).second;
        error annotated(e.status(),
                        m_ctx.input_name(m_input) + ":" + std::to_string(input_line) + ": " +
                            escape_line_ends(e.what()),
                        e.detail(), e.hint());
        annotated.set_context(e.context());
        throw annotated;
    }
}

} // namespace pgpipe
