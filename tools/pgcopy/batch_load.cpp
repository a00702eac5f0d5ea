// pgcopy's one engine: a reader detects the format (and script blocks), cuts
// the inputs into batches at row boundaries and deals them through a bounded
// queue to --jobs connections; each batch commits with its progress (or, with
// no batch option or --single-transaction, all in one transaction); bad rows
// rejected; resume, retries, deferred indexes, ids by block, binary encoding.
#include "batch_load.hpp"

#include "batch_cut.hpp"
#include "copy_in.hpp"
#include "copy_sql.hpp"
#include "deferral.hpp"
#include "id_blocks.hpp"
#include "resume_record.hpp"
#include "transcode.hpp"
#include "core/text.hpp"
#include "io/reject_sink.hpp"
#include "core/fingerprint.hpp"
#include "pg/identifier.hpp"
#include "io/input.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "io/row_splitter.hpp"
#include "pg/server_rules.hpp"
#include "pg/schema.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace pgpipe {
namespace {

constexpr size_t read_chunk = 1 << 20;
// One transaction: the COPY stays open across batches, which the reader
// hands to it itself, so they can be small (load_plan.cpp cuts them at 256 KiB).
constexpr size_t one_transaction_chunk = 256 << 10; // and reads of 256 KiB: two batches stay small
constexpr int deadlock_retries = 8;                // parallel upserts may deadlock each other

// The rows of one batch: bytes of whole rows, and where each row starts.
struct batch {
    std::string bytes;
    std::vector<size_t> starts; // row k is [starts[k], starts[k+1]); the last entry is the end
    size_t input_index = 0;
    uint64_t first_line = 1;    // line number of row 0 in its input (1-based, the header counts)
    uint64_t first_offset = 0;  // byte offset of bytes[0] in its (decompressed) input
    std::string header;         // the input's binary file header or CSV header line
    bool end_marker = false;    // one row, a \. line with more data after it: rejected, never sent
    const char* refused_marker = nullptr; // ... or a \. line the server refuses: its message
    std::string prefix_hash;    // with a resume key: fingerprint of the input up to the batch's end
    std::string input_stamps;   // with a resume key: stamps of the inputs before this batch's (one job)
    std::string content_hash;   // with a resume key and --jobs: fingerprint of the batch's bytes
    int64_t first_id = 0;       // --reserve-ids: the id of row 0 (row k gets first_id + k)
    std::shared_ptr<const std::string> copy_sql; // a script block's COPY (else the load's)
    uint64_t size() const { return starts.back() - starts.front(); }
    uint64_t end_offset() const { return first_offset + starts.back(); }
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

// Bytes [start, end) of an input that an earlier run of --jobs committed.
struct committed_range {
    size_t input_index;
    uint64_t start, end;
    std::string hash; // fingerprint of the bytes (empty: recorded by an older pgcopy)
};

// What committed batches hold.
struct batch_counts {
    uint64_t rows = 0, rejected = 0, seen = 0, batches = 0;
};

struct reject {
    std::string raw;
    std::string log_line;
};

// Thrown into the reader when a job has failed: the job's own error is the one reported.
struct load_stopped {};

class batch_loader;

// One connection loading whole batches: a COPY per batch (or per range,
// around rejected rows), committed together with the load's progress.
class batch_job {
public:
    batch_job(batch_loader& loader, unsigned index);

    void connect();
    void prepare_statements();
    void commit_batch(batch& b); // with --retries
    // One transaction without batch options: the COPY stays open from batch
    // to batch of one input (or script block), as one streamed COPY.
    void stream_batch(const batch& b);
    void end_stream();
    void abort_stream() { m_stream.reset(); }
    connection& conn() { return *m_conn; }
    bool connected() const { return m_conn.has_value(); }
    uint64_t rows_committed = 0; // by this job, for progress and --stats

private:
    void attempt_batch(batch& b);
    uint64_t load_range(batch& b, size_t a, size_t z);
    struct range_result {
        bool ok = false;
        uint64_t rows = 0;
        std::optional<server_error> failure;
    };
    range_result copy_range(batch& b, size_t a, size_t z);
    std::string_view rows_to_send(const batch& b, size_t a, size_t z, bool& binary);
    void reject_row(batch& b, size_t k, const std::string& sqlstate, const std::string& message,
                    const std::string& detail);
    void check_reject_limit(bool at_batch_end, const batch& b);
    void write_rejects(const batch& b);
    void save_progress(const batch& b, const position& after);
    void count_committed(const batch& b, const position& after);
    void take_back_rejects();
    bool recover_after_lost_connection(batch& b, const server_error& e, int& attempt);
    void reconnect(batch& b, const server_error& e, int& attempt);

    batch_loader& m_loader;
    unsigned m_index;
    std::optional<connection> m_conn;
    std::string m_copy_target_sql, m_copy_stage_sql, m_insert_sql;
    std::string m_copy_binary_sql;          // --send-binary: the same COPY, binary
    std::optional<text_to_binary> m_encoder; // --send-binary: this job's own (its buffers)
    std::string m_encoded;                   // the rows of a range as sent, when pgcopy rewrote them
    // stream_batch's open COPY, and where its rows came from (for FILE:LINE).
    // A row whose server line count or input line count is not one (CSV
    // quotes holding newlines): the few that need telling apart.
    struct multiline_row {
        uint64_t row;            // in the segment
        uint64_t server_extra;   // lines the server counts beyond one
        uint64_t physical_extra; // newlines of the input beyond its line end
    };
    struct stream_segment {
        uint64_t rows_before;
        size_t input_index;
        uint64_t first_line;
        uint64_t server_lines_before = 0;    // the server's line count before it (copy_line_counter)
        std::vector<multiline_row> multiline; // CSV: its rows that span lines
    };
    void count_stream_lines(const batch& b, stream_segment& segment);
    std::pair<size_t, uint64_t> stream_row_of(uint64_t server_line) const; // segment, input line
    std::optional<copy_line_counter> m_stream_lines;
    uint64_t m_stream_lines_total = 0; // the server's line count of the stream so far
    std::optional<copy_in_session> m_stream;
    std::string m_stream_sql;
    size_t m_stream_input = 0;
    bool m_stream_binary = false;
    std::vector<stream_segment> m_segments;
    uint64_t m_stream_rows = 0;
    std::vector<reject> m_pending_rejects;
    uint64_t m_batch_loaded = 0;
    // Held by a batch that has rejects, from writing them to its COMMIT
    // (and through the recovery when the connection is lost in between):
    // the reject files then hold committed batches' rejects only, up to the
    // recorded sizes. Batches without rejects commit without it.
    std::unique_lock<std::mutex> m_reject_lock;
    uint64_t m_reject_snapshot = 0, m_log_snapshot = 0; // the sizes before this batch's rejects
};

class batch_loader {
public:
    batch_loader(const copy_load_options& o, const load_plan& plan, std::unique_ptr<input_stream> first)
        : m_o(o), m_load_plan(plan), m_one_tx(o.single_transaction || plan.one_transaction.value),
          m_chunk(plan.one_transaction.value ? one_transaction_chunk : read_chunk), m_first_input(std::move(first)) {
        m_inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
        m_batch_bytes = plan.batch_bytes.value;
        m_batch_rows = plan.batch_rows ? *plan.batch_rows : UINT64_MAX;
        m_format = o.format;
        m_summary.program = std::string(program_name());
        m_summary.target = o.table.empty() ? "the script's tables" : o.table;
        m_plan = plan.lines;
        m_login = plan.login;
    }

    batch_loader(const batch_loader&) = delete;
    batch_loader& operator=(const batch_loader&) = delete;

    load_summary run();

private:
    friend class batch_job;

    // --- the load's steps
    bool start();
    void prepare();
    void read_all();
    void conclude();
    [[noreturn]] void fail(const error& e);
    std::string one_transaction_outcome(const error& e) const;
    void report();
    void write_stats();
    void stop_jobs();
    double elapsed() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    }
    std::vector<std::thread> m_threads;

    // --- setup (before the jobs start)
    void read_columns(connection& c);
    void open_rejects();
    position read_progress(connection& c, bool& finished, std::vector<committed_range>& ranges);
    void add_batch_counts(connection& c);
    void ensure_progress_row(connection& c);
    void truncate_rejects();
    // The resume record's shape and input stamps (resume_record.hpp).
    load_shape current_shape(connection& c) const;
    void check_shape(connection& c);
    void check_finished_inputs(size_t count);
    std::string m_recorded_shape;          // the earlier run's (empty: none recorded)
    std::string m_shape_text;              // this run's, written with the progress row
    input_stamps m_stamps;                 // one per input: the earlier run's, then this run's as each ends
    std::string m_stamps_text;             // stamps of the inputs the reader has finished, as batches carry them

    // --- reading and dealing out batches
    struct input_cursor;
    void sniff_first_input(connection& c);
    void check_script_options(size_t index) const;
    // Whether an input whose first line this is loads as a script stream:
    // --script or no TABLE says so, else a COPY line does (text only).
    bool starts_script(std::string_view first_line) const {
        return m_format.format == copy_format::text &&
               (m_o.script || m_o.table.empty() || parse_script_header(first_line).has_value());
    }
    // What take_row is given: a row, a \. line, or the \. that ends a row of
    // data (the data went before it as a row of its own).
    // marker_off_style: a \. whose line end is not the input's first line's;
    // marker_not_alone: a \. after data that the server refuses (18).
    enum class row_kind { row, marker, marker_after_data, marker_off_style, marker_not_alone };
    // Script streams: a line that starts a block, or the \. that ends one.
    bool take_script_line(input_cursor& in, size_t end, row_kind kind);
    void start_script_block(input_cursor& in, std::string_view line);
    std::optional<connection> m_script_conn; // the reader's own, to resolve a block's table
    std::string m_block_table;               // the table of the block being read
    bool m_first_is_script = false;          // the first input is a script stream
    void wait_for_batches();
    std::string m_table_oid;                 // TABLE's, which every block must load into
    void load_input(size_t index);
    void take_chunk(input_cursor& in, const char* chunk, size_t n);
    void take_row(input_cursor& in, size_t end, row_kind kind);
    void skip_row(input_cursor& in, size_t end);
    void hold_marker(input_cursor& in, size_t end);
    void refuse_marker(input_cursor& in, size_t end, row_kind kind);
    void release_marker(input_cursor& in);
    size_t flush_rows_before(batch& b, size_t end);
    void finish_input(input_cursor& in);
    void check_header(const std::string& input, const std::string& header) const;
    void cut_batches(batch& b, bool at_end);
    // Fingerprints of what a resumed load skips, against what its first run recorded.
    void print_through(const batch& b, size_t end);
    void check_resumed_prefix(const input_cursor& in, size_t end);
    void check_resumed_range(const input_cursor& in, const committed_range* range, size_t start, size_t end);
    [[noreturn]] void input_changed(const std::string& input, const std::string& what);
    bool m_input_changed = false;
    // Room for a whole batch at once: growing by doubling would hold up to
    // twice a batch per buffer. (Past 64 MiB, doubling it is.)
    void reserve_batch(batch& b) const {
        b.bytes.reserve(static_cast<size_t>(std::min<uint64_t>(m_batch_bytes, 64 << 20)) + 2 * m_chunk);
    }
    void dispatch(batch&& b);
    void stream_inline(batch&& b);
    void run_job(batch_job& job);
    void wait_for_jobs();
    // The range an earlier run committed that holds bytes [start, end), or
    // nullptr; &m_prefix_range for the committed prefix.
    const committed_range* committed_range_of(size_t input_index, uint64_t start, uint64_t end) const;
    const committed_range* range_holding(size_t input_index, uint64_t offset) const;
    std::string committed_so_far() const;

