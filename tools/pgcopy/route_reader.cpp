// A routed load's reader: reading inputs into pieces, end markers, routing each row by its key, marking resumed batches.
#include "route_reader.hpp"

#include "batch_cut.hpp"
#include "fingerprint.hpp"
#include "reject_rules.hpp"
#include "core/text.hpp"
#include "io/reject_sink.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

// Bytes the reader asks an input for at once.
constexpr size_t read_chunk = 1 << 20;

} // namespace

route_reader::route_reader(const route_context& context, const destination_streams& streams, piece_pool& pool,
                           std::function<void(piece&)> cut, std::unique_ptr<input_stream> first)
    : m_context(context), m_streams(streams), m_pool(pool), m_cut(std::move(cut)), m_first(std::move(first)),
      m_fields(context.options.format), m_lines(streams.size()) {}

std::pair<size_t, uint64_t> route_reader::place_of(uint64_t global_line) const {
    size_t input = 0;
    while (input + 1 < m_input_base.size() && m_input_base[input + 1] < global_line)
        ++input;
    return {input, global_line - m_input_base[input]};
}

void route_reader::clear_lines() {
    for (auto& l : m_lines)
        l.clear();
}

bool route_reader::read_key(std::string_view row, key_value& key) {
    if (!m_fields.read(row, m_context.plan.key_field + 1) || m_fields.size() <= m_context.plan.key_field)
        return false; // too few fields, or a quote left open: the server says so
    if (m_fields.is_null(m_context.plan.key_field)) {
        key.null = true;
        return true;
    }
    // Characters of the server's encoding: UTF-8 counts characters, others
    // bytes (never fewer than characters).
    const std::string_view value = m_fields.value(m_context.plan.key_field);
    if (m_context.plan.key_max_chars && (m_context.plan.key_utf8 ? utf8_length(value) : value.size()) > m_context.plan.key_max_chars)
        return false; // varchar(n) cuts trailing spaces past n, or refuses: the server's to decide
    return parse_key(m_context.plan.kind, value, key);
}

void route_reader::route_row(piece& p, size_t k, uint64_t line) {
    size_t destination = 0; // a key pgcopy cannot read: the server routes it
    if (read_key(p.row(k), m_key)) {
        const std::optional<size_t> d = m_context.plan.destination_of(m_key);
        if (!d)
            return no_partition(p, k, line, m_key);
        destination = *d;
    }
    p.rows_of[destination].push_back(static_cast<uint32_t>(k));
    if (!m_context.batched && !p.skip[destination]) // a batch finds its lines in its piece
        m_lines[destination].add(m_input_base[p.input_index] + line);
}

// A row no partition admits: SQLSTATE 23514, as the server says it.
void route_reader::no_partition(piece& p, size_t k, uint64_t line, const key_value& key) {
    const std::string message = "no partition of relation \"" + m_context.options.table + "\" found for row";
    const std::string detail = "Partition key of the failing row contains (" + m_context.plan.key_column + ") = (" +
                               (key.null ? std::string("null") : std::string(m_fields.value(m_context.plan.key_field))) + ").";
    if (m_context.options.rejects.file.empty())
        throw error(exit_status::server_error, message + " at " + m_context.where(p.input_index, line), detail,
                    "add a partition (or a DEFAULT one) for it, or set such rows aside with --reject-file");
    reject_here(p, p.row(k), line, p.first_offset + p.starts[k], "23514", message, detail);
}

// Sets a line of p aside in the coordinator's part, unless the run that
// committed p's batch rejected it already.
void route_reader::reject_here(piece& p, std::string_view bytes, uint64_t line, uint64_t offset, const char* sqlstate,
                               const std::string& message, const std::string& detail) {
    if (!p.skip[0])
        p.reject(0, bytes, m_context.inputs[p.input_index], line, offset, sqlstate, message, detail);
}

// Which destinations committed this batch in an earlier run (--resume-key).
void route_reader::mark_committed(piece& p) {
    p.skip.assign(m_streams.size(), false);
    if (m_context.options.resume_key.empty())
        return;
    p.hash = fingerprint_of(p.bytes.data() + p.starts.front(), p.starts.back() - p.starts.front());
    for (size_t d = 0; d < m_streams.size(); ++d) {
        auto it = m_streams[d]->found().batches.find({p.input_index, p.start_offset()});
        if (it == m_streams[d]->found().batches.end())
            continue;
        if (it->second.first != p.end_offset() || it->second.second != p.hash)
            throw local_error("resume key \"" + m_context.options.resume_key + "\": " + m_context.inputs[p.input_index] +
                                  " is not what the first run read (bytes " + std::to_string(p.start_offset()) + " to " +
                                  std::to_string(p.end_offset()) + " differ on " + m_streams[d]->destination().name + ")",
                              "the input changed, or the batch options did",
                              "rerun with the same input and batch options, or use a new --resume-key");
        p.skip[d] = true;
    }
}

