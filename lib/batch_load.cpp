// pgcopy's batched load: batches cut at row boundaries, each in its own
// transaction with its progress; bad rows rejected; resume and retries.
#include "pgpipe/copy_load.hpp"

#include "pgpipe/copy_in.hpp"
#include "pgpipe/identifier.hpp"
#include "pgpipe/input.hpp"
#include "pgpipe/interrupt.hpp"
#include "pgpipe/log.hpp"
#include "pgpipe/progress.hpp"
#include "pgpipe/row_splitter.hpp"
#include "pgpipe/schema.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <thread>
#include <unistd.h>

namespace pgpipe {
namespace {

constexpr size_t read_chunk = 1 << 20;
constexpr uint64_t default_batch_bytes = 16 << 20; // when batching is implied but no size is given

// The rows of one batch: bytes of whole rows, and where each row starts.
struct batch {
    std::string bytes;
    std::vector<size_t> starts; // row k is [starts[k], starts[k+1]); the last entry is the end
    size_t input_index = 0;
    uint64_t first_line = 1;    // line number of row 0 in its input (1-based, the header counts)
    uint64_t first_offset = 0;  // byte offset of bytes[0] in its (decompressed) input
    uint64_t size() const { return starts.back() - starts.front(); }
    // Physical line of row k: rows may hold newlines (CSV quotes, escaped
    // text newlines), and editors count those. Remembers the last answer,
    // since rejects come mostly in order.
    uint64_t line_of(size_t k) const {
        if (rows_are_lines)
            return first_line + k;
        if (k < m_memo_row) {
            m_memo_row = 0;
            m_memo_line = first_line;
        }
        m_memo_line += count_newlines(bytes.data() + starts[m_memo_row], starts[k] - starts[m_memo_row]);
        m_memo_row = k;
        return m_memo_line;
    }
    bool rows_are_lines = false; // binary: "line" means row, not newline-counted
    mutable size_t m_memo_row = 0;
    mutable uint64_t m_memo_line = 1;
    size_t rows() const { return starts.empty() ? 0 : starts.size() - 1; }
    std::string_view row(size_t k) const { return std::string_view(bytes).substr(starts[k], starts[k + 1] - starts[k]); }
};

// Where the load stands in the input, as recorded with each commit.
struct position {
    size_t input_index = 0;
    uint64_t offset = 0;
    uint64_t line = 1;
};

struct reject {
    std::string raw;
    std::string log_line;
};

std::string trimmed_line(std::string text) {
    for (auto& c : text)
        if (c == '\n' || c == '\t' || c == '\r')
            c = ' ';
    return text;
}

class batch_loader {
public:
    explicit batch_loader(const copy_load_options& o) : m_o(o) {
        m_inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
        // A batch is also cut at 16 MiB unless --batch-bytes says otherwise:
        // --batch-rows 100k of 33 kB rows must not hold 3 GB.
        m_batch_bytes = o.batch_bytes ? *o.batch_bytes : default_batch_bytes;
        m_batch_rows = o.batch_rows ? *o.batch_rows : UINT64_MAX;
        m_summary.program = std::string(program_name());
        m_summary.target = o.table;
    }

    load_summary run();

private:
    // --- setup
    void validate();
    void connect();
    void prepare_statements();
    void open_rejects();
    position read_progress(bool& finished);

    // --- loading
    void load_input(size_t index, const position& from);
    void check_csv_header(const std::string& input) const;
    std::vector<std::string> m_column_names; // unquoted, for the CSV header check
    void cut_batches(batch& b, bool at_end);
    void commit_batch(batch& b);
    void attempt_batch(batch& b);
    uint64_t load_range(batch& b, size_t a, size_t z);
    struct range_result {
        bool ok = false;
        uint64_t rows = 0;
        std::optional<server_error> failure;
    };
    range_result copy_range(batch& b, size_t a, size_t z);
    void reject_row(batch& b, size_t k, const server_error* why);
    void check_reject_limit(bool at_batch_end, const batch& b);
    void write_rejects();
    void save_progress(const position& after);
    [[noreturn]] void stop_for_rejects(const batch& b);
    std::string where(const batch& b, size_t k) const {
        return input_name(b.input_index) + ":" + std::to_string(b.line_of(k));
    }
    std::string input_name(size_t index) const { return m_inputs[index] == "-" ? "stdin" : m_inputs[index]; }