    bool blame_reserved_id(const batch& b, size_t k, const server_error& e, std::string& message,
                           std::string& detail) const;
    // Which row of [a, z), sent in one COPY, the server's CONTEXT line names.
    std::optional<size_t> row_named(const batch& b, size_t a, size_t z, std::optional<uint64_t> line) const {
        const size_t k = row_at_copy_line(m_format.format == copy_format::csv, z - a, line.value_or(0),
                                          [&](size_t i) { return b.row(a + i); });
        return k < z - a ? std::optional<size_t>(a + k) : std::nullopt;
    }
    std::string where(const batch& b, size_t k) const {
        return input_name(b.input_index) + ":" + std::to_string(b.line_of(k));
    }
    std::string input_name(size_t index) const { return input_display_name(m_inputs[index]); }
    std::string inputs_text() const {
        std::string inputs;
        for (const auto& in : m_inputs)
            inputs += (inputs.empty() ? "" : "\n") + in;
        return inputs;
    }

    // Fixed once the jobs start.
    const copy_load_options& m_o;
    const load_plan& m_load_plan; // what run_copy chose: jobs, batch size, levers
    const bool m_one_tx; // --single-transaction, or no batch option: nothing commits before the end
    const size_t m_chunk; // bytes the reader asks the input for at once
    bool m_committing = false; // the one transaction's COMMIT was sent
    std::vector<std::string> m_inputs;
    uint64_t m_batch_bytes, m_batch_rows;
    std::string m_table_sql, m_columns_sql, m_column_list_sql; // quoted
    std::vector<std::string> m_column_names; // unquoted, for the CSV header check
    std::vector<std::string> m_load_columns; // quoted, for upserts: the columns loaded
    std::string m_key;
    bool m_implicit_key = false;
    bool m_parallel = false; // more than one job: batches commit out of order
    std::optional<connection_options> m_login; // as the first connection logged in
    position m_resume_from;  // an earlier run's committed prefix
    std::string m_resume_hash; // ... its fingerprint (empty: none recorded)
    committed_range m_prefix_range{0, 0, 0, {}};
    std::unique_ptr<input_stream> m_first_input; // opened to look at its first bytes; load_input reads on
    std::string m_first_chunk;                   // those first bytes
    copy_format_options m_format;                // -F's, or binary when the data says so
    marker_rules m_markers;                      // how the server reads end-of-data markers
    std::optional<std::vector<std::string>> m_header_columns; // --header without -c: the first header's names
    // The reader's fingerprints (with a resume key): of the current input up
    // to m_printed, and of the committed range being skipped.
    fingerprint m_input_print;
    uint64_t m_printed = 0;
    bool m_prefix_checked = false;
    const committed_range* m_checking = nullptr;
    fingerprint m_range_print;
    std::vector<committed_range> m_resume_ranges; // and its --jobs batches past it
    std::vector<std::unique_ptr<batch_job>> m_jobs;
    std::unique_ptr<reject_sink> m_rejects; // --reject-file
    progress_meter m_meter{false};
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();

    // Shared by the reader and the jobs: under m_mutex, never held across a
    // statement, so that jobs take batches while another commits.
    std::mutex m_mutex;
    std::mutex m_reject_mutex; // see batch_job::m_reject_lock
    batch_counts m_from_batches; // what --jobs batch rows of an earlier run add to load_progress's counts
    std::condition_variable m_changed;
    std::deque<batch> m_queue;
    std::vector<batch> m_spare; // loaded batches, kept for their buffers: no fresh pages per batch
    unsigned m_outstanding = 0; // batches queued or being loaded
    bool m_closed = false;      // no more batches will come
    bool m_stopping = false;    // take no more batches
    bool m_dispatched = false;  // a batch went out (--truncate waits for the first to commit)
    std::exception_ptr m_failure; // the first job's error
    position m_committed;       // the end of the last committed batch (in input order with one job)
    load_summary m_summary;
    uint64_t m_rows_sent = 0;   // rows seen in committed batches (loaded + rejected + conflicts)
    uint64_t m_reject_size = 0, m_log_size = 0; // committed sizes of the reject files
    progress_state m_state;
    bool m_truncate_pending = false; // --truncate goes into the first batch's transaction

    // --defer-*: with --single-transaction, dropped in it and put back
    // before its COMMIT; else recorded, dropped, and put back by every job's
    // connection at the end (deferral.hpp).
    void defer_for_load(connection& c);
    void restore_after_load();
    std::string restore_after_failure(const error& e);
    std::optional<table_deferral> m_deferral;
    // --reserve-ids and --send-binary, set before the jobs start; the plan.
    void plan_encoding(connection& c);
    void plan_ids(connection& c, const std::vector<std::string>& loaded);
    void plan_binary(connection& c, const std::vector<std::string>& loaded);
    void add_plan_line(std::string line) { m_plan.push_back(std::move(line)); }
    void publish_plan();
    std::vector<std::string> m_plan; // --fast's choices, then the loader's
    std::optional<sequence_column> m_sequence;
    std::optional<text_to_binary> m_encoder;
    std::atomic<uint64_t> m_copies_binary{0}, m_copies_text{0}; // --send-binary: COPYs sent each way
    std::string m_record_batch_sql;                // run in each batch's transaction while deferred
    std::vector<std::string> m_restore_in_transaction;
};

// ---------------------------------------------------------------- setup

batch_job::batch_job(batch_loader& loader, unsigned index)
    : m_loader(loader), m_index(index), m_reject_lock(loader.m_reject_mutex, std::defer_lock) {}

// The quoted column list (from -c, or from the first input's header), and
// the unquoted names every header must match.
void batch_loader::read_columns(connection& c) {
    std::vector<std::string> columns;
    if (m_o.columns)
        m_column_names = parse_name_list(*m_o.columns);
    else if (m_header_columns)
        m_column_names = *m_header_columns;
    for (const auto& name : m_column_names)
        columns.push_back(c.quote_identifier(name));
    if (!columns.empty())
        m_columns_sql = " (" + quote_name_list(c, m_column_names) + ")";
    if (m_o.on_conflict == conflict_action::none)
        return;
    if (columns.empty())
        columns = insertable_columns(c, m_table_sql); // generated columns are not loaded
    for (size_t k = 0; k < columns.size(); ++k)
        m_column_list_sql += (k ? ", " : "") + columns[k];
    m_load_columns = std::move(columns);
}

void batch_job::connect() {
    // The first job may ask for a password; the others and every retry reuse it.
    m_conn.emplace(connection::open(m_loader.m_login ? *m_loader.m_login : m_loader.m_o.connection));
    if (!m_loader.m_login)
        m_loader.m_login = m_conn->same_login(m_loader.m_o.connection);
    apply_session_settings(*m_conn, m_loader.m_load_plan.toast_compression.value);
}

void batch_job::prepare_statements() {
    connection& c = *m_conn;
    const copy_load_options& o = m_loader.m_o;
    // The header is ours to strip (each batch is its own COPY), so HEADER
    // never goes to the server.
    copy_format_options format = m_loader.m_format;
    format.header = false;
    std::string options = copy_options_sql(c, format, o.freeze);
    m_copy_target_sql = "COPY " + m_loader.m_table_sql + m_loader.m_columns_sql + " FROM STDIN " + options;
    if (m_loader.m_encoder) {
        m_encoder = m_loader.m_encoder;
        m_copy_binary_sql = "COPY " + m_loader.m_table_sql + m_loader.m_columns_sql + " FROM STDIN (FORMAT binary)";
    }
    if (o.on_conflict == conflict_action::none)
        return;

    // Upserts: each batch goes into a temporary table first (one per
    // connection, so jobs do not meet there).
    const std::string& list = m_loader.m_column_list_sql;
    // Only the loaded columns, with their types and nothing else: no NOT
    // NULL for a column the target fills itself, and no default, so that a
    // column left out gets its default once, from the target.
    c.exec("CREATE TEMP TABLE pgcopy_stage ON COMMIT DELETE ROWS AS SELECT " + list + " FROM " +
           m_loader.m_table_sql + " WITH NO DATA");
    m_copy_stage_sql = "COPY pgcopy_stage (" + list + ") FROM STDIN " + options;
    m_insert_sql = "INSERT INTO " + m_loader.m_table_sql + " (" + list + ") SELECT " + list + " FROM pgcopy_stage" +
                   on_conflict_clause(c, m_loader.m_table_sql, m_loader.m_load_columns, o.on_conflict == conflict_action::update,
                                      o.conflict_columns);
}

// Every input's header line must name the columns being loaded, in order,
// as the server's HEADER MATCH would check them.
void batch_loader::check_header(const std::string& input, const std::string& header) const {
    if (m_column_names.empty())
        return;
    const std::vector<std::string> fields = header_names(header, m_format);
    for (size_t k = 0; k < std::max(fields.size(), m_column_names.size()); ++k) {
        std::string got = k < fields.size() ? fields[k] : "";
        std::string want = k < m_column_names.size() ? m_column_names[k] : "";
        if (got != want)
            throw local_error(input + ":1: the header does not match the columns: field " + std::to_string(k + 1) +
                                  " is " + (k < fields.size() ? "\"" + got + "\"" : "missing") + ", expected " +
                                  (k < m_column_names.size() ? "\"" + want + "\"" : "no more fields"),
                              {}, "every input of a load names the same columns, in the same order");
    }
}

void batch_loader::open_rejects() {
    if (!m_o.reject_file.empty()) // a resumed load keeps what committed batches rejected
        m_rejects = std::make_unique<reject_sink>(m_o.reject_file, m_reject_size, m_log_size);
}

// Back to the committed sizes: rejects of a batch that did not commit go.
void batch_loader::truncate_rejects() {
    if (m_rejects)
        m_rejects->truncate(m_reject_size, m_log_size);
}

// Progress tables made by an older pgcopy lack the fingerprints and the
// counts of --jobs batches: add them (only then, so that a role that cannot
// ALTER still resumes).
void upgrade_progress_tables(connection& c) {
    static const char* const added[][2] = {
        {"load_progress", "input_hash text"},        {"load_batches", "content_hash text"},
        {"load_batches", "rows_loaded bigint"},      {"load_batches", "rows_rejected bigint"},
        {"load_batches", "rows_seen bigint"},        {"load_batches", "reject_bytes bigint"},
        {"load_batches", "reject_log_bytes bigint"}, {"load_progress", "shape text"},
        {"load_progress", "input_stamps text"},
    };
    result_ptr r = c.query("SELECT count(*) FROM pg_attribute WHERE attrelid IN ('pgpipe.load_progress'::regclass,"
                           " 'pgpipe.load_batches'::regclass) AND attname IN ('input_hash', 'content_hash',"
                           " 'rows_loaded', 'rows_rejected', 'rows_seen', 'reject_bytes', 'reject_log_bytes', 'shape',"
                           " 'input_stamps')"
                           " AND NOT attisdropped");
    // load_progress has rows_*, reject_* of its own: 5 + the 9 added.
    if (std::string(PQgetvalue(r.get(), 0, 0)) == "14")
        return;
    for (const auto& column : added)
        c.exec(std::string("ALTER TABLE pgpipe.") + column[0] + " ADD COLUMN IF NOT EXISTS " + column[1]);
}

// What the --jobs batches of earlier runs committed, on top of the progress row.
void batch_loader::add_batch_counts(connection& c) {
    result_ptr r = c.query("SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0),"
                           " coalesce(sum(rows_seen), 0), count(*), coalesce(max(reject_bytes), 0),"
                           " coalesce(max(reject_log_bytes), 0) FROM pgpipe.load_batches WHERE key = " +
                           c.quote_literal(m_key));
    auto v = [&](int col) { return std::stoull(PQgetvalue(r.get(), 0, col)); };
    m_from_batches = {v(0), v(1), v(2), v(3)};
    m_summary.rows += m_from_batches.rows;
    m_summary.rejected += m_from_batches.rejected;
    m_rows_sent += m_from_batches.seen;
    m_summary.batches += m_from_batches.batches;
    // The reject files grow in commit order: the last committed batch's sizes are the largest.
    m_reject_size = std::max<uint64_t>(m_reject_size, v(4));
    m_log_size = std::max<uint64_t>(m_log_size, v(5));
}

// --jobs batches record only their own rows; the load's row must be there
// for a rerun to know the key's load.
void batch_loader::ensure_progress_row(connection& c) {
    if (m_key.empty() || !m_parallel)
        return;
    c.exec("INSERT INTO pgpipe.load_progress (key, target, inputs, input_index, input_offset, input_line,"
           " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes, batches, finished, input_hash, shape)"
           " VALUES (" + c.quote_literal(m_key) + ", " + c.quote_literal(m_o.table) + ", " +
           c.quote_literal(inputs_text()) + ", 0, 0, 1, 0, 0, 0, 0, 0, 0, false, '', " + c.quote_literal(m_shape_text) +
           ") ON CONFLICT (key) DO NOTHING");
}

position batch_loader::read_progress(connection& c, bool& finished, std::vector<committed_range>& ranges_out) {
    finished = false;
    position p;
    if (m_key.empty())
        return p;
    create_pgpipe_tables(
        c, {"pgpipe.load_progress", "pgpipe.load_batches"},
        {"CREATE TABLE IF NOT EXISTS pgpipe.load_progress ("
         " key text PRIMARY KEY, target text NOT NULL, inputs text NOT NULL,"
         " input_index int NOT NULL, input_offset bigint NOT NULL, input_line bigint NOT NULL,"
         " rows_loaded bigint NOT NULL, rows_rejected bigint NOT NULL, rows_seen bigint NOT NULL,"
         " reject_bytes bigint NOT NULL, reject_log_bytes bigint NOT NULL, batches bigint NOT NULL,"
         " finished boolean NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), input_hash text,"
         " shape text, input_stamps text)",
         // The batches --jobs committed out of order, past input_offset.
         "CREATE TABLE IF NOT EXISTS pgpipe.load_batches ("
         " key text NOT NULL, input_index int NOT NULL, start_offset bigint NOT NULL,"
         " end_offset bigint NOT NULL, content_hash text, rows_loaded bigint, rows_rejected bigint,"
         " rows_seen bigint, reject_bytes bigint, reject_log_bytes bigint,"
         " PRIMARY KEY (key, input_index, start_offset))"});
    upgrade_progress_tables(c);
    result_ptr r = c.query("SELECT target, inputs, input_index, input_offset, input_line, rows_loaded, rows_rejected,"
                           " rows_seen, reject_bytes, reject_log_bytes, batches, finished, coalesce(input_hash, ''),"
                           " coalesce(shape, ''), coalesce(input_stamps, '') FROM pgpipe.load_progress WHERE key = " + c.quote_literal(m_key));
    if (PQntuples(r.get()) == 0)
        return p;
    auto v = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)); };
    if (v(0) != m_o.table || v(1) != inputs_text())
        throw local_error("resume key \"" + m_key + "\" belongs to another load (of " + v(0) + " from " +
                              one_line(v(1)) + ")",
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
    m_resume_hash = v(12);
    m_recorded_shape = v(13);
    m_stamps.read(v(14), m_inputs.size());
    add_batch_counts(c);
    result_ptr ranges = c.query("SELECT input_index, start_offset, end_offset, coalesce(content_hash, '')"
                                " FROM pgpipe.load_batches WHERE key = " +
                                c.quote_literal(m_key) + " ORDER BY input_index, start_offset");
    for (int k = 0; k < PQntuples(ranges.get()); ++k)
        ranges_out.push_back({std::stoul(PQgetvalue(ranges.get(), k, 0)),
                                   std::stoull(PQgetvalue(ranges.get(), k, 1)),
                                   std::stoull(PQgetvalue(ranges.get(), k, 2)), PQgetvalue(ranges.get(), k, 3)});
    return p;
}

