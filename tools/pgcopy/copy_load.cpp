#include "copy_load.hpp"

#include "copy_in.hpp"
#include "copy_sql.hpp"
#include "deferral.hpp"
#include "fast_plan.hpp"
#include "pg/identifier.hpp"
#include "io/input.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "io/row_splitter.hpp"
#include "pg/schema.hpp"

#include <cctype>
#include <cmath>
#include <cstring>
#include <chrono>
#include <unistd.h>

namespace pgpipe {
namespace {

// Large enough that per-call overhead vanishes, small enough that memory
// stays flat: the one buffer of the hot loop, reused for every chunk.
constexpr size_t chunk_size = 1 << 20;

enum class stage { connecting, loading, committing, done };

std::string commit_state(stage at, bool connection_lost) {
    switch (at) {
    case stage::connecting:
        return {};
    case stage::loading:
        return connection_lost
                   ? "nothing was committed: the connection was lost before COMMIT, so the server rolls "
                     "the transaction back"
                   : "nothing was committed: the load's transaction was rolled back";
    case stage::committing:
        return connection_lost ? "the connection was lost during COMMIT: whether the load was committed "
                                 "is unknown; check the table"
                               : "nothing was committed: the server refused the COMMIT";
    case stage::done:
        return {};
    }
    return {};
}

std::string append_line(const std::string& text, const std::string& line) {
    if (line.empty())
        return text;
    return text.empty() ? line : text + "\n" + line;
}

// Rebuilds a failure so that its message leads with FILE:LINE (when the
// server named a line) and its detail says what was committed.
error annotate(const error& e, const std::string& input_name, stage at, bool connection_lost,
               uint64_t line_offset = 0) {
    std::string message = e.what();
    if (auto line = copy_context_line(e.context()); line && !input_name.empty())
        message = input_name + ":" + std::to_string(*line + line_offset) + ": " + message;
    error out(e.status(), message, append_line(e.detail(), commit_state(at, connection_lost)), e.hint());
    out.set_context(e.context());
    if (e.usage())
        out.mark_usage();
    return out;
}


// One streamed load: every input in one transaction on one connection.
class stream_loader {
public:
    stream_loader(const copy_load_options& o, connection& conn, load_summary& summary)
        : m_o(o), m_conn(conn), m_summary(summary), m_meter(o.show_progress), m_buffer(chunk_size) {
        m_state.rows_known = o.format.format != copy_format::binary;
        m_count_rows = m_state.rows_known && o.show_progress;
        if (!o.table.empty())
            m_table_sql = quote_qualified_name(conn, parse_qualified_name(o.table));
        if (o.columns)
            m_columns = parse_name_list(*o.columns);
    }
    /// Loads one input (a script stream, or rows for TABLE).
    void load(const std::string& path);
    /// The first input, opened already (to look at it before connecting).
    void set_first_input(std::unique_ptr<input_stream> first) { m_first_input = std::move(first); }
    void set_input_total(std::optional<uint64_t> total) { m_state.input_total = total; }
    void finish_progress() { m_meter.finish(); }
    const std::string& table_sql() const { return m_table_sql; }
    std::string current_input;  ///< for messages: the input being read
    uint64_t current_line = 0;  ///< in a script: the line before the current block's data

private:
    void load_rows(input_stream& input, size_t first, bool binary);
    void load_script(input_stream& input, size_t first);
    void start_script_block(std::string_view header, const std::string& where,
                            std::optional<copy_in_session>& session);
    std::vector<std::string> header_columns(const input_stream& input, size_t first, const copy_format_options& f);
    void count_input(const input_stream& input) {
        m_state.bytes = m_summary.bytes;
        m_state.input_bytes = m_input_bytes_before + input.raw_bytes_read();
        m_meter.update(m_state);
    }