    const copy_load_options& m_o;
    std::vector<std::string> m_inputs;
    uint64_t m_batch_bytes, m_batch_rows;
    std::optional<connection> m_conn;
    std::string m_table_sql, m_columns_sql, m_copy_target_sql, m_copy_stage_sql, m_insert_sql;
    std::string m_key;
    bool m_implicit_key = false;
    position m_committed;
    std::string m_binary_header;
    std::string m_csv_header;
    load_summary m_summary;
    uint64_t m_rows_sent = 0;         // rows seen in committed batches (loaded + rejected + conflicts)
    uint64_t m_batch_loaded = 0, m_batch_seen = 0;
    std::vector<reject> m_pending_rejects;
    int m_reject_fd = -1, m_log_fd = -1;
    uint64_t m_reject_size = 0, m_log_size = 0; // committed sizes
    progress_meter m_meter{false};
    progress_state m_state;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
    bool m_truncate_pending = false; // --truncate goes into the first batch's transaction
};

void batch_loader::validate() {
    validate_copy_format(m_o.format);
    if (m_o.freeze)
        throw local_error("--freeze cannot be used with batches", {},
                          "COPY FREEZE needs the table truncated in the same transaction as the whole load");
    if (m_o.single_transaction && (!m_o.resume_key.empty() || m_o.retries > 0))
        throw local_error("--single-transaction cannot be used with --resume-key or --retries", {},
                          "with one transaction nothing is committed before the end, so there is nothing to resume");
    if (m_o.truncate && (!m_o.resume_key.empty() || m_o.retries > 0))
        throw local_error("--truncate cannot be used with --resume-key or --retries",
                          "a resumed load would empty the table of what the first run committed");
    if (m_o.defer_indexes || m_o.defer_constraints)
        throw local_error("--defer-indexes and --defer-constraints cannot be used with batches", {},
                          "they need the whole load in one transaction: drop the batch and recovery options");
    if (m_o.max_rejects && m_o.reject_file.empty())
        throw local_error("--max-rejects needs --reject-file");
    if (m_o.conflict_columns && m_o.on_conflict == conflict_action::none)
        throw local_error("--conflict-columns needs --on-conflict");
    if ((m_o.batch_rows && *m_o.batch_rows == 0) || (m_o.batch_bytes && *m_o.batch_bytes == 0))
        throw local_error("a batch must hold at least one row or byte");
    parse_qualified_name(m_o.table);
    if (m_o.columns)
        parse_name_list(*m_o.columns);
    check_inputs_readable(m_inputs);
}

void batch_loader::connect() {
    m_conn.emplace(connection::open(m_o.connection));
    apply_session_settings(*m_conn, m_o);
}

void batch_loader::prepare_statements() {
    connection& c = *m_conn;
    m_table_sql = quote_qualified_name(c, parse_qualified_name(m_o.table));
    std::vector<std::string> columns;
    if (m_o.columns) {
        m_column_names = parse_name_list(*m_o.columns);
        for (const auto& name : m_column_names)
            columns.push_back(c.quote_identifier(name));
        m_columns_sql = " (";
        for (size_t k = 0; k < columns.size(); ++k)
            m_columns_sql += (k ? ", " : "") + columns[k];
        m_columns_sql += ")";
    }
    // The header is ours to strip (each batch is its own COPY), so HEADER
    // never goes to the server.
    copy_format_options format = m_o.format;
    format.header = false;
    std::string options = copy_options_sql(c, format, false);
    m_copy_target_sql = "COPY " + m_table_sql + m_columns_sql + " FROM STDIN " + options;
    if (!m_o.columns && m_o.format.header) {
        result_ptr r = c.query("SELECT attname FROM pg_attribute WHERE attrelid = " + c.quote_literal(m_table_sql) +
                               "::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum");
        for (int k = 0; k < PQntuples(r.get()); ++k)
            m_column_names.emplace_back(PQgetvalue(r.get(), k, 0));
    }
    if (m_o.on_conflict == conflict_action::none)
        return;

    // Upserts: each batch goes into a temporary table first.
    if (columns.empty())
        columns = insertable_columns(c, m_table_sql); // generated columns are not loaded
    std::string list;
    for (size_t k = 0; k < columns.size(); ++k)
        list += (k ? ", " : "") + columns[k];
    // Only the loaded columns, with their types and nothing else: no NOT
    // NULL for a column the target fills itself, and no default, so that a
    // column left out gets its default once, from the target.
    c.exec("CREATE TEMP TABLE pgcopy_stage ON COMMIT DELETE ROWS AS SELECT " + list + " FROM " + m_table_sql +
           " WITH NO DATA");
    m_copy_stage_sql = "COPY pgcopy_stage (" + list + ") FROM STDIN " + options;
    m_insert_sql = "INSERT INTO " + m_table_sql + " (" + list + ") SELECT " + list + " FROM pgcopy_stage" +
                   on_conflict_clause(c, m_table_sql, columns, m_o.on_conflict == conflict_action::update,
                                      m_o.conflict_columns);
}

// The header line must name the columns being loaded, in order, as the
// server's HEADER MATCH would check them.
void batch_loader::check_csv_header(const std::string& input) const {
    if (m_o.format.format != copy_format::csv || m_column_names.empty())
        return;
    const char delimiter = m_o.format.delimiter ? (*m_o.format.delimiter)[0] : ',';
    const char quote = m_o.format.quote ? (*m_o.format.quote)[0] : '"';
    std::vector<std::string> fields(1);
    bool quoted = false;
    std::string_view line = m_csv_header;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    for (size_t k = 0; k < line.size(); ++k) {
        char ch = line[k];
        if (quoted) {
            if (ch == quote && k + 1 < line.size() && line[k + 1] == quote)
                fields.back() += quote, ++k;
            else if (ch == quote)
                quoted = false;
            else
                fields.back() += ch;
        } else if (ch == quote) {
            quoted = true;
        } else if (ch == delimiter) {
            fields.emplace_back();
        } else {
            fields.back() += ch;
        }
    }
    for (size_t k = 0; k < std::max(fields.size(), m_column_names.size()); ++k) {
        std::string got = k < fields.size() ? fields[k] : "";
        std::string want = k < m_column_names.size() ? m_column_names[k] : "";
        if (got != want)
            throw local_error(input + ":1: the CSV header does not match the columns: field " + std::to_string(k + 1) +
                                  " is " + (k < fields.size() ? "\"" + got + "\"" : "missing") + ", expected " +
                                  (k < m_column_names.size() ? "\"" + want + "\"" : "no more fields"),
                              {}, "name the file's columns with -c, in the file's order");
    }
}

void batch_loader::open_rejects() {
    if (m_o.reject_file.empty())
        return;
    m_reject_fd = ::open(m_o.reject_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    std::string log_path = m_o.reject_file + ".log";
    m_log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (m_reject_fd < 0 || m_log_fd < 0)
        throw local_error("could not open the reject file \"" + m_o.reject_file + "\": " + std::strerror(errno));
    // A fresh load starts them empty; a resumed one keeps what committed
    // batches rejected (the sizes recorded with the progress).
    if (::ftruncate(m_reject_fd, static_cast<off_t>(m_reject_size)) != 0 ||
        ::ftruncate(m_log_fd, static_cast<off_t>(m_log_size)) != 0)
        throw local_error("could not truncate the reject file: " + std::string(std::strerror(errno)));
    ::lseek(m_reject_fd, 0, SEEK_END);
    ::lseek(m_log_fd, 0, SEEK_END);
}

position batch_loader::read_progress(bool& finished) {
    finished = false;
    position p;
    if (m_key.empty())
        return p;
    connection& c = *m_conn;
    // Created on first use only: a role that may write the table need not
    // be allowed to create schemas. Quietly: "already exists" is noise.
    result_ptr exists = c.query("SELECT to_regclass('pgpipe.load_progress') IS NOT NULL");
    bool have_table = std::string(PQgetvalue(exists.get(), 0, 0)) == "t";
    c.exec("SET client_min_messages = warning");
    if (!have_table)
        c.exec("CREATE SCHEMA IF NOT EXISTS pgpipe");
    if (!have_table)
        c.exec("CREATE TABLE IF NOT EXISTS pgpipe.load_progress ("
           " key text PRIMARY KEY, target text NOT NULL, inputs text NOT NULL,"
           " input_index int NOT NULL, input_offset bigint NOT NULL, input_line bigint NOT NULL,"
           " rows_loaded bigint NOT NULL, rows_rejected bigint NOT NULL, rows_seen bigint NOT NULL,"
           " reject_bytes bigint NOT NULL, reject_log_bytes bigint NOT NULL, batches bigint NOT NULL,"
           " finished boolean NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())");
    c.exec("RESET client_min_messages");
    result_ptr r = c.query("SELECT target, inputs, input_index, input_offset, input_line, rows_loaded, rows_rejected,"
                           " rows_seen, reject_bytes, reject_log_bytes, batches, finished"
                           " FROM pgpipe.load_progress WHERE key = " + c.quote_literal(m_key));
    if (PQntuples(r.get()) == 0)
        return p;
    auto v = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)); };
    std::string inputs;
    for (const auto& in : m_inputs)
        inputs += (inputs.empty() ? "" : "\n") + in;
    if (v(0) != m_o.table || v(1) != inputs)
        throw local_error("resume key \"" + m_key + "\" belongs to another load (of " + v(0) + " from " +
                              trimmed_line(v(1)) + ")",
                          {}, "use a new key for a new load");
    p.input_index = std::stoul(v(2));
    p.offset = std::stoull(v(3));
    p.line = std::stoull(v(4));
    m_summary.rows = std::stoull(v(5));
    m_summary.rejected = std::stoull(v(6));
    m_rows_sent = std::stoull(v(7));
    m_reject_size = std::stoull(v(8));
    m_log_size = std::stoull(v(9));
    m_summary.batches = std::stoull(v(10));
    finished = v(11) == "t";
    return p;
}