const committed_range* batch_loader::committed_range_of(size_t input_index, uint64_t start, uint64_t end) const {
    if (input_index < m_resume_from.input_index ||
        (input_index == m_resume_from.input_index && end <= m_resume_from.offset))
        return &m_prefix_range;
    const committed_range* r = range_holding(input_index, start);
    return r && end <= r->end ? r : nullptr;
}

// The committed --jobs range in which byte offset lies, or nullptr.
const committed_range* batch_loader::range_holding(size_t input_index, uint64_t offset) const {
    auto after = std::upper_bound(m_resume_ranges.begin(), m_resume_ranges.end(), std::pair(input_index, offset),
                                  [](const std::pair<size_t, uint64_t>& key, const committed_range& r) {
                                      return key < std::pair(r.input_index, r.start);
                                  });
    if (after == m_resume_ranges.begin())
        return nullptr;
    const committed_range& r = *std::prev(after);
    return r.input_index == input_index && r.start <= offset && offset < r.end ? &r : nullptr;
}

// ---------------------------------------------------------------- one batch in one job

// With one job the committed prefix moves with each batch, in the one
// progress row. With several, each batch inserts a row of its own into
// load_batches (its range, counts and fingerprint): no row is shared, so
// the jobs' transactions do not wait for each other's COMMIT.
void batch_job::save_progress(const batch& b, const position& after) {
    batch_loader& l = m_loader;
    if (l.m_key.empty())
        return;
    connection& c = *m_conn;
    auto n = [](uint64_t v) { return std::to_string(v); };
    const bool rejects = m_reject_lock.owns_lock();
    if (l.m_parallel) {
        c.exec("INSERT INTO pgpipe.load_batches (key, input_index, start_offset, end_offset, content_hash,"
               " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes) VALUES (" +
               c.quote_literal(l.m_key) + ", " + n(b.input_index) + ", " + n(b.first_offset + b.starts[0]) + ", " +
               n(b.end_offset()) + ", " + c.quote_literal(b.content_hash) + ", " + n(m_batch_loaded) + ", " +
               n(m_pending_rejects.size()) + ", " + n(b.rows()) + ", " +
               (rejects ? n(l.m_rejects->rows_size()) + ", " + n(l.m_rejects->log_size()) : "NULL, NULL") + ")");
        return;
    }
    // The progress row counts what one-job batches committed; --jobs batch
    // rows of an earlier run count their own.
    const load_summary& s = l.m_summary;
    const batch_counts& e = l.m_from_batches;
    c.exec("INSERT INTO pgpipe.load_progress AS p (key, target, inputs, input_index, input_offset, input_line,"
           " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes, batches, finished, input_hash, shape,"
           " input_stamps) VALUES (" +
           c.quote_literal(l.m_key) + ", " + c.quote_literal(l.m_o.table) + ", " + c.quote_literal(l.inputs_text()) +
           ", " + n(after.input_index) + ", " + n(after.offset) + ", " + n(after.line) + ", " +
           n(s.rows - e.rows + m_batch_loaded) + ", " + n(s.rejected - e.rejected + m_pending_rejects.size()) + ", " +
           n(l.m_rows_sent - e.seen + b.rows()) + ", " +
           (rejects ? n(l.m_rejects->rows_size()) + ", " + n(l.m_rejects->log_size())
                    : n(l.m_reject_size) + ", " + n(l.m_log_size)) + ", " +
           n(s.batches - e.batches + 1) + ", false, " + c.quote_literal(b.prefix_hash) + ", " +
           c.quote_literal(l.m_shape_text) + ", " + c.quote_literal(b.input_stamps) +
           ") ON CONFLICT (key) DO UPDATE SET input_index = EXCLUDED.input_index, input_hash = EXCLUDED.input_hash,"
           " shape = EXCLUDED.shape, input_stamps = EXCLUDED.input_stamps,"
           " input_offset = EXCLUDED.input_offset, input_line = EXCLUDED.input_line,"
           " rows_loaded = EXCLUDED.rows_loaded, rows_rejected = EXCLUDED.rows_rejected,"
           " rows_seen = EXCLUDED.rows_seen, reject_bytes = EXCLUDED.reject_bytes,"
           " reject_log_bytes = EXCLUDED.reject_log_bytes, batches = EXCLUDED.batches, updated_at = now()");
}

// Rows [a, z) as they go to the server: as read, or rewritten into
// m_encoded (binary, and/or with their reserved ids). Sets binary.
std::string_view batch_job::rows_to_send(const batch& b, size_t a, size_t z, bool& binary) {
    const batch_loader& l = m_loader;
    binary = l.m_format.format == copy_format::binary;
    const std::string_view bytes(b.bytes);
    m_encoded.clear();
    if (m_encoder) {
        if (m_encoder->encode(bytes, &b.starts[a], z - a, m_encoded, b.first_id + static_cast<int64_t>(a))) {
            ++m_loader.m_copies_binary;
            binary = true;
            return m_encoded;
        }
        ++m_loader.m_copies_text;
    }
    if (!l.m_sequence)
        return bytes.substr(b.starts[a], b.starts[z] - b.starts[a]);
    const char delimiter = l.m_format.delimiter ? (*l.m_format.delimiter)[0]
                           : l.m_format.format == copy_format::csv ? ',' : '\t';
    prepend_ids(bytes, &b.starts[a], z - a, l.m_format.format, delimiter, l.m_sequence->type,
                b.first_id + static_cast<int64_t>(a), m_encoded);
    return m_encoded;
}