void route_reader::route(piece& p) {
    for (auto& rows : p.rows_of)
        rows.clear();
    p.rows_of.resize(m_streams.size());
    for (auto& part : p.rejects) // cleared, not replaced: a piece keeps its buffers
        part.rows.clear(), part.log.clear(), part.count = 0;
    p.rejects.resize(m_streams.size());
    mark_committed(p);
    for (const held_marker& m : m_released)
        reject_here(p, m.text, m.line, m.offset, "22P04", early_marker_message, early_marker_detail);
    m_released.clear();
    p.lines.resize(m_context.batched ? p.rows() : 0); // one transaction keeps lines in the line logs instead
    for (size_t k = 0; k < p.rows(); ++k) {
        if (m_context.batched)
            p.lines[k] = m_line;
        if (!p.refused_marker)
            route_row(p, k, m_line);
        else
            reject_here(p, p.row(k), m_line, p.first_offset + p.starts[k], "22P04", p.refused_marker,
                        refused_marker_detail);
        m_line += count_newlines(p.bytes.data() + p.starts[k], p.starts[k + 1] - p.starts[k]);
    }
}

// Cuts the rows read so far into pieces and hands them on; the rest stays
// in p (moved to the front of a fresh piece).
void route_reader::take_rows(piece*& p, size_t index, bool at_end) {
    for (;;) {
        size_t n = rows_to_cut(p->starts, m_context.batch_rows, m_context.batch_bytes, at_end);
        if (n == 0)
            return;
        piece* next = m_pool.take();
        next->input_index = index;
        next->refused_marker = nullptr;
        next->first_offset = p->first_offset + p->starts[n];
        next->bytes.assign(p->bytes, p->starts[n]);
        next->starts.clear();
        for (size_t k = n; k < p->starts.size(); ++k)
            next->starts.push_back(p->starts[k] - p->starts[n]);
        p->starts.resize(n + 1);
        p->bytes.resize(p->starts.back());
        route(*p);
        p->ends_unit = m_context.batched;
        m_cut(*p);
        p = next;
        if (at_end && p->rows() == 0)
            return;
    }
}

// The server holds every \. to the line end of the input's first line
// (m_newline, set here): a marker that differs is refused, as it refuses it;
// so is one it refuses after data (18). Returns the refusal's message, or null.
const char* route_reader::refusal(const piece& p, size_t end, const end_marker* marker) {
    const char first = m_newline;
    if (!m_newline)
        m_newline = line_end_at(p.bytes, end);
    if (marker && marker->off_style(first))
        return marker_newline_message;
    if (marker && marker->refused)
        return marker_not_alone_message;
    return nullptr;
}

// A line ending at end (in p->bytes) that is a \. the server refuses fails
// the load, or with --reject-file goes as a batch of its own, rejected
// whole, as the engine's (the rows before it go as batches of their own, p
// goes on past the line). Whether it was such a line, rejected.
bool route_reader::refuse_marker(piece*& p, size_t index, size_t end, const end_marker* marker, bool header,
                                 const std::string& input) {
    const char* message = refusal(*p, end, marker);
    if (message && m_context.options.rejects.file.empty())
        throw message == marker_newline_message ? marker_newline_mismatch(input, marker->line, m_newline == '\r')
                                                : marker_not_alone(input, marker->line);
    if (!message || header)
        return false;
    const uint64_t past = p->first_offset + end;
    take_rows(p, index, true); // p now holds the line's bytes onwards
    p->starts.push_back(static_cast<size_t>(past - p->first_offset));
    p->refused_marker = message;
    take_rows(p, index, true);
    return true;
}