void batch_loader::save_progress(const position& after) {
    if (m_key.empty())
        return;
    connection& c = *m_conn;
    std::string inputs;
    for (const auto& in : m_inputs)
        inputs += (inputs.empty() ? "" : "\n") + in;
    auto n = [](uint64_t v) { return std::to_string(v); };
    c.exec("INSERT INTO pgpipe.load_progress AS p (key, target, inputs, input_index, input_offset, input_line,"
           " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes, batches, finished) VALUES (" +
           c.quote_literal(m_key) + ", " + c.quote_literal(m_o.table) + ", " + c.quote_literal(inputs) + ", " +
           n(after.input_index) + ", " + n(after.offset) + ", " + n(after.line) + ", " +
           n(m_summary.rows + m_batch_loaded) + ", " + n(m_summary.rejected + m_pending_rejects.size()) + ", " +
           n(m_rows_sent + m_batch_seen) + ", " + n(m_reject_size) + ", " + n(m_log_size) + ", " +
           n(m_summary.batches + 1) + ", false) ON CONFLICT (key) DO UPDATE SET input_index = EXCLUDED.input_index,"
           " input_offset = EXCLUDED.input_offset, input_line = EXCLUDED.input_line,"
           " rows_loaded = EXCLUDED.rows_loaded, rows_rejected = EXCLUDED.rows_rejected,"
           " rows_seen = EXCLUDED.rows_seen, reject_bytes = EXCLUDED.reject_bytes,"
           " reject_log_bytes = EXCLUDED.reject_log_bytes, batches = EXCLUDED.batches, updated_at = now()");
}