batch_job::range_result batch_job::copy_range(batch& b, size_t a, size_t z) {
    range_result out;
    connection& c = *m_conn;
    try {
        bool binary = false;
        const std::string_view rows = rows_to_send(b, a, z, binary);
        const bool encoded = binary && m_loader.m_format.format != copy_format::binary;
        copy_in_session session(c, encoded       ? m_copy_binary_sql
                                   : b.copy_sql ? *b.copy_sql
                                   : m_insert_sql.empty() ? m_copy_target_sql : m_copy_stage_sql);
        if (binary) {
            static const std::string our_header = binary_copy_header();
            const std::string& header = encoded ? our_header : b.header;
            session.put(header.data(), header.size());
        }
        for (size_t from = 0; from < rows.size(); from += read_chunk)
            session.put(rows.data() + from, std::min<size_t>(rows.size() - from, read_chunk));
        if (binary) {
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

bool is_deadlock(const server_error& e) { return e.sqlstate() == "40P01" || e.sqlstate() == "40001"; }

// Loads rows [a, z) of the batch inside the open transaction, rejecting the
// rows the server refuses: by the line its CONTEXT names, or, where it names
// none (deferred checks, the upsert), by halving the range.
uint64_t batch_job::load_range(batch& b, size_t a, size_t z) {
    connection& c = *m_conn;
    const bool rejecting = m_loader.m_rejects != nullptr;
    uint64_t loaded = 0;
    while (a < z) {
        throw_if_interrupted();
        if (rejecting)
            c.exec("SAVEPOINT pgcopy_range");
        range_result r = copy_range(b, a, z);
        if (r.ok) {
            // The rows carry this subtransaction's xid, not the batch's: a
            // record written beside them carries it too (deferral.hpp).
            if (rejecting && r.rows && !m_loader.m_record_batch_sql.empty())
                c.exec(m_loader.m_record_batch_sql);
            if (rejecting)
                c.exec("RELEASE SAVEPOINT pgcopy_range");
            return loaded + r.rows;
        }
        const server_error& e = *r.failure;
        if (is_deadlock(e))
            throw e; // the batch's, never a row's: commit_batch loads it again
        const std::optional<size_t> bad_row = m_loader.row_named(b, a, z, copy_context_line(e.context()));
        const bool named = bad_row.has_value();
        std::string message = escape_line_ends(e.what()), detail = e.detail();
        if (named)
            m_loader.blame_reserved_id(b, *bad_row, e, message, detail);
        if (!rejecting) {
            // No reject file: the batch fails as a whole, naming the row.
            error annotated(e.status(), (named ? m_loader.where(b, *bad_row) + ": " : std::string()) + message,
                            detail, e.hint());
            annotated.set_context(e.context());
            throw annotated;
        }
        c.exec("ROLLBACK TO SAVEPOINT pgcopy_range");
        c.exec("RELEASE SAVEPOINT pgcopy_range");
        if (!row_fault(e.sqlstate())) { // only a row's own fault rejects it (copy_in.hpp)
            error whole(e.status(), e.what(), e.detail(), e.hint());
            whole.set_context(e.context());
            throw whole;
        }
        if (named && m_insert_sql.empty()) {
            size_t bad = *bad_row;
            if (bad > a)
                loaded += load_range(b, a, bad); // known good unless a deferred check says otherwise
            reject_row(b, bad, e.sqlstate(), message, detail);
            a = bad + 1;
            continue;
        }
        if (z - a == 1) {
            reject_row(b, a, e.sqlstate(), e.what(), e.detail());
            return loaded;
        }
        size_t mid = a + (z - a) / 2;
        loaded += load_range(b, a, mid);
        loaded += load_range(b, mid, z);
        return loaded;
    }
    return loaded;
}

void batch_job::reject_row(batch& b, size_t k, const std::string& sqlstate, const std::string& message,
                           const std::string& detail) {
    reject r;
    reject_sink::add_row(r.raw, b.row(k), m_loader.m_format.format != copy_format::binary);
    r.log_line = reject_sink::log_line(m_loader.input_name(b.input_index), b.line_of(k),
                                       std::to_string(b.first_offset + b.starts[k]), sqlstate, message, detail);
    m_pending_rejects.push_back(std::move(r));
    check_reject_limit(false, b);
}

void batch_job::check_reject_limit(bool at_batch_end, const batch& b) {
    const copy_load_options& o = m_loader.m_o;
    if (!o.max_rejects)
        return;
    std::unique_lock<std::mutex> lock(m_loader.m_mutex);
    const load_summary& s = m_loader.m_summary;
    uint64_t rejected = s.rejected + m_pending_rejects.size();
    bool over = false;
    if (!o.max_rejects_percent) {
        over = static_cast<double>(rejected) > *o.max_rejects;
    } else if (at_batch_end) {
        // A percentage is judged on whole batches: one bad row early on is
        // not 100% of the load.
        uint64_t seen = m_loader.m_rows_sent + b.rows();
        over = seen && static_cast<double>(rejected) * 100.0 > *o.max_rejects * static_cast<double>(seen);
    }
    if (!over)
        return;
    std::ostringstream limit; // as given: 0.05% is not 0%
    limit << *o.max_rejects << (o.max_rejects_percent ? "%" : "");
    throw error(exit_status::rows_rejected,
                "stopped: " + std::to_string(rejected) + " rows rejected, more than --max-rejects " + limit.str(),
                m_loader.committed_so_far() + "; the batch from " + m_loader.where(b, 0) + " was rolled back",
                "see " + o.reject_file + ".log for the rejected rows");
}

// Called with the reject lock held.
void batch_job::write_rejects(const batch& b) {
    batch_loader& l = m_loader;
    if (!l.m_rejects || m_pending_rejects.empty())
        return;
    std::string rows, logs;
    for (const auto& r : m_pending_rejects) {
        rows += r.raw;
        logs += r.log_line;
    }
    // The reject file is a loadable stream: CSV keeps its header, binary its
    // header (the trailer goes on at the end of the load).
    const bool header = l.m_format.format == copy_format::binary || l.m_format.header;
    l.m_rejects->append(rows, logs, header ? std::string_view(b.header) : std::string_view());
    // On disk before the batch commits, so a committed batch never lacks its rejects.
    l.m_rejects->sync();
}

// A committed batch in the counters (and its rejects' sizes as committed).
void batch_job::count_committed(const batch& b, const position& after) {
    batch_loader& l = m_loader;
    std::lock_guard<std::mutex> lock(l.m_mutex);
    if (m_reject_lock.owns_lock()) {
        l.m_reject_size = l.m_rejects->rows_size();
        l.m_log_size = l.m_rejects->log_size();
    }
    l.m_committed = after;
    l.m_truncate_pending = false;
    l.m_summary.rows += m_batch_loaded;
    l.m_summary.bytes += b.size();
    l.m_summary.rejected += m_pending_rejects.size();
    l.m_rows_sent += b.rows();
    l.m_summary.batches += 1;
    rows_committed += m_batch_loaded;
    l.m_state.rows = l.m_summary.rows;
    if (l.m_parallel)
        l.m_state.job_rows[m_index] = rows_committed;
}

// The rejects of a batch that did not commit leave the files, and the lock.
void batch_job::take_back_rejects() {
    if (!m_reject_lock.owns_lock())
        return;
    m_loader.m_rejects->truncate(m_reject_snapshot, m_log_snapshot);
    m_reject_lock.unlock();
}

void batch_job::attempt_batch(batch& b) {
    batch_loader& l = m_loader;
    const copy_load_options& o = l.m_o;
    connection& c = *m_conn;
    m_pending_rejects.clear();
    m_batch_loaded = 0;
    try {
        if (l.m_sequence) // its own transaction, so that the sequence's lock is held only for it
            b.first_id = reserve_ids(c, *l.m_sequence, b.rows());
        // One transaction without a reject file needs no savepoints: a
        // failure ends it all (and a long load's hundreds of subtransactions
        // would slow every session's snapshots).
        const char* begin = l.m_load_plan.one_transaction.value ? nullptr : o.single_transaction ? "SAVEPOINT pgcopy_batch" : "BEGIN";
        if (begin)
            c.exec(begin);
        bool truncate;
        {
            std::lock_guard<std::mutex> lock(l.m_mutex);
            truncate = l.m_truncate_pending; // only the first batch sees it: the reader waits for it
        }
        if (truncate)
            c.exec("TRUNCATE " + l.m_table_sql);
        if (!l.m_record_batch_sql.empty())
            c.exec(l.m_record_batch_sql);
        if (l.m_rejects)
            c.exec("SET CONSTRAINTS ALL IMMEDIATE"); // deferred checks then fail per range, not at COMMIT
        if (b.refused_marker)
            reject_row(b, 0, "22P04", b.refused_marker, "the server refuses such a line; the rows after it were loaded");
        else if (b.end_marker)
            reject_row(b, 0, "22P04", "end-of-data marker \\. before the end of the input",
                       "the server would stop reading there; the rows after it were loaded");
        else
            m_batch_loaded = load_range(b, 0, b.rows());
        check_reject_limit(true, b);
        if (l.m_rejects && !m_pending_rejects.empty()) {
            m_reject_lock.lock();
            m_reject_snapshot = l.m_rejects->rows_size();
            m_log_snapshot = l.m_rejects->log_size();
            write_rejects(b);
        }
        position after{b.input_index, b.end_offset(), b.line_of(b.rows())};
        save_progress(b, after);
        if (begin)
            c.exec(o.single_transaction ? "RELEASE SAVEPOINT pgcopy_batch" : "COMMIT");
        count_committed(b, after);
        if (m_reject_lock.owns_lock())
            m_reject_lock.unlock();
    } catch (const std::exception& failure) {
        // After a lost connection, whether the batch committed is read back
        // first (commit_batch), with the rejects still held.
        const auto* lost = dynamic_cast<const server_error*>(&failure);
        if (!(lost && lost->connection_lost()))
            take_back_rejects();
        if (c.ok() && PQtransactionStatus(c.get()) != PQTRANS_IDLE && !l.m_one_tx)
            PQclear(PQexec(c.get(), "ROLLBACK"));
        throw;
    }
}

// Reconnects with backoff, no lock held meanwhile: the other jobs go on.
void batch_job::reconnect(batch& b, const server_error& e, int& attempt) {
    batch_loader& l = m_loader;
    for (;; ++attempt) {
        double wait = std::min(8.0, 0.25 * std::pow(2.0, attempt));
        log_warning("connection lost in the batch from " + l.where(b, 0) + " (" + e.what() + "); retrying in " +
                    std::to_string(wait).substr(0, 4) + " s (" + std::to_string(attempt + 1) + " of " +
                    std::to_string(l.m_o.retries) + ")");
        sleep_unless_interrupted(wait);
        try {
            connect();
            prepare_statements();
            return;
        } catch (const error&) {
            if (attempt + 1 >= l.m_o.retries)
                throw;
        }
    }
}

// Returns whether the batch had committed before the connection was lost
// (a lost reply to COMMIT): the progress tables say, never a guess, so
// there is never a duplicate nor a gap.
bool batch_job::recover_after_lost_connection(batch& b, const server_error& e, int& attempt) {
    batch_loader& l = m_loader;
    reconnect(b, e, attempt);
    connection& c = *m_conn;
    // One job moves the committed prefix; several record each batch's range.
    const std::string key = c.quote_literal(l.m_key);
    const bool done =
        l.m_parallel
            ? PQntuples(c.query("SELECT 1 FROM pgpipe.load_batches WHERE key = " + key + " AND input_index = " +
                                std::to_string(b.input_index) +
                                " AND start_offset = " + std::to_string(b.first_offset + b.starts[0]))
                            .get()) > 0
            : PQntuples(c.query("SELECT 1 FROM pgpipe.load_progress WHERE key = " + key + " AND (input_index, input_offset) >= (" +
                                std::to_string(b.input_index) + ", " + std::to_string(b.end_offset()) + ")")
                            .get()) > 0;
    if (!done) {
        take_back_rejects();
        return false;
    }
    count_committed(b, {b.input_index, b.end_offset(), b.line_of(b.rows())});
    if (m_reject_lock.owns_lock())
        m_reject_lock.unlock();
    log_info("the batch from " + l.where(b, 0) + " had committed before the connection was lost");
    return true;
}

void batch_job::stream_batch(const batch& b) {
    batch_loader& l = m_loader;
    const std::string& sql = b.copy_sql ? *b.copy_sql : m_copy_target_sql;
    if (m_stream && (sql != m_stream_sql || b.input_index != m_stream_input))
        end_stream();
    if (!m_stream) {
        if (l.m_truncate_pending) { // in the one transaction, before its first COPY
            m_conn->exec("TRUNCATE " + l.m_table_sql);
            std::lock_guard<std::mutex> lock(l.m_mutex);
            l.m_truncate_pending = false;
        }
        m_stream.emplace(*m_conn, sql);
        m_stream_sql = sql;
        m_stream_input = b.input_index;
        m_stream_binary = l.m_format.format == copy_format::binary;
        m_segments.clear();
        m_stream_rows = 0;
        m_stream_lines.emplace(l.m_format.format == copy_format::csv);
        m_stream_lines_total = 0;
        if (m_stream_binary)
            m_stream->put(b.header.data(), b.header.size());
    }
    m_segments.push_back({m_stream_rows, b.input_index, b.first_line, 0, {}});
    count_stream_lines(b, m_segments.back());
    for (size_t from = b.starts.front(); from < b.starts.back(); from += read_chunk)
        m_stream->put(b.bytes.data() + from, std::min<size_t>(b.starts.back() - from, read_chunk));
    m_stream_rows += b.rows();
    {
        std::lock_guard<std::mutex> lock(l.m_mutex);
        l.m_summary.bytes += b.size();
        l.m_rows_sent += b.rows();
        l.m_summary.batches += 1;
        l.m_state.rows = l.m_rows_sent; // sent: nothing commits before the end
    }
    // A row without a line end (the data before a \.) is its COPY's last:
    // the next script block's rows would run on from it.
    if (!m_stream_binary && b.bytes[b.starts.back() - 1] != '\n')
        end_stream();
}

// An error in the column whose ids pgcopy reserved (the input's rows carry
// none): the id, its sequence and the batch's block are to blame, not the
// input's values. Rewrites message and detail; false when it is not such an error.
bool batch_loader::blame_reserved_id(const batch& b, size_t k, const server_error& e, std::string& message,
                                     std::string& detail) const {
    if (!m_sequence)
        return false;
    const std::string column = ", column " + m_sequence->name;
    const size_t at = e.context().find(column);
    const size_t after = at + column.size();
    if (at == std::string::npos || (after < e.context().size() && e.context()[after] != ':' && e.context()[after] != '\n'))
        return false;
    const std::string id = std::to_string(b.first_id + static_cast<int64_t>(k));
    const std::string which = "id " + id + " reserved from sequence " + m_sequence->sequence_sql + " for column " +
                              m_sequence->name;
    message = e.sqlstate() == "22003" ? which + " is out of range for type " + m_sequence->type.name
                                      : which + ": " + message;
    detail = (detail.empty() ? "" : detail + "\n") + "the batch reserved ids " + std::to_string(b.first_id) + " to " +
             std::to_string(b.first_id + static_cast<int64_t>(b.rows()) - 1) + " of " + m_sequence->sequence_sql +
             "; the input's rows carry no " + m_sequence->name;
    return true;
}

// The server's line count of the stream's rows, and the rows among them
// that span lines (CSV), for naming a refused row by its input line.
void batch_job::count_stream_lines(const batch& b, stream_segment& segment) {
    segment.server_lines_before = m_stream_lines_total;
    if (m_stream_binary || m_loader.m_format.format != copy_format::csv) {
        m_stream_lines_total += b.rows(); // one line per row, as the server counts
        return;
    }
    for (size_t k = 0; k < b.rows(); ++k) {
        const uint64_t line = m_stream_lines->add(b.row(k));
        const uint64_t extra = line - m_stream_lines_total - 1, physical = m_stream_lines->extra_newlines();
        if (extra || physical)
            segment.multiline.push_back({k, extra, physical});
        m_stream_lines_total = line;
    }
}

// The segment and input line of the row the server's line names (its first line).
std::pair<size_t, uint64_t> batch_job::stream_row_of(uint64_t server_line) const {
    const auto it = std::prev(std::upper_bound(
        m_segments.begin(), m_segments.end(), server_line - 1,
        [](uint64_t line, const stream_segment& s) { return line < s.server_lines_before; }));
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

// Ends the open COPY; a row the server refused is named by its FILE:LINE.
void batch_job::end_stream() {
    if (!m_stream)
        return;
    batch_loader& l = m_loader;
    try {
        if (m_stream_binary) {
            const std::string trailer = binary_copy_trailer();
            m_stream->put(trailer.data(), trailer.size());
        }
        const uint64_t rows = m_stream->finish();
        m_stream.reset();
        std::lock_guard<std::mutex> lock(l.m_mutex);
        l.m_summary.rows += rows;
    } catch (const server_error& e) {
        m_stream.reset();
        std::optional<uint64_t> line = copy_context_line(e.context());
        if (!line || *line == 0 || *line > m_stream_lines_total)
            throw;
        const auto [segment, input_line] = stream_row_of(*line);
        error annotated(e.status(),
                        l.input_name(m_segments[segment].input_index) + ":" + std::to_string(input_line) + ": " +
                            escape_line_ends(e.what()),
                        e.detail(), e.hint());
        annotated.set_context(e.context());
        throw annotated;
    }
}

void batch_job::commit_batch(batch& b) {
    if (b.rows() == 0)
        return;
    // Whatever goes wrong, the reject lock is not left held: the other jobs wait on it.
    struct release_on_exit {
        std::unique_lock<std::mutex>& lock;
        ~release_on_exit() {
            if (lock.owns_lock())
                lock.unlock();
        }
    } release{m_reject_lock};
    int deadlocks = 0;
    for (int attempt = 0;; ++attempt) {
        try {
            attempt_batch(b);
            return;
        } catch (const server_error& e) {
            if (is_deadlock(e) && ++deadlocks <= deadlock_retries) {
                // Two jobs' upserts met on the same keys: the server chose
                // this batch to give way; it goes again.
                log_info("the batch from " + m_loader.where(b, 0) + " met another job's (" + e.what() +
                         "); trying it again");
                --attempt;
                std::this_thread::sleep_for(std::chrono::milliseconds(10 * deadlocks));
                continue;
            }
            if (!e.connection_lost() || attempt >= m_loader.m_o.retries)
                throw;
            if (recover_after_lost_connection(b, e, attempt))
                return;
        }
    }
}

// ---------------------------------------------------------------- the reader

std::string batch_loader::committed_so_far() const {
    std::string out = format_count(m_summary.rows) + " rows were committed in " + format_count(m_summary.batches) +
                      " batches";
    if (m_parallel)
        return out + " (by " + std::to_string(m_jobs.size()) + " jobs, not in input order)";
    return out + ", up to " + input_name(m_committed.input_index) + ":" + std::to_string(m_committed.line - 1) +
           " (byte offset " + std::to_string(m_committed.offset) + ")";
}

// Hands a batch to the jobs, waiting while each has one (memory stays at
// jobs + 2 batches: those loading, the one being read, one spare buffer). With --truncate, the first batch commits alone first:
// its TRUNCATE must not wait for, then empty, another job's batch.
void batch_loader::dispatch(batch&& b) {
    if (b.rows() == 0)
        return;
    if (m_load_plan.one_transaction.value)
        return stream_inline(std::move(b));
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        if (m_failure || m_stopping)
            throw load_stopped{};
        if (m_outstanding < m_jobs.size() && !(m_truncate_pending && m_dispatched))
            break;
        m_changed.wait_for(lock, std::chrono::milliseconds(250));
        m_meter.update(m_state);
        throw_if_interrupted();
    }
    m_queue.push_back(std::move(b));
    ++m_outstanding;
    m_dispatched = true;
    m_changed.notify_all();
}

void batch_loader::run_job(batch_job& job) {
    try {
        for (;;) {
            batch b;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                m_changed.wait(lock, [&] { return m_failure || m_stopping || m_closed || !m_queue.empty(); });
                if (m_failure || m_stopping || m_queue.empty())
                    return;
                b = std::move(m_queue.front());
                m_queue.pop_front();
            }
            if (m_load_plan.one_transaction.value)
                job.stream_batch(b);
            else
                job.commit_batch(b);
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_spare.empty()) { // one is enough: a job frees one for each batch the reader cuts
                b.bytes.clear();
                b.starts.clear();
                m_spare.push_back(std::move(b));
            }
            --m_outstanding;
            m_changed.notify_all();
        }
    } catch (...) {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_failure)
            m_failure = std::current_exception();
        m_changed.notify_all();
    }
}