    const copy_load_options& m_o;
    connection& m_conn;
    load_summary& m_summary;
    progress_meter m_meter;
    progress_state m_state;
    std::vector<char> m_buffer;
    bool m_count_rows = false;
    std::string m_table_sql;            // TABLE, quoted; empty for a script without TABLE
    std::vector<std::string> m_columns; // -c, unquoted
    std::optional<std::string> m_table_oid; // TABLE's oid, for scripts that name it
    uint64_t m_input_bytes_before = 0;
    std::unique_ptr<input_stream> m_first_input;
};

void stream_loader::load(const std::string& path) {
    std::unique_ptr<input_stream> opened = m_first_input ? std::move(m_first_input) : std::make_unique<input_stream>(path);
    input_stream& input = *opened;
    current_input = input.name();
    size_t first = input.read(m_buffer.data(), m_buffer.size());
    std::string_view head(m_buffer.data(), first);
    const bool text = m_o.format.format == copy_format::text;
    // A script stream (pgrec, pg_dump's data) starts with its first COPY
    // line; with TABLE given, a first row that only starts with "COPY" is data.
    bool script = m_o.script;
    if (!script && text && starts_with_word(head, "COPY ")) {
        std::string_view line = head.substr(0, head.find('\n'));
        script = m_table_sql.empty() || parse_script_header(line).has_value();
    }
    // Binary COPY data announces itself by its signature.
    const bool binary = m_o.format.format == copy_format::binary ||
                        (!m_o.format_given && text && first >= 11 &&
                         std::memcmp(m_buffer.data(), binary_copy_header().data(), 11) == 0);
    if (script)
        load_script(input, first);
    else
        load_rows(input, first, binary);
    m_input_bytes_before += input.raw_bytes_read();
    m_summary.input_bytes = m_input_bytes_before;
}

// --header without -c: the header line names the columns, in its order.
std::vector<std::string> stream_loader::header_columns(const input_stream& input, size_t first,
                                                       const copy_format_options& f) {
    if (!f.header || !m_columns.empty() || f.format == copy_format::binary)
        return m_columns;
    std::string_view head(m_buffer.data(), first);
    size_t nl = head.find('\n');
    if (nl == std::string_view::npos && first == m_buffer.size())
        throw local_error(input.name() + ":1: the header line is longer than " + std::to_string(chunk_size) + " bytes");
    return check_header_names(m_conn, m_table_sql, m_o.table, header_names(head.substr(0, nl), f),
                              input.name());
}

void stream_loader::load_rows(input_stream& input, size_t first, bool binary) {
    copy_format_options format = m_o.format;
    if (binary && format.format != copy_format::binary) {
        format = copy_format_options{};
        format.format = copy_format::binary;
    }
    const std::vector<std::string> columns = header_columns(input, first, format);
    copy_in_session session(m_conn, build_copy_sql(m_conn, m_table_sql, columns, format, m_o.freeze));
    // Follow the rows as the server will read them: a binary stream without
    // its trailer is a producer that died, and a \. line in text or CSV
    // ends the data there. Neither may commit what it would lose.
    std::unique_ptr<row_splitter> splitter = make_row_splitter(format, input.name());
    std::vector<size_t> ends;
    uint64_t stream_bytes = 0;
    std::optional<end_marker> marker;
    for (size_t n = first; n > 0; n = input.read(m_buffer.data(), m_buffer.size())) {
        throw_if_interrupted();
        if (marker)
            throw data_after_end_marker(input.name(), marker->line);
        ends.clear();
        splitter->scan(m_buffer.data(), n, ends);
        if (!splitter->end_markers().empty()) {
            marker = splitter->end_markers().front();
            if (marker->end < n)
                throw data_after_end_marker(input.name(), marker->line);
        }
        stream_bytes += n;
        session.put(m_buffer.data(), n);
        m_summary.bytes += n;
        if (m_count_rows)
            m_state.rows += ends.size();
        count_input(input);
    }
    throw_if_interrupted();
    splitter->finish(stream_bytes);
    m_summary.rows += session.finish();
}

// Starts the COPY of a script block. With TABLE given, every block must load
// into it: a script never sends rows elsewhere than the command line says.
void stream_loader::start_script_block(std::string_view header, const std::string& where,
                                       std::optional<copy_in_session>& session) {
    std::optional<script_header> h = parse_script_header(header);
    if (!h)
        throw local_error(where + ": expected \"COPY table [(columns)] FROM stdin;\", found \"" +
                          std::string(header.substr(0, 80)) + "\"");
    if (!m_columns.empty())
        throw local_error(where + ": -c cannot be used with a script stream", {},
                          "its COPY lines name the columns");
    const std::string block_table = quote_qualified_name(m_conn, h->table);
    if (!m_table_sql.empty()) {
        if (!m_table_oid)
            m_table_oid = PQgetvalue(m_conn.query("SELECT " + m_conn.quote_literal(m_table_sql) + "::regclass::oid").get(), 0, 0);
        result_ptr r = m_conn.query("SELECT to_regclass(" + m_conn.quote_literal(block_table) + ")::oid");
        if (PQgetvalue(r.get(), 0, 0) != *m_table_oid)
            throw local_error(where + ": the script loads into " + block_table + ", not into " + m_o.table +
                                  " (the TABLE given)",
                              {}, "drop TABLE to run the script as it is");
    }
    copy_format_options text;
    session.emplace(m_conn, build_copy_sql(m_conn, block_table, h->columns, text, false));
}

// Runs the COPY blocks of a script stream, in the caller's transaction.
// The first bytes are already in the buffer.
void stream_loader::load_script(input_stream& input, size_t first) {
    uint64_t line = 0;               // lines consumed so far
    std::string pending;             // bytes not yet handled (a partial header, or the terminator's lookahead)
    std::optional<copy_in_session> session;
    uint64_t header_line = 0;
    auto feed = [&](std::string_view data) {
        pending.append(data);
        size_t pos = 0;
        for (;;) {
            if (!session) {
                size_t nl = pending.find('\n', pos);
                if (nl == std::string::npos)
                    break;
                std::string_view header(pending.data() + pos, nl - pos);
                ++line;
                pos = nl + 1;
                if (header.find_first_not_of(" \t\r") == std::string_view::npos)
                    continue;
                header_line = line;
                start_script_block(header, input.name() + ":" + std::to_string(line), session);
                current_line = line;
                continue;
            }
            // Data up to a line that is exactly "\." ends the block.
            size_t end = std::string::npos, data_end = 0;
            if (pending.compare(pos, 3, "\\.\n") == 0 && (pos == 0 || pending[pos - 1] == '\n')) {
                end = pos + 3;
                data_end = pos;
            } else {
                size_t hit = pending.find("\n\\.\n", pos);
                if (hit != std::string::npos) {
                    end = hit + 4;
                    data_end = hit + 1;
                }
            }
            size_t send_to = end != std::string::npos ? data_end : (pending.size() > pos + 3 ? pending.size() - 3 : pos);
            if (send_to > pos) {
                session->put(pending.data() + pos, send_to - pos);
                uint64_t lines = count_newlines(pending.data() + pos, send_to - pos);
                line += lines;
                m_summary.bytes += send_to - pos;
                if (m_count_rows)
                    m_state.rows += lines;
                pos = send_to;
            }
            if (end == std::string::npos)
                break;
            ++line; // the "\." line
            m_summary.rows += session->finish();
            session.reset();
            pos = end;
        }
        pending.erase(0, pos);
    };
    feed(std::string_view(m_buffer.data(), first));
    while (size_t n = input.read(m_buffer.data(), m_buffer.size())) {
        throw_if_interrupted();
        feed(std::string_view(m_buffer.data(), n));
        count_input(input);
    }
    if (session)
        throw local_error(input.name() + ": the script ends inside the COPY block that starts at line " +
                              std::to_string(header_line),
                          "the stream is truncated: no \\. line ends the block");
    if (pending.find_first_not_of(" \t\r\n") != std::string::npos)
        throw local_error(input.name() + ":" + std::to_string(line + 1) + ": a COPY line without its line end");
}

} // namespace

std::optional<uint64_t> total_input_size(const std::vector<std::string>& inputs) {
    uint64_t total = 0;
    for (const auto& path : inputs) {
        auto size = regular_file_size(path);
        if (!size)
            return std::nullopt;
        total += *size;
    }
    return total;
}

void parse_max_rejects(const std::string& text, copy_load_options& o) {
    o.max_rejects_percent = !text.empty() && text.back() == '%';
    const std::string number = o.max_rejects_percent ? text.substr(0, text.size() - 1) : text;
    try {
        size_t used = 0;
        o.max_rejects = std::stod(number, &used);
        if (used != number.size() || !std::isfinite(*o.max_rejects) || *o.max_rejects < 0)
            throw std::invalid_argument(number);
    } catch (const std::exception&) {
        throw usage_failure("invalid --max-rejects \"" + text + "\" (N or N%)");
    }
}

namespace {

// Values the command line got wrong: usage failures.
void validate_values(const copy_load_options& o) {
    if (o.toast_compression && *o.toast_compression != "lz4" && *o.toast_compression != "pglz")
        throw usage_failure("invalid --toast-compression \"" + *o.toast_compression + "\" (lz4 or pglz)");
    if (o.jobs < 1 || o.jobs > 64)
        throw usage_failure("--jobs must be between 1 and 64");
    if (o.retries < 0)
        throw usage_failure("--retries must be 0 or more");
    validate_copy_format(o.format);
    if (!o.table.empty())
        parse_qualified_name(o.table);
    if (o.columns)
        parse_name_list(*o.columns);
}

// A rule refused as a table: {applies, message, detail, hint}.
struct combination_rule {
    bool refused;
    const char* message;
    const char* detail;
    const char* hint;
};

// The combinations of a streamed load.
void validate_streamed(const copy_load_options& o) {
    const combination_rule rules[] = {
        {o.freeze && !o.truncate, "--freeze needs --truncate",
         "COPY FREEZE is valid only when the table was truncated or created in the same transaction",
         "add --truncate to empty the table first, in the load's transaction"},
        // A script stream names its own tables; then TABLE may be absent.
        {o.table.empty() && (o.truncate || o.defer_indexes || o.defer_constraints),
         "--truncate and --defer-* need a TABLE", "", ""},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

// The combinations of a batched load.
void validate_batched(const copy_load_options& o) {
    const bool recovering = !o.resume_key.empty() || o.retries > 0;
    const combination_rule rules[] = {
        {o.table.empty(), "the batch and recovery options need a TABLE", "",
         "a script stream loads in one transaction: drop --batch-rows, --jobs, --reject-file, --resume-key, "
         "--retries and --on-conflict"},
        {o.freeze, "--freeze cannot be used with batches", "",
         "COPY FREEZE needs the table truncated in the same transaction as the whole load"},
        {o.single_transaction && recovering, "--single-transaction cannot be used with --resume-key or --retries", "",
         "with one transaction nothing is committed before the end, so there is nothing to resume"},
        {o.single_transaction && o.jobs > 1, "--single-transaction cannot be used with --jobs", "",
         "one transaction is one connection"},
        {o.truncate && recovering, "--truncate cannot be used with --resume-key or --retries",
         "a resumed load would empty the table of what the first run committed", ""},
        {o.defer_indexes && o.on_conflict != conflict_action::none, "--defer-indexes cannot be used with --on-conflict",
         "ON CONFLICT finds the conflicting rows through the table's unique indexes", ""},
        {o.max_rejects && o.reject_file.empty(), "--max-rejects needs --reject-file", "", ""},
        {o.conflict_columns && o.on_conflict == conflict_action::none, "--conflict-columns needs --on-conflict", "", ""},
        {o.reserve_ids && (o.single_transaction || o.on_conflict != conflict_action::none),
         "--reserve-ids cannot be used with --single-transaction or --on-conflict",
         "each batch reserves its ids in a short transaction of its own, and an upsert needs the key in the input", ""},
        {(o.batch_rows && *o.batch_rows == 0) || (o.batch_bytes && *o.batch_bytes == 0),
         "a batch must hold at least one row or byte", "", ""},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

} // namespace

bool plain_text_format(const copy_format_options& f) {
    return f.format == copy_format::text && (!f.delimiter || *f.delimiter == "\t") &&
           (!f.null_string || *f.null_string == "\\N") && !f.encoding;
}

namespace {

// --restore does nothing else.
void validate_restore(const copy_load_options& o) {
    const combination_rule rules[] = {
        {o.table.empty(), "--restore needs a TABLE", "", "pgcopy --restore TABLE"},
        {!o.inputs.empty(), "--restore takes no FILE", "", "it only puts back what an interrupted load left off TABLE"},
        {o.batched() || o.fast || o.truncate || o.defer_indexes || o.defer_constraints,
         "--restore cannot be used with load options", "", "run pgcopy --restore TABLE on its own"},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

// The encodings pgcopy does itself.
void validate_encodings(const copy_load_options& o) {
    const copy_format_options& f = o.format;
    const combination_rule rules[] = {
        {o.send_binary && !plain_text_format(f),
         "--send-binary needs text input with the default delimiter, NULL string and encoding", "", ""},
        {(o.reserve_ids || o.send_binary || o.fast) && o.table.empty(), "--fast, --reserve-ids and --send-binary need a TABLE",
         "", ""},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

} // namespace

void validate_copy_load(const copy_load_options& o) {
    validate_values(o);
    if (o.restore)
        return validate_restore(o);
    validate_encodings(o);
    if (o.batched())
        validate_batched(o);
    else
        validate_streamed(o);
    check_inputs_readable(o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs);
}

void apply_session_settings(connection& conn, const copy_load_options& o) {
    if (o.toast_compression)
        conn.exec("SET default_toast_compression = " + conn.quote_literal(*o.toast_compression));
}

namespace {

// Without TABLE (or --script) every input must be a script stream: the
// first is looked at before connecting, so that a forgotten TABLE costs no
// connection. Returns it opened, its first bytes given back.
std::unique_ptr<input_stream> check_script_without_table(const copy_load_options& o, const std::string& path) {
    auto input = std::make_unique<input_stream>(path);
    std::string head(chunk_size, '\0');
    head.resize(input->read(head.data(), head.size()));
    input->unread(head);
    const bool text = o.format.format == copy_format::text;
    if (!text || !parse_script_header(std::string_view(head).substr(0, head.find('\n'))))
        throw local_error("no table given, and " + input->name() + " is not a script stream",
                          "a script stream starts with a line \"COPY table [(columns)] FROM stdin;\"",
                          "name the table to load: pgcopy TABLE [FILE]...");
    return input;
}

// The load's transaction: TRUNCATE and deferred indexes first, every input,
// the indexes back, COMMIT. at says how far it got.
void load_in_transaction(const copy_load_options& o, connection& conn, stream_loader& loader,
                         const std::vector<std::string>& inputs, stage& at) {
    conn.exec("BEGIN");
    at = stage::loading;
    if (o.truncate)
        conn.exec("TRUNCATE " + loader.table_sql());
    // Dropped and rebuilt inside this transaction: a failure (a duplicate
    // key found when the unique index is rebuilt) rolls everything back.
    std::vector<std::string> restore;
    if (o.defer_indexes || o.defer_constraints)
        restore = drop_for_load(conn, loader.table_sql(), o.defer_indexes, o.defer_constraints);
    for (const auto& path : inputs)
        loader.load(path);
    loader.current_input.clear();
    if (!restore.empty()) {
        // One sort per index, with room to sort in memory.
        conn.exec("SET LOCAL maintenance_work_mem = '1GB'");
        for (const auto& sql : restore) {
            throw_if_interrupted();
            conn.exec(sql);
        }
    }
    throw_if_interrupted();
    at = stage::committing;
    conn.exec("COMMIT");
    at = stage::done;
}

// pgcopy --restore TABLE: what an interrupted deferring load left off TABLE goes back.
load_summary run_restore(const copy_load_options& o) {
    validate_copy_load(o);
    connection conn = connection::open(o.connection);
    const size_t n = restore_deferred(conn, o.table);
    log_info(n ? "put back " + format_count(n) + " indexes and constraints of " + o.table
               : "nothing to put back: no load left indexes or constraints of " + o.table + " off");
    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = o.table;
    summary.committed = true;
    summary.verb = "restored";
    return summary;
}

} // namespace

load_summary run_copy(const copy_load_options& o) {
    if (o.restore)
        return run_restore(o);
    if (o.fast)
        return run_fast_copy(o);
    if (o.batched())
        return run_batched_copy(o);
    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = o.table.empty() ? "the script's tables" : o.table;
    auto started = std::chrono::steady_clock::now();
    // Nothing is committed when the load fails: the summary says so.
    auto failed = [&](const std::string& message) {
        summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        summary.rows = 0;
        summary.error = message;
        write_stats_file(o.stats_file, summary);
    };
    stage at = stage::connecting;
    std::optional<stream_loader> loader;
    std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
    try {
        validate_copy_load(o);
        std::unique_ptr<input_stream> first;
        if (o.table.empty() && !o.script)
            first = check_script_without_table(o, inputs[0]);
        if (!quiet() && inputs.size() == 1 && inputs[0] == "-" && isatty(STDIN_FILENO))
            log_info("reading rows from the terminal; end them with Ctrl-D");
        throw_if_interrupted();
        connection conn = connection::open(o.connection);
        apply_session_settings(conn, o);
        loader.emplace(o, conn, summary);
        if (!o.table.empty())
            put_back_left_off(conn, loader->table_sql(), o.table);
        loader->set_first_input(std::move(first));
        if (o.show_progress)
            loader->set_input_total(total_input_size(inputs));
        try {
            load_in_transaction(o, conn, *loader, inputs, at);
            summary.committed = true;
        } catch (...) {
            loader->finish_progress();
            // Leave the server idle and rolled back if it is still there; the
            // COPY session's destructor has already ended any open COPY.
            if (conn.ok() && at == stage::loading)
                PQclear(PQexec(conn.get(), "ROLLBACK"));
            throw;
        }
        loader->finish_progress();
        summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    } catch (const server_error& e) {
        error annotated = annotate(e, loader ? loader->current_input : std::string(), at, e.connection_lost(),
                                   loader ? loader->current_line : 0);
        failed(annotated.what());
        throw annotated;
    } catch (const interrupted& e) {
        failed(e.what());
        throw interrupted(e.signal_number(), commit_state(at, false));
    } catch (const error& e) {
        error annotated = annotate(e, {}, at, false);
        failed(annotated.what());
        throw annotated;
    }
    log_info(summary_line(summary));
    write_stats_file(o.stats_file, summary);
    return summary;
}

} // namespace pgpipe