// --- one range of rows: a COPY (and, for upserts, the INSERT from the stage)

batch_loader::range_result batch_loader::copy_range(batch& b, size_t a, size_t z) {
    range_result out;
    connection& c = *m_conn;
    try {
        copy_in_session session(c, m_insert_sql.empty() ? m_copy_target_sql : m_copy_stage_sql);
        if (m_o.format.format == copy_format::binary)
            session.put(m_binary_header.data(), m_binary_header.size());
        size_t from = b.starts[a], to = b.starts[z];
        while (from < to) {
            size_t n = std::min<size_t>(to - from, read_chunk);
            session.put(b.bytes.data() + from, n);
            from += n;
        }
        if (m_o.format.format == copy_format::binary) {
            std::string trailer = binary_copy_trailer();
            session.put(trailer.data(), trailer.size());
        }
        out.rows = session.finish();
        if (!m_insert_sql.empty()) {
            result_ptr r(PQexec(c.get(), m_insert_sql.c_str()), PQclear);
            if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
                throw server_error(r.get(), c.get());
            out.rows = std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
            c.exec("TRUNCATE pgcopy_stage");
        }
        out.ok = true;
    } catch (const server_error& e) {
        if (e.connection_lost())
            throw;
        out.failure = e;
    }
    return out;
}