// One transaction: the one connection's COPY takes the batch in the reader's
// own thread (a hand-over per batch would cost more than it overlaps), and
// its buffer is kept for the next.
void batch_loader::stream_inline(batch&& b) {
    m_jobs[0]->stream_batch(b);
    std::lock_guard<std::mutex> lock(m_mutex);
    m_meter.update(m_state);
    if (m_spare.empty()) {
        b.bytes.clear();
        b.starts.clear();
        m_spare.push_back(std::move(b));
    }
}

// Until every batch dealt out so far has committed; more may follow.
void batch_loader::wait_for_batches() {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (m_outstanding > 0 && !m_failure && !m_stopping) {
        m_changed.wait_for(lock, std::chrono::milliseconds(250));
        m_meter.update(m_state);
        throw_if_interrupted();
    }
    if (m_failure || m_stopping)
        throw load_stopped{};
}

// Until every batch dealt out has committed (or a job failed).
void batch_loader::wait_for_jobs() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_closed = true;
    m_changed.notify_all();
    while (m_outstanding > 0 && !m_failure) {
        m_changed.wait_for(lock, std::chrono::milliseconds(250));
        m_meter.update(m_state);
    }
}

// Moves whole batches out of b while it holds enough rows or bytes; with
// at_end, the rest too.
void batch_loader::cut_batches(batch& b, bool at_end) {
    while (b.rows() > 0) {
        const size_t cut = rows_to_cut(b.starts, m_batch_rows, m_batch_bytes, at_end);
        if (cut == 0)
            return;
        batch next;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (!m_spare.empty()) {
                next.bytes = std::move(m_spare.back().bytes);
                next.starts = std::move(m_spare.back().starts);
                m_spare.pop_back();
            }
        }
        reserve_batch(next);
        next.input_index = b.input_index;
        next.rows_are_lines = b.rows_are_lines;
        next.header = b.header;
        next.copy_sql = b.copy_sql;
        next.first_line = b.line_of(cut);
        next.m_memo_line = next.first_line;
        size_t base = b.starts[cut];
        next.first_offset = b.first_offset + base;
        next.bytes.assign(b.bytes, base, std::string::npos);
        for (size_t k = cut; k < b.starts.size(); ++k)
            next.starts.push_back(b.starts[k] - base);
        b.bytes.resize(base);
        b.starts.resize(cut + 1);
        if (!m_key.empty()) {
            print_through(b, base);
            b.prefix_hash = m_input_print.hex();
            b.input_stamps = m_stamps_text;
            if (m_parallel)
                b.content_hash = fingerprint_of(b.bytes.data() + b.starts[0], b.size());
        }
        dispatch(std::move(b));
        b = std::move(next);
    }
}

