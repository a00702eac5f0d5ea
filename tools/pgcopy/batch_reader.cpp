// The reader: inputs into batches at row boundaries, with script blocks,
// end-of-data markers, headers, and the skipping of what a resumed load committed.
#include "batch_reader.hpp"

#include "batch_cut.hpp"
#include "copy_sql.hpp"
#include "reject_rules.hpp"
#include "core/interrupt.hpp"
#include "core/text.hpp"
#include "io/end_line.hpp"
#include "io/row_splitter.hpp"
#include "pg/identifier.hpp"

#include <algorithm>

namespace pgpipe {

connection& server_block_tables::conn() {
    if (!m_conn)
        m_conn.emplace(connection::open(m_ctx.login ? *m_ctx.login : m_ctx.o.connection));
    return *m_conn;
}

std::string server_block_tables::table_sql(const std::vector<std::string>& name) {
    return quote_qualified_name(conn(), name);
}

bool server_block_tables::is_target(const std::string& table, const std::string& target_sql) {
    connection& c = conn();
    if (m_target_oid.empty())
        m_target_oid = PQgetvalue(c.query("SELECT " + c.quote_literal(target_sql) + "::regclass::oid").get(), 0, 0);
    return PQgetvalue(c.query("SELECT to_regclass(" + c.quote_literal(table) + ")::oid").get(), 0, 0) == m_target_oid;
}

std::string server_block_tables::copy_sql(const std::string& table, const std::vector<std::string>& columns) {
    return build_copy_sql(conn(), table, columns, copy_format_options{}, false);
}

// What take_row is given: a row, a \. line, or the \. that ends a row of
// data (the data went before it as a row of its own).
// marker_off_style: a \. whose line end is not the input's first line's;
// marker_not_alone: a \. after data that the server refuses (18).
enum class batch_reader::row_kind { row, marker, marker_after_data, marker_off_style, marker_not_alone };

// What the reader knows of the input it is cutting into batches.
struct batch_reader::input_cursor {
    size_t index = 0;
    batch b;
    std::unique_ptr<row_splitter> splitter;
    bool binary = false;
    bool header_pending = false;
    bool trailer = false;
    uint64_t total = 0;          // bytes read
    uint64_t chunk_offset = 0;   // of the current chunk in the input
    std::optional<batch> marker; // a \. row, held until it is known whether data follows
    char newline = 0;            // '\n', or '\r' for \r\n: the first line's end, which the server holds every \. to
    std::vector<size_t> ends;    // the row ends of the current chunk (a buffer reused chunk after chunk)
    // A script stream: whether its first line said so, and the block being read.
    std::optional<bool> script;
    bool in_block = false;
    uint64_t block_line = 0;     // the block's COPY line
    uint64_t end_line = 0;       // the line of its end line \. after the last block (0: none yet)
    // Whether it ended with its end line: the binary trailer, a script's
    // \. after its last block, or a \. that no data followed.
    bool ended() const { return binary ? trailer : script.value_or(false) ? end_line != 0 : marker.has_value(); }
};

batch_reader::batch_reader(const load_context& ctx, batch_queue& queue, block_tables& tables,
                           std::unique_ptr<input_stream> first)
    : m_ctx(ctx), m_queue(queue), m_tables(tables), m_first_input(std::move(first)) {}

void batch_reader::resume(resume_point p) {
    if (p.recorded)
        m_stamps.read(p.stamps, m_ctx.inputs.size());
    if (m_stamps.size() != m_ctx.inputs.size()) // a new key: nothing recorded
        m_stamps.read({}, m_ctx.inputs.size());
    m_resume_from = p.from;
    m_resume_hash = std::move(p.hash);
    m_resume_ranges = std::move(p.ranges);
    m_stamps_text = m_stamps.text(m_resume_from.input_index);
}

void batch_reader::check_finished_inputs(size_t count) {
    for (size_t k = 0; k < count; ++k) {
        // run_copy may have opened the first input to look at it.
        input_stream* opened = k == 0 ? m_first_input.get() : nullptr;
        if (!input_unchanged(m_ctx.inputs[k], m_stamps[k], opened))
            input_changed(m_ctx.input_name(k), "its bytes");
    }
    // The opened first input is not the one the load goes on with.
    if (count > 0)
        m_first_input.reset();
}

// Whether an input whose first line this is loads as a script stream:
// --script or no TABLE says so, else a COPY line does (text only).
bool batch_reader::starts_script(std::string_view first_line) const {
    return m_ctx.format.format == copy_format::text &&
           (m_ctx.o.script || m_ctx.o.table.empty() || parse_script_header(first_line).has_value());
}

// The first input's first bytes decide what the options cannot: binary data
// without -F binary, a script stream (which loads in one transaction), and
// with --header but no -c, the columns.
first_input_facts batch_reader::sniff() {
    first_input_facts facts;
    const size_t index = m_resume_from.input_index;
    if (index >= m_ctx.inputs.size())
        return facts;
    if (!m_first_input)
        m_first_input = std::make_unique<input_stream>(m_ctx.inputs[index]);
    m_first_chunk.resize(m_ctx.chunk);
    m_first_chunk.resize(m_first_input->read(m_first_chunk.data(), m_first_chunk.size()));
    const std::string_view head = m_first_chunk;
    const std::string_view first_line = head.substr(0, head.find('\n'));
    if (m_ctx.format.format == copy_format::text && m_ctx.plan.detect_binary &&
        head.substr(0, 11) == std::string_view(binary_copy_header()).substr(0, 11)) {
        facts.binary = true;
    } else if (starts_script(first_line)) {
        facts.script = true;
        check_script_options(index);
        return facts;
    }
    if (m_ctx.o.table.empty())
        throw local_error("no table given, and " + m_ctx.input_name(index) + " is not a script stream",
                          "a script stream starts with a line \"COPY table [(columns)] FROM stdin;\"",
                          "name the table to load: pgcopy TABLE [FILE]...");
    if (facts.binary || !m_ctx.format.header || m_ctx.o.columns || m_ctx.format.format == copy_format::binary)
        return facts;
    if (first_line.size() == m_ctx.chunk)
        throw local_error(m_ctx.input_name(index) + ":1: the header line is longer than " +
                          std::to_string(m_ctx.chunk) + " bytes");
    facts.header_names = header_names(first_line, m_ctx.format);
    return facts;
}

// A script names its tables and columns: what needs TABLE's own columns
// (or one file of rejects, or a staging table) is refused.
void batch_reader::check_script_options(size_t index) const {
    const copy_load_options& o = m_ctx.o;
    const char* refused = !o.rejects.file.empty()                 ? "--reject-file"
                          : o.upsert.on_conflict != conflict_action::none ? "--on-conflict"
                          : o.columns                              ? "-c"
                          : m_ctx.plan.ids.value == lever::required    ? "--reserve-ids"
                          : m_ctx.plan.binary.value == lever::required ? "--send-binary"
                          : o.levers.defer_indexes || o.levers.defer_constraints ? (o.table.empty() ? "--defer-*" : nullptr)
                                                                   : nullptr;
    if (refused)
        throw local_error(m_ctx.input_name(index) + ":1: " + refused + " cannot be used with a script stream", {},
                          "a script stream's COPY lines name each block's table and columns");
}

// Every input's header line must name the columns being loaded, in order,
// as the server's HEADER MATCH would check them.
void batch_reader::check_header(const std::string& input, const std::string& header) const {
    const std::vector<std::string>& names = m_ctx.column_names;
    if (names.empty())
        return;
    const std::vector<std::string> fields = header_names(header, m_ctx.format);
    for (size_t k = 0; k < std::max(fields.size(), names.size()); ++k) {
        std::string got = k < fields.size() ? fields[k] : "";
        std::string want = k < names.size() ? names[k] : "";
        if (got != want)
            throw local_error(input + ":1: the header does not match the columns: field " + std::to_string(k + 1) +
                                  " is " + (k < fields.size() ? "\"" + got + "\"" : "missing") + ", expected " +
                                  (k < names.size() ? "\"" + want + "\"" : "no more fields"),
                              {}, "every input of a load names the same columns, in the same order");
    }
}

// In a script stream, a line outside a block is its COPY line, and the \.
// line ends it: neither is a row. Returns whether the line was one of them.
bool batch_reader::take_script_line(input_cursor& in, size_t end, row_kind kind) {
    batch& b = in.b;
    if (!in.script) {
        const std::string_view first(b.bytes.data() + b.starts.back(), end - b.starts.back());
        in.script = !in.binary && b.first_offset + b.starts.back() == 0 &&
                    starts_script(first.substr(0, first.find('\n')));
    }
    // A \. after a row's data ends the server's COPY, not psql's block: held
    // like any marker, it is fine if the block's \. line comes next.
    if (!*in.script || (in.in_block && kind != row_kind::marker))
        return false;
    const size_t start = b.starts.back();
    const std::string_view line(b.bytes.data() + start, end - start);
    // Read before the rows before it go: line points into b's bytes.
    const bool ends = is_end_line(line), blank = line.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (in.in_block && !ends)
        return false; // a \. inside a row: the server's, and the reject or failure, as for any input
    end = flush_rows_before(b, end);
    const uint64_t line_number = b.first_line;
    if (in.in_block) {
        in.in_block = false;
        in.marker.reset(); // no data followed it
    } else if (!blank && in.end_line) {
        throw data_after_end_line(m_ctx.input_name(in.index), line_number, in.end_line);
    } else if (ends) {
        in.end_line = line_number; // the script's end line, after its last block (pgrec --end-line)
    } else if (!blank) {
        in.block_line = line_number;
        start_script_block(in, line);
    }
    skip_row(in, end);
    return true;
}

// A block's COPY, for the batches of its rows. With TABLE, every block must
// load into it: a script never sends rows elsewhere than the command line says.
void batch_reader::start_script_block(input_cursor& in, std::string_view line) {
    const std::string where = m_ctx.input_name(in.index) + ":" + std::to_string(in.block_line);
    std::optional<script_header> h = parse_script_header(line.substr(0, line.find('\n')));
    if (!h)
        throw local_error(where + ": expected \"COPY table [(columns)] FROM stdin;\", found \"" +
                          one_line(line.substr(0, 80)) + "\"");
    const std::string table = m_tables.table_sql(h->table);
    if (!m_ctx.table_sql.empty() && !m_tables.is_target(table, m_ctx.table_sql))
        throw local_error(where + ": the script loads into " + table + ", not into " + m_ctx.o.table +
                              " (the TABLE given)",
                          {}, "drop TABLE to run the script as it is");
    // With --jobs, a block into another table starts once the batches before
    // it committed: pgrec writes parents before the children that refer to them.
    if (m_ctx.parallel() && !m_block_table.empty() && table != m_block_table)
        m_queue.wait_committed();
    m_block_table = table;
    in.in_block = true;
    in.b.copy_sql = std::make_shared<const std::string>(m_tables.copy_sql(table, h->columns));
}

void batch_reader::read_all() {
    for (size_t k = m_resume_from.input_index; k < m_ctx.inputs.size(); ++k)
        load_input(k);
}

// Room for a whole batch at once: growing by doubling would hold up to
// twice a batch per buffer. (Past 64 MiB, doubling it is.)
void batch_reader::reserve_batch(batch& b) const {
    b.bytes.reserve(static_cast<size_t>(std::min<uint64_t>(m_ctx.batch_bytes, 64 << 20)) + 2 * m_ctx.chunk);
}

void batch_reader::load_input(size_t index) {
    std::unique_ptr<input_stream> input;
    if (m_first_input && index == m_resume_from.input_index)
        input = std::move(m_first_input);
    else
        input = std::make_unique<input_stream>(m_ctx.inputs[index]);
    input_cursor in;
    in.index = index;
    in.splitter = make_row_splitter(m_ctx.format, m_ctx.markers, m_ctx.input_name(index));
    in.binary = m_ctx.format.format == copy_format::binary;
    in.header_pending = in.binary || m_ctx.format.header;
    reserve_batch(in.b);
    in.b.input_index = index;
    in.b.rows_are_lines = in.binary;
    in.b.starts.push_back(0);
    m_input_print = fingerprint();
    m_printed = 0;
    m_stamps.open(m_ctx.inputs[index]);
    std::string chunk(m_ctx.chunk, '\0');
    while (!in.trailer) {
        if (!m_first_chunk.empty()) { // what sniff read: the input reads it again
            input->unread(m_first_chunk);
            m_first_chunk = std::string();
        }
        const size_t n = input->read(chunk.data(), chunk.size());
        throw_if_interrupted();
        if (n == 0)
            break;
        if (!m_ctx.key.empty())
            m_stamps.update(chunk.data(), n);
        take_chunk(in, chunk.data(), n);
        // A pipe that had no more for now: what is here goes to the open
        // COPY at once, as a streamed load's would (a slow producer's rows
        // reach the server as they come). A routed load's batches are a COPY
        // per destination each: they wait for their size.
        if (m_ctx.one_transaction() && !m_ctx.route && n < chunk.size())
            cut_batches(in.b, true);
        if (m_on_read)
            m_on_read(n, input->raw_bytes_read());
    }
    finish_input(in);
    // Every row of this input is cut: the batches after it carry its stamp.
    m_stamps.finish(index);
    m_stamps_text = m_stamps.text(index + 1);
}

void batch_reader::take_chunk(input_cursor& in, const char* chunk, size_t n) {
    std::vector<size_t>& ends = in.ends;
    ends.clear();
    in.splitter->scan(chunk, n, ends);
    const std::vector<end_marker>& markers = in.splitter->end_markers();
    size_t next_marker = 0;
    in.chunk_offset = in.total;
    in.b.bytes.append(chunk, n);
    in.total += n;
    for (size_t k = 0; k < ends.size() && !in.trailer; ++k) {
        const uint64_t end = in.chunk_offset + ends[k];
        const char newline = in.newline;
        const size_t at = static_cast<size_t>(end - in.b.first_offset); // relative to b, which a cut may move
        if (!in.newline && !in.binary)
            in.newline = line_end_at(in.b.bytes, at);
        if (next_marker == markers.size() || markers[next_marker].end != ends[k])
            take_row(in, at, row_kind::row);
        else
            take_marker(in, end, markers[next_marker++], newline);
    }
    batch& b = in.b;
    if (b.rows() == 0 && b.starts[0] > 0) {
        // Nothing pending: drop what was skipped so memory stays flat.
        print_through(b, b.starts[0]);
        b.bytes.erase(0, b.starts[0]);
        b.first_offset += b.starts[0];
        b.starts[0] = 0;
    }
    cut_batches(b, false);
}

// A \. line ends at end (in the input); newline: the input's first line's end, if known.
void batch_reader::take_marker(input_cursor& in, uint64_t end, const end_marker& marker, char newline) {
    // Offsets relative to b, which a cut may move.
    auto relative = [&](uint64_t at) { return static_cast<size_t>(at - in.b.first_offset); };
    const size_t marker_size = marker.size;
    // The server checks the line end first.
    if (marker.off_style(newline) && !(in.script && *in.script))
        return take_row(in, relative(end), row_kind::marker_off_style);
    if (marker.refused)
        return take_row(in, relative(end), row_kind::marker_not_alone);
    // The server loads the data before a \. as a row, then ends.
    const uint64_t marker_start = end - marker_size;
    const bool data = relative(marker_start) > in.b.starts.back();
    if (data)
        take_row(in, relative(marker_start), row_kind::row);
    take_row(in, relative(end), data ? row_kind::marker_after_data : row_kind::marker);
}

// The first "row" is the binary file header or the CSV header line.
void batch_reader::take_header(input_cursor& in, size_t end) {
    batch& b = in.b;
    b.header = b.bytes.substr(b.starts[0], end - b.starts[0]);
    in.header_pending = false;
    if (!in.binary)
        check_header(m_ctx.input_name(in.index), b.header);
    b.set_first_line(in.binary ? 1 : 1 + count_newlines(b.bytes.data(), end));
    b.starts[0] = end;
}

// One row of the input ends at end (relative to in.b).
void batch_reader::take_row(input_cursor& in, size_t end, row_kind kind) {
    batch& b = in.b;
    if (in.header_pending)
        return take_header(in, end);
    if (in.binary && in.splitter->saw_trailer() && b.first_offset + end == in.total) {
        in.trailer = true; // the trailer is not a row
        return;
    }
    if (take_script_line(in, end, kind))
        return;
    const size_t start = b.starts.back();
    check_resumed_prefix(in, end);
    if (const committed_range* range = committed_range_of(in.index, b.first_offset + start, b.first_offset + end)) {
        check_resumed_range(in, range, start, end);
        skip_row(in, flush_rows_before(b, end));
        return;
    }
    check_resumed_range(in, nullptr, start, end);
    if (in.marker)
        release_marker(in);
    if (kind == row_kind::marker_off_style || kind == row_kind::marker_not_alone)
        return refuse_marker(in, end, kind);
    if (kind != row_kind::row) {
        hold_marker(in, end);
        return;
    }
    b.starts.push_back(end);
}

// A \. whose line end is not the input's first line's (\n lines, then
// \.\r\n), or (18) a \. after data: the server refuses the whole line and
// ends nothing. The load fails there, or with a reject file the line goes to
// it and the rows after it load.
void batch_reader::refuse_marker(input_cursor& in, size_t end, row_kind kind) {
    const bool newline = kind == row_kind::marker_off_style;
    if (!m_ctx.rejecting()) {
        flush_rows_before(in.b, end); // the batches before it commit, as for any bad input
        throw newline ? marker_newline_mismatch(m_ctx.input_name(in.index), in.b.first_line, in.newline == '\r')
                      : marker_not_alone(m_ctx.input_name(in.index), in.b.first_line);
    }
    hold_marker(in, end);
    batch held = std::move(*in.marker);
    in.marker.reset();
    held.refused_marker = newline ? marker_newline_message : marker_not_alone_message;
    m_queue.push(std::move(held));
}

// Skips a row an earlier run committed (or a \. line): its lines still count.
void batch_reader::skip_row(input_cursor& in, size_t end) {
    batch& b = in.b;
    b.set_first_line(b.first_line + (in.binary ? 1 : count_newlines(b.bytes.data() + b.starts[0], end - b.starts[0])));
    b.starts[0] = end;
}

// Data follows the held \. line: the load fails, or with a reject file the
// line goes to it as a batch of its own.
void batch_reader::release_marker(input_cursor& in) {
    batch held = std::move(*in.marker);
    in.marker.reset();
    if (!m_ctx.rejecting())
        throw data_after_end_marker(m_ctx.input_name(in.index), held.first_line);
    m_queue.push(std::move(held));
}

// The rows read before end go as batches of their own (a batch is
// contiguous, and a skipped or held row breaks it); returns end, relative
// to what is left of b.
size_t batch_reader::flush_rows_before(batch& b, size_t end) {
    if (b.rows() == 0)
        return end;
    const uint64_t at = b.first_offset + end;
    cut_batches(b, false);
    cut_batches(b, true);
    return static_cast<size_t>(at - b.first_offset);
}

// The row before end is a \. line: it is held until it is known whether
// data follows it.
void batch_reader::hold_marker(input_cursor& in, size_t end) {
    batch& b = in.b;
    end = flush_rows_before(b, end);
    batch held;
    held.input_index = in.index;
    held.header = b.header;
    held.end_marker = true;
    held.set_first_line(b.first_line);
    held.first_offset = b.first_offset + b.starts[0];
    held.bytes = b.bytes.substr(b.starts[0], end - b.starts[0]);
    held.starts = {0, held.bytes.size()};
    skip_row(in, end);
    print_through(b, b.starts[0]);
    held.prefix_hash = m_ctx.key.empty() ? std::string() : m_input_print.hex();
    held.content_hash = m_ctx.key.empty() ? std::string() : fingerprint_of(held.bytes.data(), held.bytes.size());
    in.marker = std::move(held);
}

void batch_reader::finish_input(input_cursor& in) {
    batch& b = in.b;
    if (!in.trailer)
        in.splitter->finish(in.total);
    uint64_t committed_end = m_resume_from.input_index == in.index ? m_resume_from.offset : 0;
    for (const auto& r : m_resume_ranges)
        if (r.input_index == in.index)
            committed_end = std::max(committed_end, r.end);
    if (committed_end > in.total)
        throw local_error("\"" + m_ctx.input_name(in.index) + "\" is shorter (" + std::to_string(in.total) +
                              " bytes) than what this resume key committed (" + std::to_string(committed_end) + ")",
                          {}, "the input changed since the first run; use a new --resume-key");
    if (in.header_pending && m_ctx.format.header) {
        if (m_ctx.o.require_end) // a header, and no end line: its producer stopped there
            throw missing_end_line(m_ctx.input_name(in.index));
        return; // a header without a newline and nothing else
    }
    if (in.in_block) {
        // The batches before it commit, as for any input that breaks off.
        cut_batches(b, true);
        throw local_error(m_ctx.input_name(in.index) + ": the script ends inside the COPY block that starts at line " +
                              std::to_string(in.block_line),
                          "the stream is truncated: no \\. line ends the block");
    }
    // A last row without a final newline is a row too (text and CSV).
    if (!in.binary && b.starts.back() < b.bytes.size())
        take_row(in, b.bytes.size(), row_kind::row);
    if (m_ctx.o.require_end && !in.ended()) // before the last batch goes: in one transaction, nothing commits
        throw missing_end_line(m_ctx.input_name(in.index));
    b.bytes.resize(b.starts.back());
    cut_batches(b, true);
}

// Moves whole batches out of b while it holds enough rows or bytes; with
// at_end, the rest too.
void batch_reader::cut_batches(batch& b, bool at_end) {
    while (b.rows() > 0) {
        const size_t cut = rows_to_cut(b.starts, m_ctx.batch_rows, m_ctx.batch_bytes, at_end);
        if (cut == 0)
            return;
        batch next = m_queue.spare();
        reserve_batch(next);
        next.input_index = b.input_index;
        next.rows_are_lines = b.rows_are_lines;
        next.header = b.header;
        next.copy_sql = b.copy_sql;
        next.set_first_line(b.line_of(cut));
        size_t base = b.starts[cut];
        next.first_offset = b.first_offset + base;
        next.bytes.assign(b.bytes, base, std::string::npos);
        for (size_t k = cut; k < b.starts.size(); ++k)
            next.starts.push_back(b.starts[k] - base);
        b.bytes.resize(base);
        b.starts.resize(cut + 1);
        if (!m_ctx.key.empty()) {
            print_through(b, base);
            b.prefix_hash = m_input_print.hex();
            b.input_stamps = m_stamps_text;
            if (m_ctx.parallel())
                b.content_hash = fingerprint_of(b.bytes.data() + b.starts[0], b.size());
        }
        m_queue.push(std::move(b));
        b = std::move(next);
    }
}

// Adds the bytes of b before end (relative to b) to the input's fingerprint.
void batch_reader::print_through(const batch& b, size_t end) {
    if (m_ctx.key.empty() || b.first_offset + end <= m_printed)
        return;
    const size_t from = static_cast<size_t>(m_printed - b.first_offset);
    m_input_print.update(b.bytes.data() + from, end - from);
    m_printed = b.first_offset + end;
}

void batch_reader::input_changed(const std::string& input, const std::string& what) {
    const std::string& key = m_ctx.key;
    m_input_changed = true; // a rerun with the key would fail the same way: say nothing of it
    throw local_error("\"" + input + "\" is not the input that resume key \"" + key + "\" was loading: " + what +
                          " differ from what that run committed",
                      {},
                      "to start over, remove what the first run loaded and forget the key (DELETE FROM "
                      "pgpipe.load_progress WHERE key = '" + key + "'), or use a new --resume-key");
}

// The row ending at end reaches the committed prefix's end: what came before
// must be the bytes that run committed.
void batch_reader::check_resumed_prefix(const input_cursor& in, size_t end) {
    const batch& b = in.b;
    if (m_prefix_checked || in.index != m_resume_from.input_index || m_resume_from.offset == 0 ||
        b.first_offset + end < m_resume_from.offset)
        return;
    m_prefix_checked = true;
    print_through(b, static_cast<size_t>(m_resume_from.offset - b.first_offset));
    if (!m_resume_hash.empty() && m_input_print.hex() != m_resume_hash)
        input_changed(m_ctx.input_name(in.index),
                      "its bytes up to byte offset " + std::to_string(m_resume_from.offset));
}

// Rows skipped as a --jobs batch an earlier run committed must add up to
// that batch's bytes; a row that starts inside one and runs past it means
// the input changed.
void batch_reader::check_resumed_range(const input_cursor& in, const committed_range* range, size_t start,
                                       size_t end) {
    const batch& b = in.b;
    if (range == &m_prefix_range || m_resume_ranges.empty())
        return;
    if (!range) {
        if (m_checking || range_holding(in.index, b.first_offset + start))
            input_changed(m_ctx.input_name(in.index),
                          "the rows at byte offset " + std::to_string(b.first_offset + start));
        return;
    }
    if (range != m_checking) {
        m_checking = range;
        m_range_print = fingerprint();
    }
    m_range_print.update(b.bytes.data() + start, end - start);
    if (b.first_offset + end < range->end)
        return;
    if (!range->hash.empty() && m_range_print.hex() != range->hash)
        input_changed(m_ctx.input_name(in.index),
                      "the bytes of the batch at byte offset " + std::to_string(range->start));
    m_checking = nullptr;
}

// The range an earlier run committed that holds bytes [start, end), or
// nullptr; &m_prefix_range for the committed prefix.
const committed_range* batch_reader::committed_range_of(size_t input_index, uint64_t start, uint64_t end) const {
    if (input_index < m_resume_from.input_index ||
        (input_index == m_resume_from.input_index && end <= m_resume_from.offset))
        return &m_prefix_range;
    const committed_range* r = range_holding(input_index, start);
    return r && end <= r->end ? r : nullptr;
}

// The committed --jobs range in which byte offset lies, or nullptr.
const committed_range* batch_reader::range_holding(size_t input_index, uint64_t offset) const {
    auto after = std::upper_bound(m_resume_ranges.begin(), m_resume_ranges.end(), std::pair(input_index, offset),
                                  [](const std::pair<size_t, uint64_t>& key, const committed_range& r) {
                                      return key < std::pair(r.input_index, r.start);
                                  });
    if (after == m_resume_ranges.begin())
        return nullptr;
    const committed_range& r = *std::prev(after);
    return r.input_index == input_index && r.start <= offset && offset < r.end ? &r : nullptr;
}

} // namespace pgpipe