// Loads rows [a, z) of the batch inside the open transaction, rejecting the
// rows the server refuses: by the line its CONTEXT names, or, where it names
// none (deferred checks, the upsert), by halving the range.
uint64_t batch_loader::load_range(batch& b, size_t a, size_t z) {
    connection& c = *m_conn;
    const bool rejecting = m_reject_fd >= 0;
    uint64_t loaded = 0;
    while (a < z) {
        throw_if_interrupted();
        if (rejecting)
            c.exec("SAVEPOINT pgcopy_range");
        range_result r = copy_range(b, a, z);
        if (r.ok) {
            if (rejecting)
                c.exec("RELEASE SAVEPOINT pgcopy_range");
            return loaded + r.rows;
        }
        const server_error& e = *r.failure;
        std::optional<uint64_t> line = copy_context_line(e.context());
        if (!rejecting) {
            // No reject file: the batch fails as a whole, naming the row.
            error annotated(e.status(),
                            (line && *line <= z - a ? where(b, a + *line - 1) + ": " : std::string()) + e.what(),
                            e.detail(), e.hint());
            annotated.set_context(e.context());
            throw annotated;
        }
        c.exec("ROLLBACK TO SAVEPOINT pgcopy_range");
        c.exec("RELEASE SAVEPOINT pgcopy_range");
        // Only a row can be rejected for a row's fault: bad data (22),
        // a violated constraint (23) or a trigger's RAISE (P0). A missing
        // table or privilege is the load's fault.
        const std::string& state = e.sqlstate();
        if (!(state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0 || state.rfind("P0", 0) == 0)) {
            error whole(e.status(), e.what(), e.detail(), e.hint());
            whole.set_context(e.context());
            throw whole;
        }
        if (line && *line >= 1 && *line <= z - a && m_insert_sql.empty()) {
            size_t bad = a + static_cast<size_t>(*line) - 1;
            if (bad > a)
                loaded += load_range(b, a, bad); // known good unless a deferred check says otherwise
            reject_row(b, bad, &e);
            a = bad + 1;
            continue;
        }
        if (z - a == 1) {
            reject_row(b, a, &e);
            return loaded;
        }
        size_t mid = a + (z - a) / 2;
        loaded += load_range(b, a, mid);
        loaded += load_range(b, mid, z);
        return loaded;
    }
    return loaded;
}

void batch_loader::reject_row(batch& b, size_t k, const server_error* why) {
    reject r;
    std::string_view raw = b.row(k);
    r.raw.assign(raw);
    auto field = [](const std::string& text) { return trimmed_line(text); };
    r.log_line = input_name(b.input_index) + "\t" + std::to_string(b.line_of(k)) + "\t" +
                 std::to_string(b.first_offset + b.starts[k]) + "\t" + (why ? why->sqlstate() : "") + "\t" +
                 (why ? field(why->what()) : "") + "\t" + (why ? field(why->detail()) : "") + "\n";
    m_pending_rejects.push_back(std::move(r));
    check_reject_limit(false, b);
}

void batch_loader::check_reject_limit(bool at_batch_end, const batch& b) {
    if (!m_o.max_rejects)
        return;
    uint64_t rejected = m_summary.rejected + m_pending_rejects.size();
    if (!m_o.max_rejects_percent) {
        if (static_cast<double>(rejected) > *m_o.max_rejects)
            stop_for_rejects(b);
        return;
    }
    // A percentage is judged on whole batches: one bad row early on is not
    // 100% of the load.
    if (at_batch_end) {
        uint64_t seen = m_rows_sent + b.rows();
        if (seen && static_cast<double>(rejected) * 100.0 > *m_o.max_rejects * static_cast<double>(seen))
            stop_for_rejects(b);
    }
}

void batch_loader::stop_for_rejects(const batch& b) {
    uint64_t rejected = m_summary.rejected + m_pending_rejects.size();
    std::string limit = m_o.max_rejects_percent ? std::to_string(static_cast<int>(*m_o.max_rejects)) + "%"
                                                : std::to_string(static_cast<uint64_t>(*m_o.max_rejects));
    throw error(exit_status::rows_rejected,
                "stopped: " + std::to_string(rejected) + " rows rejected, more than --max-rejects " + limit,
                format_count(m_summary.rows) + " rows were committed in " + format_count(m_summary.batches) +
                    " batches, up to " + input_name(m_committed.input_index) + ":" +
                    std::to_string(m_committed.line - 1) + " (byte offset " + std::to_string(m_committed.offset) +
                    "); the batch from line " + std::to_string(b.first_line) + " was rolled back",
                "see " + m_o.reject_file + ".log for the rejected rows");
}

void batch_loader::write_rejects() {
    if (m_reject_fd < 0)
        return;
    auto write_all = [](int fd, const std::string& text, const std::string& name) {
        const char* p = text.data();
        size_t left = text.size();
        while (left) {
            ssize_t n = ::write(fd, p, left);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                throw local_error("could not write \"" + name + "\": " + std::strerror(errno));
            }
            p += n;
            left -= static_cast<size_t>(n);
        }
    };
    std::string rows, logs;
    // The reject file is a loadable stream: CSV keeps its header, binary its
    // header (the trailer goes on at the end of the load).
    if (m_reject_size == 0 && !m_pending_rejects.empty()) {
        if (m_o.format.format == copy_format::binary)
            rows += m_binary_header;
        else if (m_o.format.header)
            rows += m_csv_header;
    }
    if (m_log_size == 0 && !m_pending_rejects.empty())
        logs += "input\tline\tbyte_offset\tsqlstate\tmessage\tdetail\n";
    for (const auto& r : m_pending_rejects) {
        rows += r.raw;
        logs += r.log_line;
    }
    write_all(m_reject_fd, rows, m_o.reject_file);
    write_all(m_log_fd, logs, m_o.reject_file + ".log");
    // On disk before the batch commits, so a committed batch never lacks its rejects.
    ::fdatasync(m_reject_fd);
    ::fdatasync(m_log_fd);
    m_reject_size += rows.size();
    m_log_size += logs.size();
}

