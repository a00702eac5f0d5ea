// The one transaction's streamed COPY, and naming the row it refused.
#include "copy_stream.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

// A routed part's rows come from lines here and there in the whole batch:
// each row's line is logged as its distance from the row before, in
// varint bytes (one, mostly), so that a long stream's log stays small.
constexpr uint64_t line_log_cap = 64 << 20; // per stream; past it a refused row goes unnamed

void log_line(std::string& log, uint64_t distance) {
    do {
        log.push_back(static_cast<char>((distance & 0x7f) | (distance > 0x7f ? 0x80 : 0)));
        distance >>= 7;
    } while (distance);
}

// The line of row n of a log of rows 1 onwards, row 0 at line first.
uint64_t logged_line(const std::string& log, uint64_t first, uint64_t n) {
    uint64_t line = first;
    for (size_t i = 0, row = 0; i < log.size() && row < n; ++row) {
        uint64_t distance = 0;
        for (int shift = 0; i < log.size(); shift += 7) {
            const auto byte = static_cast<unsigned char>(log[i++]);
            distance |= static_cast<uint64_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                break;
        }
        line += distance;
    }
    return line;
}

} // namespace

void copy_stream::begin(connection& c, const std::string& sql, const batch& b) {
    m_copy.emplace(c, sql);
    m_sql = sql;
    m_input = b.input_index;
    m_binary = m_ctx.format.format == copy_format::binary;
    m_segments.clear();
    m_lines.emplace(m_ctx.format.format == copy_format::csv);
    m_lines_total = 0;
    m_logged = 0;
    if (m_binary)
        m_copy->put(b.header.data(), b.header.size());
}

void copy_stream::send(const batch& b) {
    note(b);
    for (size_t from = b.starts.front(); from < b.starts.back(); from += read_chunk)
        m_copy->put(b.bytes.data() + from, std::min<size_t>(b.starts.back() - from, read_chunk));
}

void copy_stream::send_together(std::span<copy_stream* const> streams, std::span<const batch* const> parts) {
    std::vector<copy_in_session*> sessions;
    std::vector<std::string_view> data;
    for (size_t k = 0; k < streams.size(); ++k) {
        streams[k]->note(*parts[k]);
        sessions.push_back(&*streams[k]->m_copy);
        data.push_back(parts[k]->rows_bytes());
    }
    if (std::optional<put_failure> failed = put_together(sessions, data)) {
        if (std::optional<error> annotated = streams[failed->index]->named(failed->error))
            throw *annotated;
        throw failed->error;
    }
}

// A segment for b's rows: where they start in the server's count, and
// (a routed part) each row's input line.
void copy_stream::note(const batch& b) {
    m_segments.push_back({b.whole && b.rows() ? b.line_of(0) : b.first_line, 0, {}, false, {}});
    segment& s = m_segments.back();
    count_lines(b, s);
    if (!b.whole)
        return;
    s.part = true;
    if (m_logged >= line_log_cap) {
        s.first_line = 0; // unknown: a refused row goes unnamed
        return;
    }
    for (size_t k = 1, before = s.first_line; k < b.rows(); ++k) {
        const uint64_t line = b.line_of(k);
        log_line(s.lines, line - before);
        before = line;
    }
    m_logged += s.lines.size();
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

// The input line of a segment's row, after rows spanning physical lines more than one.
uint64_t copy_stream::line_in(const segment& s, uint64_t row, uint64_t physical) {
    if (!s.part)
        return s.first_line + row + physical;
    return s.first_line ? logged_line(s.lines, s.first_line, row) : 0; // a part's rows: as logged
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
            return {static_cast<size_t>(it - m_segments.begin()), line_in(*it, row, physical)};
        counted += 1 + m.server_extra;
        physical += m.physical_extra;
        ++row;
    }
    row += server_line - counted - 1;
    return {static_cast<size_t>(it - m_segments.begin()), line_in(*it, row, physical)};
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
        if (std::optional<error> annotated = named(e))
            throw *annotated;
        throw;
    }
}

std::optional<error> copy_stream::named(const server_error& e) {
    m_copy.reset();
    std::optional<uint64_t> line = copy_context_line(e.context());
    if (!line || *line == 0 || *line > m_lines_total)
        return std::nullopt;
    const uint64_t input_line = row_of(*line).second;
    if (input_line == 0)
        return std::nullopt;
    error annotated(e.status(),
                    m_ctx.input_name(m_input) + ":" + std::to_string(input_line) + ": " + m_label +
                        (m_label.empty() ? "" : ": ") + escape_line_ends(e.what()),
                    e.detail(), e.hint());
    annotated.set_context(e.context());
    return annotated;
}

} // namespace pgpipe