// The first input's first bytes decide what the options cannot: binary data
// without -F binary, a script stream (which loads in one transaction), and
// with --header but no -c, the columns.
void batch_loader::sniff_first_input(connection& c) {
    const size_t index = m_resume_from.input_index;
    if (index >= m_inputs.size())
        return;
    if (!m_first_input)
        m_first_input = std::make_unique<input_stream>(m_inputs[index]);
    m_first_chunk.resize(m_chunk);
    m_first_chunk.resize(m_first_input->read(m_first_chunk.data(), m_first_chunk.size()));
    const std::string_view head = m_first_chunk;
    const std::string_view first_line = head.substr(0, head.find('\n'));
    if (m_format.format == copy_format::text && m_load_plan.detect_binary &&
        head.substr(0, 11) == std::string_view(binary_copy_header()).substr(0, 11)) {
        m_format = copy_format_options{};
        m_format.format = copy_format::binary;
    }
    if (starts_script(first_line)) {
        m_first_is_script = true;
        return check_script_options(index);
    }
    if (m_o.table.empty())
        throw local_error("no table given, and " + input_name(index) + " is not a script stream",
                          "a script stream starts with a line \"COPY table [(columns)] FROM stdin;\"",
                          "name the table to load: pgcopy TABLE [FILE]...");
    if (!m_format.header || m_o.columns || m_format.format == copy_format::binary)
        return;
    if (first_line.size() == m_chunk)
        throw local_error(input_name(index) + ":1: the header line is longer than " + std::to_string(m_chunk) +
                          " bytes");
    m_header_columns = check_header_names(c, m_table_sql, m_o.table, header_names(first_line, m_format),
                                          input_name(index));
}

// A script names its tables and columns: what needs TABLE's own columns
// (or one file of rejects, or a staging table) is refused.
void batch_loader::check_script_options(size_t index) const {
    const char* refused = !m_o.reject_file.empty()                 ? "--reject-file"
                          : m_o.on_conflict != conflict_action::none ? "--on-conflict"
                          : m_o.columns                              ? "-c"
                          : m_load_plan.ids.value == lever::required    ? "--reserve-ids"
                          : m_load_plan.binary.value == lever::required ? "--send-binary"
                          : m_o.defer_indexes || m_o.defer_constraints ? (m_o.table.empty() ? "--defer-*" : nullptr)
                                                                      : nullptr;
    if (refused)
        throw local_error(input_name(index) + ":1: " + refused + " cannot be used with a script stream", {},
                          "a script stream's COPY lines name each block's table and columns");
}

// What the reader knows of the input it is cutting into batches.
struct batch_loader::input_cursor {
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
};

// In a script stream, a line outside a block is its COPY line, and the \.
// line ends it: neither is a row. Returns whether the line was one of them.
bool batch_loader::take_script_line(input_cursor& in, size_t end, row_kind kind) {
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
    if (in.in_block && line != "\\.\n" && line != "\\.\r\n" && line != "\\.")
        return false; // a \. inside a row: the server's, and the reject or failure, as for any input
    end = flush_rows_before(b, end);
    const uint64_t line_number = b.first_line;
    if (in.in_block) {
        in.in_block = false;
        in.marker.reset(); // no data followed it
    }
    else if (line.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        in.block_line = line_number;
        start_script_block(in, line);
    }
    skip_row(in, end);
    return true;
}

// A block's COPY, for the batches of its rows. With TABLE, every block must
// load into it: a script never sends rows elsewhere than the command line says.
void batch_loader::start_script_block(input_cursor& in, std::string_view line) {
    const std::string where = input_name(in.index) + ":" + std::to_string(in.block_line);
    std::optional<script_header> h = parse_script_header(line.substr(0, line.find('\n')));
    if (!h)
        throw local_error(where + ": expected \"COPY table [(columns)] FROM stdin;\", found \"" +
                          one_line(line.substr(0, 80)) + "\"");
    if (!m_script_conn)
        m_script_conn.emplace(connection::open(m_login ? *m_login : m_o.connection));
    connection& c = *m_script_conn;
    const std::string table = quote_qualified_name(c, h->table);
    if (!m_table_sql.empty()) {
        if (m_table_oid.empty())
            m_table_oid = PQgetvalue(c.query("SELECT " + c.quote_literal(m_table_sql) + "::regclass::oid").get(), 0, 0);
        if (PQgetvalue(c.query("SELECT to_regclass(" + c.quote_literal(table) + ")::oid").get(), 0, 0) != m_table_oid)
            throw local_error(where + ": the script loads into " + table + ", not into " + m_o.table +
                                  " (the TABLE given)",
                              {}, "drop TABLE to run the script as it is");
    }
    // With --jobs, a block into another table starts once the batches before
    // it committed: pgrec writes parents before the children that refer to them.
    if (m_parallel && !m_block_table.empty() && table != m_block_table)
        wait_for_batches();
    m_block_table = table;
    in.in_block = true;
    in.b.copy_sql = std::make_shared<const std::string>(
        build_copy_sql(c, table, h->columns, copy_format_options{}, false));
}

void batch_loader::load_input(size_t index) {
    std::unique_ptr<input_stream> input;
    if (m_first_input && index == m_resume_from.input_index)
        input = std::move(m_first_input);
    else
        input = std::make_unique<input_stream>(m_inputs[index]);
    input_cursor in;
    in.index = index;
    in.splitter = make_row_splitter(m_format, m_markers, input_name(index));
    in.binary = m_format.format == copy_format::binary;
    in.header_pending = in.binary || m_format.header;
    reserve_batch(in.b);
    in.b.input_index = index;
    in.b.rows_are_lines = in.binary;
    in.b.starts.push_back(0);
    m_input_print = fingerprint();
    m_printed = 0;
    m_stamps.open(m_inputs[index]);
    std::string chunk(m_chunk, '\0');
    while (!in.trailer) {
        size_t n;
        if (!m_first_chunk.empty()) { // what sniff_first_input read: the input reads it again
            input->unread(m_first_chunk);
            m_first_chunk = std::string();
        }
        n = input->read(chunk.data(), chunk.size());
        throw_if_interrupted();
        if (n == 0)
            break;
        if (!m_key.empty())
            m_stamps.update(chunk.data(), n);
        take_chunk(in, chunk.data(), n);
        // A pipe that had no more for now: what is here goes to the open
        // COPY at once, as a streamed load's would (a slow producer's rows
        // reach the server as they come).
        if (m_load_plan.one_transaction.value && n < chunk.size())
            cut_batches(in.b, true);
        std::lock_guard<std::mutex> lock(m_mutex);
        m_state.bytes += n;
        m_state.input_bytes = input->raw_bytes_read();
        m_meter.update(m_state);
    }
    finish_input(in);
    // Every row of this input is cut: the batches after it carry its stamp.
    m_stamps.finish(index);
    m_stamps_text = m_stamps.text(index + 1);
}