void batch_loader::attempt_batch(batch& b) {
    connection& c = *m_conn;
    m_pending_rejects.clear();
    m_batch_loaded = 0;
    m_batch_seen = b.rows();
    const uint64_t reject_size = m_reject_size, log_size = m_log_size;
    try {
        if (m_o.single_transaction)
            c.exec("SAVEPOINT pgcopy_batch");
        else
            c.exec("BEGIN");
        if (m_truncate_pending)
            c.exec("TRUNCATE " + m_table_sql);
        if (m_reject_fd >= 0)
            c.exec("SET CONSTRAINTS ALL IMMEDIATE"); // deferred checks then fail per range, not at COMMIT
        m_batch_loaded = load_range(b, 0, b.rows());
        check_reject_limit(true, b);
        write_rejects();
        position after{b.input_index, b.first_offset + b.starts.back(), b.line_of(b.rows())};
        save_progress(after);
        c.exec(m_o.single_transaction ? "RELEASE SAVEPOINT pgcopy_batch" : "COMMIT");
        m_committed = after;
        m_truncate_pending = false;
    } catch (const std::exception& failure) {
        // Rejects written for a batch that did not commit are taken back;
        // after a lost connection, whether it committed is read back first
        // (commit_batch), so they wait.
        const auto* lost = dynamic_cast<const server_error*>(&failure);
        if (m_reject_fd >= 0 && m_reject_size != reject_size && !(lost && lost->connection_lost())) {
            (void)!::ftruncate(m_reject_fd, static_cast<off_t>(reject_size));
            (void)!::ftruncate(m_log_fd, static_cast<off_t>(log_size));
            ::lseek(m_reject_fd, 0, SEEK_END);
            ::lseek(m_log_fd, 0, SEEK_END);
            m_reject_size = reject_size;
            m_log_size = log_size;
        }
        if (c.ok() && PQtransactionStatus(c.get()) != PQTRANS_IDLE && !m_o.single_transaction)
            PQclear(PQexec(c.get(), "ROLLBACK"));
        throw;
    }
    m_summary.rows += m_batch_loaded;
    m_summary.bytes += b.size();
    m_summary.rejected += m_pending_rejects.size();
    m_rows_sent += b.rows();
    m_summary.batches += 1;
}

void batch_loader::commit_batch(batch& b) {
    if (b.rows() == 0)
        return;
    for (int attempt = 0;; ++attempt) {
        try {
            attempt_batch(b);
            break;
        } catch (const server_error& e) {
            if (!e.connection_lost() || attempt >= m_o.retries)
                throw;
            // Reconnect with backoff, then ask the progress table whether
            // the batch committed before the connection went (a lost reply
            // to COMMIT): never a duplicate, never a gap.
            for (;; ++attempt) {
                double wait = std::min(8.0, 0.25 * std::pow(2.0, attempt));
                log_warning("connection lost in the batch from " + where(b, 0) + " (" + e.what() +
                            "); retrying in " + std::to_string(wait).substr(0, 4) + " s (" +
                            std::to_string(attempt + 1) + " of " + std::to_string(m_o.retries) + ")");
                std::this_thread::sleep_for(std::chrono::duration<double>(wait));
                throw_if_interrupted();
                try {
                    connect();
                    prepare_statements();
                    break;
                } catch (const error& again) {
                    if (attempt + 1 >= m_o.retries)
                        throw;
                }
            }
            bool finished = false;
            position saved = read_progress(finished); // counters and reject sizes as committed
            if (m_reject_fd >= 0) {
                (void)!::ftruncate(m_reject_fd, static_cast<off_t>(m_reject_size));
                (void)!::ftruncate(m_log_fd, static_cast<off_t>(m_log_size));
                ::lseek(m_reject_fd, 0, SEEK_END);
                ::lseek(m_log_fd, 0, SEEK_END);
            }
            if (saved.input_index == b.input_index && saved.offset >= b.first_offset + b.starts.back()) {
                m_committed = saved;
                m_truncate_pending = false;
                log_info("the batch from " + where(b, 0) + " had committed before the connection was lost");
                break;
            }
        }
    }
    m_state.rows = m_summary.rows;
    m_meter.update(m_state);
}