void route_reader::read_input(size_t index) {
    std::unique_ptr<input_stream> in =
        index == 0 && m_first ? std::move(m_first) : std::make_unique<input_stream>(m_context.inputs[index]);
    m_splitter = make_row_splitter(m_context.options.format, m_context.markers, in->name());
    m_input_base.push_back(m_input_base.empty() ? 0 : m_input_base.back() + m_line);
    m_line = 1;
    piece* p = m_pool.take();
    p->input_index = index;
    p->refused_marker = nullptr;
    p->first_offset = 0;
    p->bytes.clear();
    p->starts.assign(1, 0);
    std::vector<size_t> ends;
    bool header = m_context.options.format.header;
    std::optional<uint64_t> marker_line;
    uint64_t marker_end = 0; // in the input
    m_newline = 0;
    for (;;) {
        const size_t old = p->bytes.size();
        p->bytes.resize(old + read_chunk);
        const size_t n = in->read(p->bytes.data() + old, read_chunk);
        p->bytes.resize(old + n);
        if (n == 0)
            break;
        ends.clear();
        m_splitter->scan(p->bytes.data() + old, n, ends);
        const auto& markers = m_splitter->end_markers();
        auto base = static_cast<ptrdiff_t>(old); // the chunk's byte e is p->bytes[base + e]
        for (size_t e : ends) {
            const auto end = static_cast<size_t>(base + static_cast<ptrdiff_t>(e));
            if (m_held) // --reject-file: data after the \. line rejects it
                m_released.push_back(std::move(*m_held)), m_held.reset();
            else if (marker_line)
                throw data_after_end_marker(in->name(), *marker_line);
            const auto m = std::find_if(markers.begin(), markers.end(), [&](const end_marker& x) { return x.end == e; });
            if (refuse_marker(p, index, end, m != markers.end() ? &*m : nullptr, header, in->name()))
                base = -static_cast<ptrdiff_t>(e); // p now starts past the \. line
            else if (m != markers.end() && !m_context.options.rejects.file.empty()) {
                hold_marker(p, index, end, *m, header);
                base = -static_cast<ptrdiff_t>(e); // p now starts past the \. line
            } else if (m != markers.end()) {
                marker_line = m->line, marker_end = take_marker_row(*p, end, *m, header);
            } else if (header) // the header line is the reader's, not a row
                m_line += count_newlines(p->bytes.data() + p->starts[0], end - p->starts[0]), p->starts[0] = end;
            else
                p->starts.push_back(end);
            header = false;
        }
        take_rows(p, index, false);
    }
    m_splitter->finish(p->first_offset + p->bytes.size());
    if (m_held) { // data after the held \. line, without a line end, rejects it too
        if (p->bytes.size() > p->starts.back())
            m_released.push_back(std::move(*m_held));
        m_held.reset();
    }
    if (marker_line && p->first_offset + p->bytes.size() > marker_end)
        throw data_after_end_marker(in->name(), *marker_line);
    end_input(p, index, marker_line.has_value());
}

// The server loads the data before a \. as a row: it goes on with its line
// end, the \. goes (any row end after it fails read_input). Returns the
// input's offset past the data.
uint64_t route_reader::take_marker_row(piece& p, size_t end, const end_marker& m, bool header) {
    if (header || end - m.size <= p.starts.back())
        return p.first_offset + end;
    p.bytes.erase(end - m.size, 2);
    p.starts.push_back(end - 2);
    return p.first_offset + end - 2;
}

// --reject-file: the \. line ending at end (in p->bytes) is held until data
// follows it (then rejected) or the input ends. The rows before it go as
// batches of their own, as the engine cuts them; p goes on past the line.
void route_reader::hold_marker(piece*& p, size_t index, size_t end, const end_marker& m, bool header) {
    const size_t at = end - m.size; // the \.
    const uint64_t past = p->first_offset + end;
    m_held = held_marker{m.line, p->first_offset + at, p->bytes.substr(at, m.size)};
    const bool after_data = !header && at > p->starts.back();
    if (after_data) { // the data before the \. is a row with the line's end, as in read_input
        p->bytes.erase(at, 2);
        p->starts.push_back(end - 2);
    }
    const uint64_t line_end = past - (after_data ? 2 : 0); // where the line ends in p's bytes, as offsets go
    take_rows(p, index, true);
    p->bytes.erase(0, static_cast<size_t>(line_end - p->first_offset));
    p->starts.assign(1, 0);
    p->first_offset = past;
    if (!after_data)
        ++m_line; // the \. line, no row's
}

// The rest of an input's rows go out. A last row without a line end gets
// one (unless a \. ended the input): the COPY goes on with the next input's rows.
void route_reader::end_input(piece* p, size_t index, bool ended_by_marker) {
    if (p->bytes.size() > p->starts.back() && !ended_by_marker) {
        p->bytes.push_back('\n');
        p->starts.push_back(p->bytes.size());
    }
    if (p->rows() > 0)
        take_rows(p, index, true);
    m_pool.give_back(p);
}

} // namespace pgpipe