void batch_loader::take_chunk(input_cursor& in, const char* chunk, size_t n) {
    std::vector<size_t>& ends = in.ends;
    ends.clear();
    in.splitter->scan(chunk, n, ends);
    const std::vector<end_marker>& markers = in.splitter->end_markers();
    size_t next_marker = 0;
    in.chunk_offset = in.total;
    in.b.bytes.append(chunk, n);
    in.total += n;
    // Offsets relative to b, which a cut may move.
    auto relative = [&](uint64_t at) { return static_cast<size_t>(at - in.b.first_offset); };
    for (size_t k = 0; k < ends.size() && !in.trailer; ++k) {
        const uint64_t end = in.chunk_offset + ends[k];
        const char newline = in.newline;
        if (!in.newline && !in.binary)
            in.newline = relative(end) >= 2 && in.b.bytes[relative(end) - 2] == '\r' ? '\r' : '\n';
        if (next_marker == markers.size() || markers[next_marker].end != ends[k]) {
            take_row(in, relative(end), row_kind::row);
            continue;
        }
        const end_marker& marker = markers[next_marker++];
        const size_t marker_size = marker.size;
        // The server checks the line end first.
        if (newline && (marker_size == 4) != (newline == '\r') && !(in.script && *in.script)) {
            take_row(in, relative(end), row_kind::marker_off_style);
            continue;
        }
        if (marker.refused) {
            take_row(in, relative(end), row_kind::marker_not_alone);
            continue;
        }
        // The server loads the data before a \. as a row, then ends.
        const uint64_t marker_start = end - marker_size;
        const bool data = relative(marker_start) > in.b.starts.back();
        if (data)
            take_row(in, relative(marker_start), row_kind::row);
        take_row(in, relative(end), data ? row_kind::marker_after_data : row_kind::marker);
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

// One row of the input ends at end (relative to in.b).
void batch_loader::take_row(input_cursor& in, size_t end, row_kind kind) {
    batch& b = in.b;
    if (in.header_pending) {
        // The first "row" is the binary file header or the CSV header line.
        b.header = b.bytes.substr(b.starts[0], end - b.starts[0]);
        in.header_pending = false;
        if (!in.binary)
            check_header(input_name(in.index), b.header);
        b.first_line = in.binary ? 1 : 1 + count_newlines(b.bytes.data(), end);
        b.m_memo_line = b.first_line;
        b.starts[0] = end;
        return;
    }
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
void batch_loader::refuse_marker(input_cursor& in, size_t end, row_kind kind) {
    const bool newline = kind == row_kind::marker_off_style;
    if (!m_rejects) {
        flush_rows_before(in.b, end); // the batches before it commit, as for any bad input
        throw newline ? marker_newline_mismatch(input_name(in.index), in.b.first_line, in.newline == '\r')
                      : marker_not_alone(input_name(in.index), in.b.first_line);
    }
    hold_marker(in, end);
    batch held = std::move(*in.marker);
    in.marker.reset();
    held.refused_marker = newline ? "end-of-copy marker does not match previous newline style"
                                  : "end-of-copy marker is not alone on its line";
    dispatch(std::move(held));
}

// Skips a row an earlier run committed (or a \. line): its lines still count.
void batch_loader::skip_row(input_cursor& in, size_t end) {
    batch& b = in.b;
    b.first_line += in.binary ? 1 : count_newlines(b.bytes.data() + b.starts[0], end - b.starts[0]);
    b.m_memo_line = b.first_line;
    b.starts[0] = end;
}

// Data follows the held \. line: the load fails, or with a reject file the
// line goes to it as a batch of its own.
void batch_loader::release_marker(input_cursor& in) {
    batch held = std::move(*in.marker);
    in.marker.reset();
    if (!m_rejects)
        throw data_after_end_marker(input_name(in.index), held.first_line);
    dispatch(std::move(held));
}

// The rows read before end go as batches of their own (a batch is
// contiguous, and a skipped or held row breaks it); returns end, relative
// to what is left of b.
size_t batch_loader::flush_rows_before(batch& b, size_t end) {
    if (b.rows() == 0)
        return end;
    const uint64_t at = b.first_offset + end;
    cut_batches(b, false);
    cut_batches(b, true);
    return static_cast<size_t>(at - b.first_offset);
}

// The row before end is a \. line: it is held until it is known whether
// data follows it.
void batch_loader::hold_marker(input_cursor& in, size_t end) {
    batch& b = in.b;
    end = flush_rows_before(b, end);
    batch held;
    held.input_index = in.index;
    held.header = b.header;
    held.end_marker = true;
    held.first_line = b.first_line;
    held.m_memo_line = held.first_line;
    held.first_offset = b.first_offset + b.starts[0];
    held.bytes = b.bytes.substr(b.starts[0], end - b.starts[0]);
    held.starts = {0, held.bytes.size()};
    skip_row(in, end);
    print_through(b, b.starts[0]);
    held.prefix_hash = m_key.empty() ? std::string() : m_input_print.hex();
    held.content_hash = m_key.empty() ? std::string() : fingerprint_of(held.bytes.data(), held.bytes.size());
    in.marker = std::move(held);
}

void batch_loader::finish_input(input_cursor& in) {
    batch& b = in.b;
    if (!in.trailer)
        in.splitter->finish(in.total);
    uint64_t committed_end = m_resume_from.input_index == in.index ? m_resume_from.offset : 0;
    for (const auto& r : m_resume_ranges)
        if (r.input_index == in.index)
            committed_end = std::max(committed_end, r.end);
    if (committed_end > in.total)
        throw local_error("\"" + input_name(in.index) + "\" is shorter (" + std::to_string(in.total) +
                              " bytes) than what this resume key committed (" + std::to_string(committed_end) + ")",
                          {}, "the input changed since the first run; use a new --resume-key");
    if (in.header_pending && m_format.header)
        return; // a header without a newline and nothing else
    if (in.in_block) {
        // The batches before it commit, as for any input that breaks off.
        cut_batches(b, true);
        throw local_error(input_name(in.index) + ": the script ends inside the COPY block that starts at line " +
                              std::to_string(in.block_line),
                          "the stream is truncated: no \\. line ends the block");
    }
    // A last row without a final newline is a row too (text and CSV).
    if (!in.binary && b.starts.back() < b.bytes.size())
        take_row(in, b.bytes.size(), row_kind::row);
    b.bytes.resize(b.starts.back());
    cut_batches(b, true);
}

// Adds the bytes of b before end (relative to b) to the input's fingerprint.
void batch_loader::print_through(const batch& b, size_t end) {
    if (m_key.empty() || b.first_offset + end <= m_printed)
        return;
    const size_t from = static_cast<size_t>(m_printed - b.first_offset);
    m_input_print.update(b.bytes.data() + from, end - from);
    m_printed = b.first_offset + end;
}

void batch_loader::input_changed(const std::string& input, const std::string& what) {
    const std::string& key = m_key;
    m_input_changed = true; // a rerun with the key would fail the same way: say nothing of it
    throw local_error("\"" + input + "\" is not the input that resume key \"" + key + "\" was loading: " + what +
                          " differ from what that run committed",
                      {},
                      "to start over, remove what the first run loaded and forget the key (DELETE FROM "
                      "pgpipe.load_progress WHERE key = '" + key + "'), or use a new --resume-key");
}

// The row ending at end reaches the committed prefix's end: what came before
// must be the bytes that run committed.
void batch_loader::check_resumed_prefix(const input_cursor& in, size_t end) {
    const batch& b = in.b;
    if (m_prefix_checked || in.index != m_resume_from.input_index || m_resume_from.offset == 0 ||
        b.first_offset + end < m_resume_from.offset)
        return;
    m_prefix_checked = true;
    print_through(b, static_cast<size_t>(m_resume_from.offset - b.first_offset));
    if (!m_resume_hash.empty() && m_input_print.hex() != m_resume_hash)
        input_changed(input_name(in.index), "its bytes up to byte offset " + std::to_string(m_resume_from.offset));
}

// Rows skipped as a --jobs batch an earlier run committed must add up to
// that batch's bytes; a row that starts inside one and runs past it means
// the input changed.
void batch_loader::check_resumed_range(const input_cursor& in, const committed_range* range, size_t start, size_t end) {
    const batch& b = in.b;
    if (range == &m_prefix_range || m_resume_ranges.empty())
        return;
    if (!range) {
        if (m_checking || range_holding(in.index, b.first_offset + start))
            input_changed(input_name(in.index), "the rows at byte offset " + std::to_string(b.first_offset + start));
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
        input_changed(input_name(in.index), "the bytes of the batch at byte offset " + std::to_string(range->start));
    m_checking = nullptr;
}

// The parts of this load that decide what its rows become (resume_record.hpp).
load_shape batch_loader::current_shape(connection& c) const {
    if (m_first_is_script) { // its blocks name tables and columns, and its bytes are fingerprinted
        load_shape shape;
        shape.add("format", "script");
        return shape;
    }
    return describe_load(c, m_table_sql, m_column_names, m_format);
}

// A rerun must read the rest of its input as the first run read the start:
// another column order, delimiter or encoding would load other rows.
void batch_loader::check_shape(connection& c) {
    if (m_key.empty())
        return;
    const load_shape now = current_shape(c);
    m_shape_text = now.text();
    try {
        check_resumed_shape(m_key, now, m_recorded_shape,
                            "DELETE FROM pgpipe.load_progress WHERE key = '" + m_key + "'");
    } catch (const error&) {
        m_input_changed = true; // a rerun with the key would fail the same way: say nothing of it
        throw;
    }
}

// Inputs that an earlier run of the key finished are not read again: each
// must still be what that run loaded (a file replaced under the same name is not).
void batch_loader::check_finished_inputs(size_t count) {
    for (size_t k = 0; k < count; ++k) {
        // run_copy may have opened the first input to look at it.
        input_stream* opened = k == 0 ? m_first_input.get() : nullptr;
        if (!input_unchanged(m_inputs[k], m_stamps[k], opened))
            input_changed(input_name(k), "its bytes");
    }
    // The opened first input is not the one the load goes on with.
    if (count > 0)
        m_first_input.reset();
}

void batch_loader::write_stats() {
    m_summary.job_rows.clear();
    if (m_parallel)
        for (const auto& job : m_jobs)
            m_summary.job_rows.push_back(job->rows_committed);
    write_stats_file(m_o.stats_file, m_summary);
}

// The jobs take no more batches; those being loaded finish first.
void batch_loader::stop_jobs() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
        m_changed.notify_all();
    }
    for (auto& t : m_threads)
        t.join();
    m_threads.clear();
}

// Connects the jobs and reads what an earlier run of the key committed.
// Returns false when that run finished the load.
bool batch_loader::start() {
    m_parallel = m_load_plan.jobs.value > 1;
    m_meter = progress_meter(m_o.show_progress);
    for (unsigned k = 0; k < std::max(1u, m_load_plan.jobs.value); ++k) {
        m_jobs.push_back(std::make_unique<batch_job>(*this, k));
        m_jobs.back()->connect();
    }
    m_state.job_rows.assign(m_parallel ? m_jobs.size() : 0, 0);
    if (!m_o.resume_key.empty()) {
        m_key = m_o.resume_key;
    } else if (m_o.retries > 0) {
        // Retries need to know whether a batch committed: a key of this run's own.
        std::random_device rd;
        m_key = "pgcopy-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
        m_implicit_key = true;
    }
    if (!m_key.empty()) // before anything reads pgpipe: a clear refusal, naming the privilege
        require_pgpipe_access(m_jobs[0]->conn(), {"pgpipe.load_progress", "pgpipe.load_batches"},
                              m_o.resume_key.empty() ? "--retries" : "--resume-key");
    bool finished = false;
    m_resume_from = read_progress(m_jobs[0]->conn(), finished, m_resume_ranges);
    if (m_stamps.size() != m_inputs.size()) // a new key: nothing recorded
        m_stamps.read({}, m_inputs.size());
    if (finished) {
        check_finished_inputs(m_inputs.size());
        log_info("resume key \"" + m_key + "\": this load finished already (" + format_count(m_summary.rows) +
                 " rows)" + (m_stamps[0].hash.empty() ? ", its inputs known by name only" : ", its inputs unchanged") +
                 "; nothing to do");
        m_summary.committed = true;
        return false;
    }
    check_finished_inputs(m_resume_from.input_index);
    m_stamps_text = m_stamps.text(m_resume_from.input_index);
    if (m_summary.batches > 0)
        log_info("resuming \"" + m_key + "\": " + format_count(m_summary.rows) + " rows in " +
                 format_count(m_summary.batches) + " batches committed before, " +
                 (m_resume_ranges.empty() ? "up to " + input_name(m_resume_from.input_index) + ":" +
                                                std::to_string(m_resume_from.line - 1) + " (byte offset " +
                                                std::to_string(m_resume_from.offset) + ")"
                                          : std::string("some out of input order (--jobs)")));
    m_committed = m_resume_from;
    return true;
}

// Statements, reject files and the jobs' threads.
void batch_loader::prepare() {
    connection& first = m_jobs[0]->conn();
    if (!m_o.table.empty())
        m_table_sql = quote_qualified_name(first, parse_qualified_name(m_o.table));
    m_markers = server_rules::of(first).markers();
    sniff_first_input(first);
    read_columns(first);
    check_shape(first);
    ensure_progress_row(first);
    plan_encoding(first);
    for (auto& job : m_jobs)
        job->prepare_statements();
    open_rejects();
    if (!m_table_sql.empty()) // a missing table is an error even when no row comes
        first.query("SELECT " + first.quote_literal(m_table_sql) + "::regclass");
    defer_for_load(first); // and BEGIN the one transaction
    m_truncate_pending = m_o.truncate;
    for (auto& job : m_jobs)
        m_threads.emplace_back([this, &job] { run_job(*job); });
}

// Reads every input into batches for the jobs, until all committed.
void batch_loader::read_all() {
    try {
        for (size_t k = m_resume_from.input_index; k < m_inputs.size(); ++k)
            load_input(k);
        wait_for_jobs();
    } catch (const load_stopped&) {
    } catch (const interrupted&) {
        stop_jobs(); // the batches being loaded still commit: they precede the signal
        throw;
    } catch (const error&) {
        // Bad input: every batch cut before it still commits, so that
        // what committed is the whole input up to the bad place.
        wait_for_jobs();
        stop_jobs();
        throw;
    } catch (...) {
        stop_jobs();
        throw;
    }
    stop_jobs();
    if (m_failure)
        std::rethrow_exception(m_failure);
}

// After the last batch: the one transaction's COMMIT, the binary trailer of
// the reject file, and the key marked finished.
void batch_loader::conclude() {
    connection& c = m_jobs[0]->conn(); // a retry may have replaced it
    m_jobs[0]->end_stream();
    if (m_truncate_pending) // an empty input still empties the table
        c.exec("TRUNCATE " + m_table_sql);
    restore_after_load();
    if (m_one_tx) {
        throw_if_interrupted();
        m_committing = true;
        c.exec("COMMIT");
    }
    if (m_rejects && m_format.format == copy_format::binary)
        m_rejects->finish_binary();
    if (!m_key.empty()) {
        std::string key = c.quote_literal(m_key);
        c.exec("BEGIN");
        // The batch rows go: their counts move into the load's row.
        auto n = [](uint64_t v) { return std::to_string(v); };
        c.exec(m_implicit_key ? "DELETE FROM pgpipe.load_progress WHERE key = " + key
                              : "UPDATE pgpipe.load_progress SET finished = true, updated_at = now(), rows_loaded = " +
                                    n(m_summary.rows) + ", rows_rejected = " + n(m_summary.rejected) +
                                    ", rows_seen = " + n(m_rows_sent) + ", batches = " + n(m_summary.batches) +
                                    ", reject_bytes = " + n(m_reject_size) + ", reject_log_bytes = " + n(m_log_size) +
                                    ", input_stamps = " + c.quote_literal(m_stamps.text(m_stamps.size())) +
                                    " WHERE key = " + key);
        c.exec("DELETE FROM pgpipe.load_batches WHERE key = " + key);
        c.exec("COMMIT");
    }
    m_summary.committed = true;
}

// Rethrows the failure with what committed before it and how to go on
// (called in the handler: with nothing to add, the error goes on as it is).
void batch_loader::fail(const error& e) {
    stop_jobs();
    m_meter.finish();
    m_summary.seconds = elapsed();
    m_summary.error = e.what();
    std::string detail = e.detail();
    if (std::string more = restore_after_failure(e); !more.empty())
        detail = (detail.empty() ? "" : detail + "\n") + more;
    if (m_one_tx) {
        // One transaction: whatever the batches did is rolled back (and the
        // server left idle, if it is still there).
        for (auto& job : m_jobs) {
            job->abort_stream();
            if (job->connected() && job->conn().ok() && PQtransactionStatus(job->conn().get()) != PQTRANS_IDLE)
                PQclear(PQexec(job->conn().get(), "ROLLBACK"));
        }
        m_summary.rows = m_summary.batches = m_summary.rejected = 0;
        m_reject_size = m_log_size = 0;
        truncate_rejects(); // a failure to do so is the error reported
        // The "committed so far" of a --max-rejects stop is void here.
        detail = (e.status() == exit_status::rows_rejected || detail.empty() ? "" : detail + "\n") +
                 one_transaction_outcome(e);
    } else if (m_deferral && m_deferral->rows_deleted()) {
        // The rebuild's detail says what became of the committed rows: they are gone.
    } else if (m_summary.batches && !m_dispatched) {
        // Refused before this run sent anything (another shape, a replaced input).
        detail = (detail.empty() ? "" : detail + "\n") + "this run loaded nothing; the " +
                 format_count(m_summary.rows) + " rows earlier runs of resume key \"" + m_key +
                 "\" committed stay committed";
    } else if (!m_summary.batches && m_dispatched && e.status() != exit_status::rows_rejected) {
        detail = (detail.empty() ? "" : detail + "\n") + "nothing was committed: no batch had committed before the failure";
    } else if (m_summary.batches && e.status() != exit_status::rows_rejected) {
        detail = (detail.empty() ? "" : detail + "\n") + committed_so_far() +
                 "; the batches after them were rolled back" +
                 (m_key.empty() || m_implicit_key || m_input_changed ? ""
                                                                     : " (rerun with --resume-key " + m_key + " to go on)");
    }
    write_stats();
    if (detail == e.detail())
        throw;
    if (const auto* signal = dynamic_cast<const interrupted*>(&e))
        throw interrupted(signal->signal_number(), detail);
    error out(e.status(), e.what(), detail, e.hint());
    out.set_context(e.context());
    throw out;
}

// ---------------------------------------------------------------- ids and binary

// --reserve-ids: the sequence-filled column the input lacks goes first in
// the COPY's column list. --send-binary: the loaded columns' types, if
// pgcopy can encode every one of them.
void batch_loader::plan_encoding(connection& c) {
    if (m_first_is_script) // the plan said so (a script stream goes as it reads)
        return publish_plan();
    const lever ids = m_load_plan.ids.value, binary = m_load_plan.binary.value;
    std::vector<std::string> loaded;
    if (ids != lever::off || binary != lever::off)
        loaded = m_column_names.empty() ? table_column_names(c, m_table_sql) : m_column_names;
    if (ids != lever::off)
        plan_ids(c, loaded);
    if (binary != lever::off && m_format.format == copy_format::text)
        plan_binary(c, loaded);
    publish_plan();
}

// The plan into --stats, and with --verbose onto stderr.
void batch_loader::publish_plan() {
    if (!m_load_plan.trades.empty())
        add_plan_line(m_load_plan.trades);
    m_summary.plan.clear();
    for (const auto& line : m_plan)
        m_summary.plan += (m_summary.plan.empty() ? "" : "; ") + line;
    if (m_o.verbose && !m_plan.empty())
        for (const auto& line : m_plan)
            log_info("plan: " + line);
}

// The sequence-filled column the input lacks goes first in the COPY's
// column list. The plan says if_possible (--fast) or required (--reserve-ids).
void batch_loader::plan_ids(connection& c, const std::vector<std::string>& loaded) {
    std::string why_not;
    m_sequence = find_sequence_column(c, m_table_sql, loaded, why_not);
    const bool required = m_load_plan.ids.value == lever::required;
    if (!m_sequence && required)
        throw local_error("--reserve-ids: " + why_not + " (in " + m_o.table + ")");
    if (!m_sequence)
        return add_plan_line("ids as the input has them: " + why_not);
    if (!required)
        if (std::string blocker = id_block_blocker(c, *m_sequence); !blocker.empty()) {
            m_sequence.reset();
            return add_plan_line("ids as the sequence gives them: " + blocker);
        }
    std::vector<std::string> columns{m_sequence->name};
    columns.insert(columns.end(), loaded.begin(), loaded.end());
    m_columns_sql = " (" + quote_name_list(c, columns) + ")";
    add_plan_line("ids of " + m_sequence->name + " reserved from its sequence, a block per batch");
}

// Binary when pgcopy can encode every loaded column's type, and the
// connection's encoding is UTF-8 (whose bytes the encoder checks).
void batch_loader::plan_binary(connection& c, const std::vector<std::string>& loaded) {
    const table_schema schema = read_table_schema(c, m_o.table);
    std::vector<std::optional<column_type>> types;
    std::string unencodable;
    for (const auto& name : loaded) {
        auto column = std::find_if(schema.columns.begin(), schema.columns.end(),
                                   [&](const table_column& t) { return t.name == name; });
        types.push_back(column == schema.columns.end() ? std::nullopt : column->type);
        if (!types.back() && unencodable.empty())
            unencodable = name + (column == schema.columns.end() ? "" : " (" + column->type_name + ")");
    }
    text_to_binary encoder(types, m_sequence ? std::optional(m_sequence->type) : std::nullopt);
    if (std::string(pg_encoding_to_char(PQclientEncoding(c.get()))) != "UTF8") {
        add_plan_line("text sent as text: the client encoding is not UTF8");
    } else if (encoder.usable()) {
        m_encoder = std::move(encoder);
        add_plan_line("text encoded as binary by pgcopy (a batch with a value it cannot encode exactly goes as text)");
    } else {
        add_plan_line("text sent as text: pgcopy cannot encode " + (unencodable.empty() ? "every column" : unencodable));
    }
}

// ---------------------------------------------------------------- deferred indexes and constraints

// A table left without some of its indexes or constraints by a load that
// was killed gets them back first; a deferring load then takes off the rest.
void batch_loader::defer_for_load(connection& c) {
    const bool indexes = m_load_plan.defer_indexes.value, constraints = m_load_plan.defer_constraints.value;
    const bool deferring = indexes || constraints;
    if (!m_table_sql.empty() && (!deferring || m_one_tx))
        put_back_left_off(c, m_table_sql, m_o.table);
    if (m_one_tx) {
        c.exec("BEGIN");
        if (deferring) // dropped and rebuilt inside the one transaction: nothing to record
            m_restore_in_transaction = drop_for_load(c, m_table_sql, indexes, constraints);
        return;
    }
    if (m_table_sql.empty() || !deferring)
        return; // a script stream without TABLE defers nothing (refused before)
    m_deferral.emplace(c, m_table_sql, m_o.table);
    if (m_deferral->pending())
        log_info("resuming with the " + format_count(m_deferral->pending()) +
                 " indexes and constraints an interrupted load left off " + m_o.table);
    m_deferral->defer(indexes, constraints, m_key);
    m_record_batch_sql = m_deferral->record_batch_sql();
}

// Every index built at once, one per connection, then the constraints.
void batch_loader::restore_after_load() {
    if (!m_restore_in_transaction.empty()) {
        connection& c = m_jobs[0]->conn();
        c.exec("SET LOCAL maintenance_work_mem = '1GB'");
        for (const auto& sql : m_restore_in_transaction) {
            throw_if_interrupted();
            c.exec(sql);
        }
        return;
    }
    if (!m_deferral || !m_deferral->pending())
        return;
    std::vector<connection*> conns;
    for (auto& job : m_jobs)
        conns.push_back(&job->conn());
    m_deferral->restore(conns);
}

// After a failed load: the indexes and constraints go back now, unless the
// user stopped it or the server is gone (then a rerun or --restore does it).
// Returns what to add to the error's detail.
std::string batch_loader::restore_after_failure(const error& e) {
    if (!m_deferral || !m_deferral->pending() || m_one_tx)
        return {};
    // A rerun without the resume key would load the committed rows again.
    const bool resumable = !m_key.empty() && !m_implicit_key && !m_input_changed;
    const std::string later = "the deferred indexes and constraints of " + m_o.table + " are still off: " +
                              (resumable ? "rerun the command to finish the load, or run pgcopy --restore " + m_o.table
                                         : "run pgcopy --restore " + m_o.table) +
                              " (it keeps the committed rows, or deletes them if they break a key or constraint)";
    if (dynamic_cast<const interrupted*>(&e) || !m_jobs[0]->conn().ok())
        return later;
    try {
        restore_after_load();
        return {};
    } catch (const error& again) {
        return std::string(again.what()) + (again.detail().empty() ? "" : "\n" + again.detail()) +
               (m_deferral->pending() ? "\n" + later : "");
    }
}

// What became of the one transaction, for the failure's detail.
std::string batch_loader::one_transaction_outcome(const error& e) const {
    const auto* server = dynamic_cast<const server_error*>(&e);
    const bool lost = server && server->connection_lost();
    if (m_committing)
        return lost ? "the connection was lost during COMMIT: whether the load was committed is unknown; check the table"
                    : "nothing was committed: the server refused the COMMIT";
    if (lost)
        return "nothing was committed: the connection was lost before COMMIT, so the server rolls the transaction back";
    return m_o.single_transaction ? "nothing was committed: --single-transaction rolled the whole load back"
                                  : "nothing was committed: the load's transaction was rolled back";
}

void batch_loader::report() {
    m_meter.finish();
    m_summary.seconds = elapsed();
    m_summary.input_bytes = m_state.input_bytes;
    if (m_load_plan.one_transaction.value)
        m_summary.batches = 0; // one transaction, as the user asked for nothing else
    std::string line = summary_line(m_summary);
    if (!m_load_plan.one_transaction.value)
        line += " in " + format_count(m_summary.batches) + " batch" + (m_summary.batches == 1 ? "" : "es");
    if (m_parallel)
        line += " by " + std::to_string(m_jobs.size()) + " jobs";
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + (m_summary.rejected == 1 ? " row" : " rows") +
                " rejected (see " + m_o.reject_file + ".log)";
    if (m_encoder && m_o.verbose)
        log_info("sent " + format_count(m_copies_binary) + " of " + format_count(m_copies_binary + m_copies_text) +
                 " COPY statements as binary (the others held a value pgcopy does not encode exactly)");
    if (m_o.on_conflict == conflict_action::ignore && m_rows_sent > m_summary.rows + m_summary.rejected)
        line += "; " + format_count(m_rows_sent - m_summary.rows - m_summary.rejected) + " conflicting rows skipped";
    log_info(line);
    write_stats();
}

load_summary batch_loader::run() {
    try {
        if (!start())
            return m_summary;
        prepare();
        read_all();
        conclude();
    } catch (const error& e) {
        fail(e);
    } catch (...) {
        stop_jobs();
        throw;
    }
    report();
    return m_summary;
}

} // namespace

load_summary run_batched_copy(const copy_load_options& options, const load_plan& plan,
                              std::unique_ptr<input_stream> first) {
    batch_loader loader(options, plan, std::move(first));
    return loader.run();
}

} // namespace pgpipe