// Moves whole batches out of b while it holds enough rows or bytes; with
// at_end, the rest too.
void batch_loader::cut_batches(batch& b, bool at_end) {
    while (b.rows() > 0) {
        size_t n = b.rows();
        size_t cut = n;
        if (!at_end) {
            if (n < m_batch_rows && b.size() < m_batch_bytes)
                return;
            // The first row end at which the batch is full.
            cut = 1;
            while (cut < n && cut < m_batch_rows && b.starts[cut] - b.starts[0] < m_batch_bytes)
                ++cut;
        }
        batch next;
        next.input_index = b.input_index;
        next.rows_are_lines = b.rows_are_lines;
        next.first_line = b.line_of(cut);
        next.m_memo_line = next.first_line;
        size_t base = b.starts[cut];
        next.first_offset = b.first_offset + base;
        next.bytes.assign(b.bytes, base, std::string::npos);
        for (size_t k = cut; k < b.starts.size(); ++k)
            next.starts.push_back(b.starts[k] - base);
        b.bytes.resize(base);
        b.starts.resize(cut + 1);
        commit_batch(b);
        b = std::move(next);
    }
}

void batch_loader::load_input(size_t index, const position& from) {
    input_stream input(m_inputs[index]);
    auto splitter = make_row_splitter(m_o.format);
    const bool binary = m_o.format.format == copy_format::binary;
    bool header_pending = binary || m_o.format.header;
    // Rows ending at or before from.offset were committed by an earlier run.
    const uint64_t skip_to = from.input_index == index ? from.offset : 0;
    batch b;
    b.input_index = index;
    b.rows_are_lines = binary;
    b.starts.push_back(0);
    std::vector<size_t> ends;
    std::string chunk(read_chunk, '\0');
    uint64_t total = 0;
    bool trailer = false;
    while (!trailer) {
        size_t n = input.read(chunk.data(), chunk.size());
        throw_if_interrupted();
        if (n == 0)
            break;
        ends.clear();
        splitter->scan(chunk.data(), n, ends);
        size_t base = b.bytes.size();
        b.bytes.append(chunk.data(), n);
        total += n;
        for (size_t k = 0; k < ends.size(); ++k) {
            size_t end = base + ends[k];
            if (header_pending) {
                // The first "row" is the binary file header or the CSV header line.
                (binary ? m_binary_header : m_csv_header) = b.bytes.substr(b.starts[0], end - b.starts[0]);
                header_pending = false;
                if (!binary)
                    check_csv_header(input_name(index));
                b.first_line = binary ? 1 : 1 + count_newlines(b.bytes.data(), end);
                b.m_memo_line = b.first_line;
                b.starts[0] = end;
                continue;
            }
            if (binary && splitter->saw_trailer() && k + 1 == ends.size()) {
                trailer = true; // the trailer is not a row
                break;
            }
            if (b.rows() == 0 && b.first_offset + end <= skip_to) {
                // Committed by an earlier run: skip it, count its lines.
                b.first_line += binary ? 1 : count_newlines(b.bytes.data() + b.starts[0], end - b.starts[0]);
                b.m_memo_line = b.first_line;
                b.starts[0] = end;
                continue;
            }
            b.starts.push_back(end);
        }
        if (b.rows() == 0 && b.starts[0] > 0) {
            // Nothing pending: drop what was skipped so memory stays flat.
            b.bytes.erase(0, b.starts[0]);
            b.first_offset += b.starts[0];
            b.starts[0] = 0;
        }
        m_state.bytes += n;
        m_state.input_bytes = input.raw_bytes_read();
        cut_batches(b, false);
    }
    if (!trailer) {
        try {
            splitter->finish(total);
        } catch (const error& e) {
            throw error(e.status(), "\"" + input_name(index) + "\": " + e.what(), e.detail(), e.hint());
        }
    }
    if (skip_to > total)
        throw local_error("\"" + input_name(index) + "\" is shorter (" + std::to_string(total) +
                          " bytes) than what this resume key committed (" + std::to_string(skip_to) + ")",
                          {}, "the input changed since the first run; use a new --resume-key");
    if (header_pending && m_o.format.header) {
        m_csv_header = b.bytes; // a header without a newline and nothing else
        return;
    }
    // A last row without a final newline is a row too (text and CSV).
    if (!binary && b.starts.back() < b.bytes.size() && b.first_offset + b.bytes.size() > skip_to)
        b.starts.push_back(b.bytes.size());
    b.bytes.resize(b.starts.back());
    cut_batches(b, true);
}

load_summary batch_loader::run() {
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count(); };
    auto write_stats = [&] { write_stats_file(m_o.stats_file, m_summary); };
    try {
        validate();
        m_meter = progress_meter(m_o.show_progress);
        connect();
        if (!m_o.resume_key.empty()) {
            m_key = m_o.resume_key;
        } else if (m_o.retries > 0) {
            // Retries need to know whether a batch committed: a key of this run's own.
            std::random_device rd;
            m_key = "pgcopy-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
            m_implicit_key = true;
        }
        bool finished = false;
        position from = read_progress(finished);
        if (finished) {
            log_info("resume key \"" + m_key + "\": this load finished already (" + format_count(m_summary.rows) +
                     " rows); nothing to do");
            m_summary.committed = true;
            return m_summary;
        }
        if (from.offset > 0 || from.input_index > 0)
            log_info("resuming \"" + m_key + "\" at " + input_name(from.input_index) + ":" +
                     std::to_string(from.line) + " (byte offset " + std::to_string(from.offset) + "), " +
                     format_count(m_summary.rows) + " rows committed before");
        m_committed = from;
        prepare_statements();
        open_rejects();
        if (m_o.single_transaction)
            m_conn->exec("BEGIN");
        m_truncate_pending = m_o.truncate;
        for (size_t k = from.input_index; k < m_inputs.size(); ++k)
            load_input(k, from);
        if (m_truncate_pending) // an empty input still empties the table
            m_conn->exec("TRUNCATE " + m_table_sql);
        if (m_o.single_transaction)
            m_conn->exec("COMMIT");
        if (m_o.format.format == copy_format::binary && m_reject_size > 0) {
            std::string trailer = binary_copy_trailer();
            (void)!::write(m_reject_fd, trailer.data(), trailer.size());
        }
        if (!m_key.empty())
            m_conn->exec(m_implicit_key ? "DELETE FROM pgpipe.load_progress WHERE key = " + m_conn->quote_literal(m_key)
                                        : "UPDATE pgpipe.load_progress SET finished = true, updated_at = now()"
                                          " WHERE key = " + m_conn->quote_literal(m_key));
        m_summary.committed = true;
    } catch (const error& e) {
        m_meter.finish();
        m_summary.seconds = elapsed();
        m_summary.error = e.what();
        if (m_o.single_transaction) {
            // One transaction: whatever the batches did is rolled back.
            m_summary.rows = 0;
            m_summary.batches = 0;
            m_summary.rejected = 0;
            if (m_reject_fd >= 0) {
                (void)!::ftruncate(m_reject_fd, 0);
                (void)!::ftruncate(m_log_fd, 0);
            }
            write_stats();
            // The "committed so far" of a --max-rejects stop is void here.
            std::string detail = e.status() == exit_status::rows_rejected || e.detail().empty() ? "" : e.detail() + "\n";
            error out(e.status(), e.what(),
                      detail + "nothing was committed: --single-transaction rolled the whole load back", e.hint());
            out.set_context(e.context());
            throw out;
        }
        write_stats();
        if (m_summary.batches && e.status() != exit_status::rows_rejected) {
            error out(e.status(), e.what(),
                      (e.detail().empty() ? "" : e.detail() + "\n") + format_count(m_summary.rows) +
                          " rows were committed in " + format_count(m_summary.batches) + " batches, up to " +
                          input_name(m_committed.input_index) + ":" + std::to_string(m_committed.line - 1) +
                          "; the batch after it was rolled back" +
                          (m_key.empty() || m_implicit_key ? "" : " (rerun with --resume-key " + m_key + " to go on)"),
                      e.hint());
            out.set_context(e.context());
            throw out;
        }
        throw;
    }
    m_meter.finish();
    m_summary.seconds = elapsed();
    m_summary.input_bytes = m_state.input_bytes;
    std::string line = summary_line(m_summary) + " in " + format_count(m_summary.batches) + " batch" +
                       (m_summary.batches == 1 ? "" : "es");
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + (m_summary.rejected == 1 ? " row" : " rows") +
                " rejected (see " + m_o.reject_file + ".log)";
    if (m_o.on_conflict == conflict_action::ignore && m_rows_sent > m_summary.rows + m_summary.rejected)
        line += "; " + format_count(m_rows_sent - m_summary.rows - m_summary.rejected) + " conflicting rows skipped";
    log_info(line);
    write_stats();
    return m_summary;
}

} // namespace

load_summary run_batched_copy(const copy_load_options& options) {
    batch_loader loader(options);
    return loader.run();
}

} // namespace pgpipe
