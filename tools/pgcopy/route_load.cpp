// pgcopy's routed loads: rows of a table partitioned over postgres_fdw shards, each sent straight to its shard.
#include "route_load.hpp"

#include "batch_cut.hpp"
#include "copy_in.hpp"
#include "copy_sql.hpp"
#include "reject_rules.hpp"
#include "resume_record.hpp"
#include "fingerprint.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/text.hpp"
#include "io/copy_fields.hpp"
#include "io/input.hpp"
#include "io/reject_sink.hpp"
#include "io/row_splitter.hpp"
#include "pg/server_rules.hpp"
#include "pg/identifier.hpp"
#include "pg/pg_types.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

namespace pgpipe {
namespace {

constexpr size_t read_chunk = 1 << 20;
// Without batches the reader hands rows on in pieces of about this size:
// three of them (being read, being sent, spare) keep memory flat.
constexpr uint64_t one_transaction_piece = 1 << 20;
constexpr uint64_t default_batch_bytes = 16 << 20;
constexpr size_t send_chunk = 256 << 10; // a destination's rows go to libpq in writes of this size
constexpr size_t pieces_in_flight = 3;

// The rows the reader cut, and where each goes.
struct piece {
    std::string bytes;
    std::vector<size_t> starts;                 // row k is [starts[k], starts[k+1])
    std::vector<std::vector<uint32_t>> rows_of; // per destination, its rows in order
    std::vector<bool> skip;                     // per destination: an earlier run committed this batch there
    std::vector<uint64_t> lines;                // each row's line in its input
    size_t input_index = 0;
    uint64_t first_offset = 0; // of bytes[0] in the input
    bool ends_unit = false;    // the last piece of a batch (or of the load)
    std::string hash;          // --resume-key: fingerprint of the batch's bytes
    // --reject-file: the rows each destination's part of the batch set
    // aside (the coordinator's: rows fitting no partition, \. lines),
    // written before the batch commits, taken back for a part that does not.
    struct part_rejects {
        std::string rows, log;
        uint64_t count = 0;
    };
    std::vector<part_rejects> rejects;
    unsigned pending = 0;      // destinations yet to send it
    size_t rows() const { return starts.empty() ? 0 : starts.size() - 1; }
    std::string_view row(size_t k) const { return std::string_view(bytes).substr(starts[k], starts[k + 1] - starts[k]); }
    uint64_t start_offset() const { return first_offset + starts.front(); }
    uint64_t end_offset() const { return first_offset + starts.back(); }
    uint64_t rejected() const {
        uint64_t n = 0;
        for (const auto& r : rejects)
            n += r.count;
        return n;
    }
    void reject(size_t destination, std::string_view row, std::string log_line) {
        reject_sink::add_row(rejects[destination].rows, row, true); // text or CSV: a routed load reads no binary
        rejects[destination].log += log_line;
        ++rejects[destination].count;
    }
};

// The input lines of the rows one destination was sent in the current
// unit, a varint of the difference from the previous one per row (a byte,
// mostly): a server's "line N" of its COPY names the N-th, and this finds
// its place. Capped, so that one transaction over a huge input stays
// bounded: past the cap a failure names the destination's row only.
class line_log {
public:
    static constexpr size_t cap = 64 << 20;
    void clear() { m_bytes.clear(), m_last = 0; }
    void add(uint64_t global_line) {
        if (m_bytes.size() >= cap)
            return;
        uint64_t d = global_line - m_last;
        m_last = global_line;
        do {
            m_bytes.push_back(static_cast<char>((d & 0x7f) | (d > 0x7f ? 0x80 : 0)));
            d >>= 7;
        } while (d);
    }
    // The line of row n (1-based), or 0 when it is not known.
    uint64_t line_of(uint64_t n) const {
        uint64_t line = 0, row = 0;
        for (size_t i = 0; i < m_bytes.size() && row < n; ++row) {
            uint64_t d = 0;
            for (int shift = 0; i < m_bytes.size(); shift += 7) {
                const auto byte = static_cast<unsigned char>(m_bytes[i++]);
                d |= static_cast<uint64_t>(byte & 0x7f) << shift;
                if (!(byte & 0x80))
                    break;
            }
            line += d;
        }
        return row == n ? line : 0;
    }

private:
    std::string m_bytes;
    uint64_t m_last = 0;
};

// What an earlier run committed on one destination: (input, start) -> (end, hash).
using committed_batches = std::map<std::pair<size_t, uint64_t>, std::pair<uint64_t, std::string>>;

const char* const progress_ddl =
    "CREATE TABLE IF NOT EXISTS pgpipe.routed_batches (key text NOT NULL, target text NOT NULL,"
    " input_index int NOT NULL, start_offset bigint NOT NULL, end_offset bigint NOT NULL, content_hash text NOT NULL,"
    " rows_loaded bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), shape text,"
    " reject_bytes bigint, reject_log_bytes bigint, PRIMARY KEY (key, target, input_index, start_offset))";

class routed_loader;

// One destination: its connection, transaction and COPY, fed by its thread.
class destination_stream {
public:
    destination_stream(routed_loader& loader, route_destination d, size_t index)
        : m_loader(loader), m_d(std::move(d)), m_index(index) {}

    void connect(const connection_options& coordinator_login, const std::string& client_encoding);
    void read_committed(const std::string& key);
    void begin();
    void send(const piece& p);         // this destination's rows of p, then the unit's end if p ends one
    void finish_unit(const piece& p);  // the COPY's end and a shard's progress record
    // --resume-key: the batch's record on this server, with the reject
    // files' sizes once its rejects are written (the coordinator's), or NULLs.
    void record(const piece& p, const std::string& reject_sizes);
    void rollback() noexcept;
    connection& conn() { return *m_conn; }
    const route_destination& destination() const { return m_d; }
    bool in_transaction() const { return m_tx; }
    size_t index() const { return m_index; }
    // What this destination's progress rows are kept under: the partition
    // (two partitions may share a remote table), or the parent.
    std::string record_target() const;
    std::string prepared_leftovers();  // names of pgcopy's prepared transactions left in this database
    void truncate();                   // --truncate: begins the transaction and empties this destination's tables
    void end_transaction() { m_tx = false; }
    void check_unit_rows() const;      // throws unless the server took every row sent in this unit

    // The worker's state, under the loader's mutex.
    std::deque<piece*> queue;
    std::optional<error> failure;   // this unit's, if any
    uint64_t failed_row = 0;        // the server's "line N" of it (0: unknown)
    std::string failed_state;       // its SQLSTATE
    void note_failure(const error& e) {
        failure = e;
        const auto* se = dynamic_cast<const server_error*>(&e);
        failed_row = se ? copy_context_line(se->context()).value_or(0) : 0;
        failed_state = se ? se->sqlstate() : "";
    }
    uint64_t unit_rows = 0;         // rows the server took in this unit
    uint64_t rows_committed = 0;
    committed_batches committed;    // --resume-key: what earlier runs committed here
    std::string recorded_shape;     // ... and the shape of that load (resume_record.hpp)
    uint64_t reject_bytes = 0, reject_log_bytes = 0; // ... and the reject files' sizes then (the coordinator's)
    bool reject_sizes_known = true;                  // ... unless an older pgcopy made a record
    line_log lines;                 // the reader's, for the current unit
    std::string gid;                // --two-phase: the prepared transaction's name

private:
    routed_loader& m_loader;
    route_destination m_d;
    size_t m_index;
    std::optional<connection> m_conn;
    std::optional<copy_in_session> m_copy;
    std::string m_copy_sql, m_send;
    bool m_tx = false;
    uint64_t m_unit_sent = 0; // rows sent in this unit: the server must take each
};

class routed_loader {
public:
    routed_loader(const copy_load_options& o, routing plan, connection coordinator, std::unique_ptr<input_stream> first)
        : m_o(o), m_plan(std::move(plan)), m_coordinator(std::move(coordinator)), m_first(std::move(first)),
          m_fields(o.format) {
        m_inputs = inputs_or_stdin(o.inputs);
        m_batched = o.batched();
        m_csv = o.format.format == copy_format::csv;
        m_batch_bytes = m_batched ? o.batch_bytes.value_or(default_batch_bytes) : one_transaction_piece;
        m_batch_rows = m_batched && o.batch_rows ? *o.batch_rows : UINT64_MAX;
        m_summary.program = std::string(program_name());
        m_summary.target = o.table;
    }
    load_summary run();

private:
    friend class destination_stream;
    void start();
    void read_input(size_t index);
    void take_rows(piece*& p, size_t index, bool at_end);
    void hand_on(piece* p);
    piece* free_piece();
    void route(piece& p);
    void route_row(piece& p, size_t k, uint64_t line);
    bool read_key(std::string_view row, key_value& key);
    void no_partition(piece& p, size_t k, uint64_t line, const key_value& key);
    void mark_committed(piece& p);
    void end_unit(piece& p);
    void settle_unit();
    void reject_failed_rows(piece& p);
    // The row (1-based, among the destination's rows of p) that the
    // server's CONTEXT line names, or 0: CSV rows may span lines it counts.
    uint64_t row_of_line(const piece& p, size_t destination, uint64_t line) const {
        const auto& rows = p.rows_of[destination];
        const size_t k = row_at_copy_line(m_csv, rows.size(), line, [&](size_t i) { return p.row(rows[i]); });
        return k < rows.size() ? k + 1 : 0;
    }
    void commit_unit(piece* p);
    void record_unit(const piece& p);
    void prepare_all(const std::vector<destination_stream*>& open);
    void finish_load();
    void write_rejects(const piece& p);
    void append_rejects(const piece& p, const std::vector<bool>& parts);
    void take_back_rejects(const piece& p, const std::vector<destination_stream*>& open, size_t committed);
    void check_reject_limit(const piece& p);
    void worker(destination_stream& d);
    void stop_workers() noexcept;
    [[noreturn]] void fail_unit(destination_stream& d, const piece* unit);
    [[noreturn]] void fail(const error& e);
    [[noreturn]] void settle_before_failing(const error& e);
    destination_stream* failed_stream();
    std::string where(size_t input, uint64_t line) const {
        return input_display_name(m_inputs[input]) + ":" + std::to_string(line);
    }
    std::string committed_text() const;
    void report();

    const copy_load_options& m_o;
    routing m_plan;
    connection m_coordinator;
    std::string m_shape_text; // what each --resume-key record holds of the load (resume_record.hpp)
    std::unique_ptr<input_stream> m_first;
    std::vector<std::string> m_inputs;
    bool m_batched = false;
    uint64_t m_batch_bytes = 0, m_batch_rows = 0;
    std::vector<std::unique_ptr<destination_stream>> m_streams;
    std::vector<std::thread> m_threads;
    std::vector<std::unique_ptr<piece>> m_pieces;
    std::vector<piece*> m_free;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_stop = false, m_failed = false;
    std::unique_ptr<row_splitter> m_splitter;
    key_value m_key;
    copy_field_reader m_fields;         // reads the keys
    bool m_csv = false;                 // the format's, for CONTEXT lines
    std::vector<uint64_t> m_input_base; // global line before each input's first line
    uint64_t m_line = 1;                // the next row's line in the current input
    char m_newline = 0;                 // its first line's end: '\n', or '\r' for \r\n
    void check_newline(const piece& p, size_t end, const end_marker* marker, const std::string& input);
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
    std::optional<held_marker> m_held;
    std::vector<held_marker> m_released;
    std::unique_ptr<reject_sink> m_rejects;
    uint64_t m_reject_rows_size = 0, m_reject_log_size = 0; // before the unit settling wrote its rejects
    piece* m_unsettled = nullptr; // the unit handed on and not yet committed
    uint64_t m_rows_settled = 0, m_units = 0;
    load_summary m_summary;
    progress_meter m_meter{false};
    progress_state m_state;
    std::string m_gid_prefix;
};

// ------------------------------------------------------------ destinations

void destination_stream::connect(const connection_options& coordinator_login, const std::string& client_encoding) {
    try {
        m_conn = connection::open(m_index == 0 ? coordinator_login : m_d.login);
    } catch (const error& e) {
        if (m_index == 0)
            throw;
        throw error(e.status(), "server " + m_d.server + " (partition " + m_d.name + "): " + e.what(), e.detail(),
                    "pgcopy connects with the server's options as the user mapping's user; a password comes from "
                    "PGPASSWORD, ~/.pgpass (PGPASSFILE) or a service file, never from the mapping");
    }
    m_conn->exec("SET client_encoding = " + m_conn->quote_literal(client_encoding));
    apply_session_settings(*m_conn, m_loader.m_o.toast_compression); // --toast-compression, on every server
    const std::string table = m_index == 0 ? m_loader.m_plan.table_sql : quote_qualified_name(*m_conn, m_d.remote_table_parts);
    copy_format_options format = m_loader.m_o.format;
    format.header = false; // the reader keeps headers back
    m_copy_sql = build_copy_sql(*m_conn, table, m_d.columns, format, false);
}

void destination_stream::read_committed(const std::string& key) {
    require_pgpipe_access(*m_conn, {"pgpipe.routed_batches"}, "--resume-key"); // on this destination's server
    create_pgpipe_tables(*m_conn, {"pgpipe.routed_batches"}, {progress_ddl});
    // Tables an older pgcopy made lack the shape and the reject sizes (only
    // then: a role that cannot ALTER still resumes).
    if (!m_conn->query_flag("SELECT count(*) = 3 FROM pg_attribute WHERE attrelid = 'pgpipe.routed_batches'::regclass"
                            " AND attname IN ('shape', 'reject_bytes', 'reject_log_bytes') AND NOT attisdropped"))
        m_conn->exec("ALTER TABLE pgpipe.routed_batches ADD COLUMN IF NOT EXISTS shape text,"
                     " ADD COLUMN IF NOT EXISTS reject_bytes bigint, ADD COLUMN IF NOT EXISTS reject_log_bytes bigint");
    result_ptr r = m_conn->query("SELECT input_index, start_offset, end_offset, content_hash, coalesce(shape, ''),"
                                 " coalesce(reject_bytes, -1), coalesce(reject_log_bytes, -1)"
                                 " FROM pgpipe.routed_batches"
                                 " WHERE key = " + m_conn->quote_literal(key) + " AND target = " +
                                 m_conn->quote_literal(record_target()));
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        committed[{std::stoull(PQgetvalue(r.get(), k, 0)), std::stoull(PQgetvalue(r.get(), k, 1))}] = {
            std::stoull(PQgetvalue(r.get(), k, 2)), PQgetvalue(r.get(), k, 3)};
        if (*PQgetvalue(r.get(), k, 4))
            recorded_shape = PQgetvalue(r.get(), k, 4);
        // The reject files grow in commit order: the last batch's sizes are
        // the largest. An older pgcopy's record has none (-1).
        const int64_t rows = std::stoll(PQgetvalue(r.get(), k, 5)), log = std::stoll(PQgetvalue(r.get(), k, 6));
        reject_sizes_known = reject_sizes_known && rows >= 0 && log >= 0;
        reject_bytes = std::max<uint64_t>(reject_bytes, static_cast<uint64_t>(std::max<int64_t>(rows, 0)));
        reject_log_bytes = std::max<uint64_t>(reject_log_bytes, static_cast<uint64_t>(std::max<int64_t>(log, 0)));
    }
}

std::string destination_stream::record_target() const { return m_index == 0 ? m_loader.m_plan.table_sql : m_d.name; }

std::string destination_stream::prepared_leftovers() {
    result_ptr r = m_conn->query("SELECT string_agg(gid, ', ' ORDER BY gid) FROM pg_prepared_xacts"
                                 " WHERE gid LIKE 'pgcopy-%' AND database = current_database()");
    return PQgetisnull(r.get(), 0, 0) ? std::string() : PQgetvalue(r.get(), 0, 0);
}

void destination_stream::begin() {
    if (m_tx)
        return;
    m_conn->exec("BEGIN");
    m_tx = true;
}

void destination_stream::truncate() {
    if (m_d.server.empty() && m_d.truncate.empty())
        return; // no local partition: nothing to empty on the coordinator
    begin();
    if (!m_d.server.empty())
        m_conn->exec("TRUNCATE " + quote_qualified_name(*m_conn, m_d.remote_table_parts));
    for (const auto& local : m_d.truncate)
        m_conn->exec("TRUNCATE " + local);
}

void destination_stream::send(const piece& p) {
    const auto& rows = p.rows_of[m_index];
    if (!p.skip[m_index] && !rows.empty()) {
        begin();
        if (!m_copy)
            m_copy.emplace(*m_conn, m_copy_sql);
        m_unit_sent += rows.size();
        // Runs of rows that lie together in the piece (a range shard's,
        // mostly) go as they are; scattered rows are gathered first.
        m_send.clear();
        for (size_t a = 0, b; a < rows.size(); a = b) {
            for (b = a + 1; b < rows.size() && rows[b] == rows[b - 1] + 1;)
                ++b;
            const std::string_view run(p.bytes.data() + p.starts[rows[a]], p.starts[rows[b - 1] + 1] - p.starts[rows[a]]);
            if (run.size() < send_chunk)
                m_send += run;
            if (m_send.size() >= send_chunk || (run.size() >= send_chunk && !m_send.empty())) {
                m_copy->put(m_send.data(), m_send.size());
                m_send.clear();
            }
            if (run.size() >= send_chunk)
                m_copy->put(run.data(), run.size());
        }
        if (!m_send.empty())
            m_copy->put(m_send.data(), m_send.size());
    }
    if (p.ends_unit)
        finish_unit(p);
}

void destination_stream::finish_unit(const piece& p) {
    if (m_copy) {
        unit_rows = m_copy->finish();
        m_copy.reset();
        check_unit_rows();
    }
    m_unit_sent = 0;
    // The coordinator records every batch, once its rejects are written (record_unit).
    if (m_loader.m_o.resume_key.empty() || p.skip[m_index] || !m_tx || m_index == 0)
        return;
    record(p, "NULL, NULL");
}

void destination_stream::record(const piece& p, const std::string& reject_sizes) {
    begin();
    auto n = [](uint64_t v) { return std::to_string(v); };
    m_conn->exec("INSERT INTO pgpipe.routed_batches (key, target, input_index, start_offset, end_offset, content_hash,"
                 " rows_loaded, shape, reject_bytes, reject_log_bytes) VALUES (" +
                 m_conn->quote_literal(m_loader.m_o.resume_key) + ", " + m_conn->quote_literal(record_target()) + ", " +
                 n(p.input_index) + ", " + n(p.start_offset()) + ", " + n(p.end_offset()) + ", " +
                 m_conn->quote_literal(p.hash) + ", " + n(unit_rows) + ", " +
                 m_conn->quote_literal(m_loader.m_shape_text) + ", " + reject_sizes + ")");
}

// A server that reads an end-of-data marker where the coordinator's rules
// read a row (a shard of another major) would end its COPY early and drop
// the rest without an error: its count of rows taken says so.
void destination_stream::check_unit_rows() const {
    if (unit_rows == m_unit_sent)
        return;
    throw error(exit_status::server_error,
                m_d.name + (m_d.server.empty() ? "" : " on server " + m_d.server) + " took " +
                    std::to_string(unit_rows) + " of the " + std::to_string(m_unit_sent) + " rows sent to it",
                "its server ended the COPY early: PostgreSQL " + std::to_string(server_rules::of(*m_conn).major()) +
                    " there reads an end-of-data marker in the data that this server reads as a row",
                "load through a server of the same major as the shards, or with --no-route");
}

void destination_stream::rollback() noexcept {
    m_unit_sent = 0;
    if (m_copy) {
        m_copy->abort("pgcopy: routed load stopped");
        m_copy.reset();
    }
    if (m_tx && m_conn && m_conn->ok()) {
        try {
            m_conn->exec("ROLLBACK");
        } catch (const error&) {
        }
    }
    m_tx = false;
}

// ------------------------------------------------------------ the reader

piece* routed_loader::free_piece() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return !m_free.empty() || m_failed; });
    if (m_failed)
        throw error(exit_status::server_error, "stopped"); // replaced by the destination's own error
    piece* p = m_free.back();
    m_free.pop_back();
    return p;
}

// A piece goes to every destination's thread; the last to finish frees it.
void routed_loader::hand_on(piece* p) {
    throw_if_interrupted();
    p->pending = static_cast<unsigned>(m_streams.size());
    {
        std::lock_guard lock(m_mutex);
        for (auto& s : m_streams)
            s->queue.push_back(p);
    }
    m_changed.notify_all();
    m_state.input_bytes += p->end_offset() - p->start_offset();
    m_state.rows += p->rows();
    m_meter.update(m_state);
}

bool routed_loader::read_key(std::string_view row, key_value& key) {
    if (!m_fields.read(row, m_plan.key_field + 1) || m_fields.size() <= m_plan.key_field)
        return false; // too few fields, or a quote left open: the server says so
    if (m_fields.is_null(m_plan.key_field)) {
        key.null = true;
        return true;
    }
    // Characters of the server's encoding: UTF-8 counts characters, others
    // bytes (never fewer than characters).
    const std::string_view value = m_fields.value(m_plan.key_field);
    if (m_plan.key_max_chars && (m_plan.key_utf8 ? utf8_length(value) : value.size()) > m_plan.key_max_chars)
        return false; // varchar(n) cuts trailing spaces past n, or refuses: the server's to decide
    return parse_key(m_plan.kind, value, key);
}

void routed_loader::route_row(piece& p, size_t k, uint64_t line) {
    size_t destination = 0; // a key pgcopy cannot read: the server routes it
    if (read_key(p.row(k), m_key)) {
        const std::optional<size_t> d = m_plan.destination_of(m_key);
        if (!d)
            return no_partition(p, k, line, m_key);
        destination = *d;
    }
    p.rows_of[destination].push_back(static_cast<uint32_t>(k));
    if (!m_batched && !p.skip[destination]) // a batch finds its lines in its piece
        m_streams[destination]->lines.add(m_input_base[p.input_index] + line);
}

// A row no partition admits: SQLSTATE 23514, as the server says it.
void routed_loader::no_partition(piece& p, size_t k, uint64_t line, const key_value& key) {
    const std::string message = "no partition of relation \"" + m_o.table + "\" found for row";
    const std::string detail = "Partition key of the failing row contains (" + m_plan.key_column + ") = (" +
                               (key.null ? std::string("null") : std::string(m_fields.value(m_plan.key_field))) + ").";
    if (!m_rejects)
        throw error(exit_status::server_error, message + " at " + where(p.input_index, line), detail,
                    "add a partition (or a DEFAULT one) for it, or set such rows aside with --reject-file");
    if (p.skip[0])
        return; // rejected by the run that committed this batch
    p.reject(0, p.row(k),
             reject_sink::log_line(m_inputs[p.input_index], line, std::to_string(p.first_offset + p.starts[k]), "23514",
                                   message, detail));
}

// Which destinations committed this batch in an earlier run (--resume-key).
void routed_loader::mark_committed(piece& p) {
    p.skip.assign(m_streams.size(), false);
    if (m_o.resume_key.empty())
        return;
    fingerprint print;
    print.update(p.bytes.data() + p.starts.front(), p.starts.back() - p.starts.front());
    p.hash = print.hex();
    for (size_t d = 0; d < m_streams.size(); ++d) {
        auto it = m_streams[d]->committed.find({p.input_index, p.start_offset()});
        if (it == m_streams[d]->committed.end())
            continue;
        if (it->second.first != p.end_offset() || it->second.second != p.hash)
            throw local_error("resume key \"" + m_o.resume_key + "\": " + m_inputs[p.input_index] +
                                  " is not what the first run read (bytes " + std::to_string(p.start_offset()) + " to " +
                                  std::to_string(p.end_offset()) + " differ on " + m_streams[d]->destination().name + ")",
                              "the input changed, or the batch options did",
                              "rerun with the same input and batch options, or use a new --resume-key");
        p.skip[d] = true;
    }
}

void routed_loader::route(piece& p) {
    for (auto& rows : p.rows_of)
        rows.clear();
    p.rows_of.resize(m_streams.size());
    p.rejects.assign(m_streams.size(), {});
    mark_committed(p);
    for (const held_marker& m : m_released)
        if (!p.skip[0]) // else rejected by the run that committed this batch
            p.reject(0, m.text,
                     reject_sink::log_line(m_inputs[p.input_index], m.line, std::to_string(m.offset), "22P04",
                                           early_marker_message, early_marker_detail));
    m_released.clear();
    p.lines.resize(m_batched ? p.rows() : 0); // one transaction keeps lines in the line logs instead
    for (size_t k = 0; k < p.rows(); ++k) {
        if (m_batched)
            p.lines[k] = m_line;
        route_row(p, k, m_line);
        m_line += count_newlines(p.bytes.data() + p.starts[k], p.starts[k + 1] - p.starts[k]);
    }
}

// Cuts the rows read so far into pieces and hands them on; the rest stays
// in p (moved to the front of a fresh piece).
void routed_loader::take_rows(piece*& p, size_t index, bool at_end) {
    for (;;) {
        size_t n = rows_to_cut(p->starts, m_batch_rows, m_batch_bytes, at_end);
        if (n == 0)
            return;
        piece* next = free_piece();
        next->input_index = index;
        next->first_offset = p->first_offset + p->starts[n];
        next->bytes.assign(p->bytes, p->starts[n]);
        next->starts.clear();
        for (size_t k = n; k < p->starts.size(); ++k)
            next->starts.push_back(p->starts[k] - p->starts[n]);
        p->starts.resize(n + 1);
        p->bytes.resize(p->starts.back());
        route(*p);
        p->ends_unit = m_batched;
        if (p->ends_unit)
            end_unit(*p);
        else
            hand_on(p);
        p = next;
        if (at_end && p->rows() == 0)
            return;
    }
}

// The server holds every \. to the line end of the input's first line
// (m_newline, set here): a marker that differs is refused, as it refuses it;
// so is one it refuses after data (18).
void routed_loader::check_newline(const piece& p, size_t end, const end_marker* marker, const std::string& input) {
    const char first = m_newline;
    if (!m_newline)
        m_newline = end >= 2 && p.bytes[end - 2] == '\r' ? '\r' : '\n';
    if (marker && first && (marker->size == 4) != (first == '\r'))
        throw marker_newline_mismatch(input, marker->line, first == '\r');
    if (marker && marker->refused)
        throw marker_not_alone(input, marker->line);
}

void routed_loader::read_input(size_t index) {
    std::unique_ptr<input_stream> in =
        index == 0 && m_first ? std::move(m_first) : std::make_unique<input_stream>(m_inputs[index]);
    m_splitter = make_row_splitter(m_o.format, server_rules::of(m_coordinator).markers(), in->name());
    m_input_base.push_back(m_input_base.empty() ? 0 : m_input_base.back() + m_line);
    m_line = 1;
    piece* p = free_piece();
    p->input_index = index;
    p->first_offset = 0;
    p->bytes.clear();
    p->starts.assign(1, 0);
    std::vector<size_t> ends;
    bool header = m_o.format.header;
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
            check_newline(*p, end, m != markers.end() ? &*m : nullptr, in->name());
            if (m != markers.end() && m_rejects) {
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
uint64_t routed_loader::take_marker_row(piece& p, size_t end, const end_marker& m, bool header) {
    if (header || end - m.size <= p.starts.back())
        return p.first_offset + end;
    p.bytes.erase(end - m.size, 2);
    p.starts.push_back(end - 2);
    return p.first_offset + end - 2;
}

// --reject-file: the \. line ending at end (in p->bytes) is held until data
// follows it (then rejected) or the input ends. The rows before it go as
// batches of their own, as the engine cuts them; p goes on past the line.
void routed_loader::hold_marker(piece*& p, size_t index, size_t end, const end_marker& m, bool header) {
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
void routed_loader::end_input(piece* p, size_t index, bool ended_by_marker) {
    if (p->bytes.size() > p->starts.back() && !ended_by_marker) {
        p->bytes.push_back('\n');
        p->starts.push_back(p->bytes.size());
    }
    if (p->rows() > 0)
        take_rows(p, index, true);
    std::lock_guard lock(m_mutex);
    m_free.push_back(p);
}

// ------------------------------------------------------------ units

void routed_loader::worker(destination_stream& d) {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [&] { return m_stop || !d.queue.empty(); });
        if (d.queue.empty())
            return;
        piece* p = d.queue.front();
        d.queue.pop_front();
        const bool skip = d.failure.has_value(); // the unit failed here: its later pieces go nowhere
        lock.unlock();
        try {
            if (!skip)
                d.send(*p);
        } catch (const error& e) {
            lock.lock();
            d.note_failure(e);
            lock.unlock();
        }
        lock.lock();
        if (--p->pending == 0) {
            if (!p->ends_unit) // end_unit frees the last piece of a unit
                m_free.push_back(p);
            m_changed.notify_all();
        }
        if (d.failure && !m_batched)
            m_failed = true, m_changed.notify_all();
    }
}

// The last piece of a unit goes to every destination once the unit before
// it has committed: the reader cuts and routes the next batch meanwhile.
void routed_loader::end_unit(piece& p) {
    settle_unit();
    hand_on(&p);
    m_unsettled = &p;
    if (!m_batched)
        settle_unit();
}

// The unit handed on: every destination took it, then all commit or none.
void routed_loader::settle_unit() {
    if (!m_unsettled)
        return;
    piece& p = *m_unsettled;
    m_unsettled = nullptr; // settled once, even when it fails
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return p.pending == 0; });
    }
    if (m_batched)
        reject_failed_rows(p);
    if (destination_stream* failed = failed_stream())
        fail_unit(*failed, &p);
    check_reject_limit(p); // before COMMIT: a unit past the limit rolls back whole
    write_rejects(p);
    commit_unit(&p);
    m_rows_settled += p.rows();
    {
        std::lock_guard lock(m_mutex);
        m_free.push_back(&p);
    }
    m_changed.notify_all();
}

std::string routed_loader::committed_text() const {
    if (m_summary.batches == 0)
        return "nothing was committed";
    return format_count(m_summary.rows) + " rows in " + format_count(m_summary.batches) + " batches were committed";
}

// A destination's failure ends the load: every open transaction rolls back.
void routed_loader::fail_unit(destination_stream& d, const piece* unit) {
    error e = *d.failure;
    size_t input = 0;
    uint64_t line = 0, row_number = d.failed_row;
    if (const uint64_t row = m_batched && unit ? row_of_line(*unit, d.index(), d.failed_row) : 0) {
        input = unit->input_index; // a batch knows its rows' lines
        row_number = row;
        line = m_input_base[input] + unit->lines[unit->rows_of[d.index()][row - 1]];
    } else if (!m_batched && d.failed_row) {
        line = d.lines.line_of(d.failed_row);
        while (input + 1 < m_input_base.size() && m_input_base[input + 1] < line)
            ++input;
    }
    if (line) {
        e.set_context(where(input, line - m_input_base[input]) + " (row " + std::to_string(row_number) + " sent to " +
                      d.destination().name + (d.destination().server.empty() ? "" : " on " + d.destination().server) + ")");
        d.failure = e; // a later call (the load's fail, the unit gone) keeps the place
    }
    stop_workers();
    error out(e.status(), d.destination().name + ": " + escape_line_ends(e.what()),
              e.detail().empty() ? committed_text() : e.detail() + "\n" + committed_text(), e.hint());
    out.set_context(e.context());
    throw out;
}

// --reject-file: a row a destination refused goes to the reject file, and
// the destination's part of the batch goes again without it.
void routed_loader::reject_failed_rows(piece& p) {
    for (size_t d = 0; d < m_streams.size(); ++d) {
        destination_stream& s = *m_streams[d];
        auto& rows = p.rows_of[d];
        uint64_t row = 0;
        while (s.failure && m_rejects && (row = row_of_line(p, d, s.failed_row)) > 0 && row_fault(s.failed_state)) {
            const uint32_t k = rows[row - 1];
            p.reject(d, p.row(k),
                     reject_sink::log_line(m_inputs[p.input_index], p.lines[k],
                                           std::to_string(p.first_offset + p.starts[k]), s.failed_state,
                                           s.failure->what(), s.failure->detail()));
            rows.erase(rows.begin() + static_cast<ptrdiff_t>(row - 1));
            s.failure.reset();
            s.rollback();
            if (m_o.truncate && m_units == 0)
                s.truncate(); // the rollback took the first transaction's TRUNCATE with it
            try {
                s.send(p);
            } catch (const error& e) {
                s.note_failure(e);
            }
        }
    }
}

void routed_loader::write_rejects(const piece& p) {
    m_summary.rejected += p.rejected();
    if (!m_rejects)
        return;
    m_reject_rows_size = m_rejects->rows_size();
    m_reject_log_size = m_rejects->log_size();
    append_rejects(p, std::vector<bool>(m_streams.size(), true));
}

// The rejects of the parts given, on disk before the batch commits: a crash
// between them repeats a reject (cut back by a rerun with the same
// --resume-key), never loses one.
void routed_loader::append_rejects(const piece& p, const std::vector<bool>& parts) {
    bool any = false;
    for (size_t d = 0; d < p.rejects.size(); ++d) {
        if (!parts[d] || p.rejects[d].rows.empty())
            continue;
        m_rejects->append(p.rejects[d].rows, p.rejects[d].log);
        any = true;
    }
    if (any)
        m_rejects->sync();
}

// The unit did not commit on open[committed] and after: the rejects of those
// parts leave the reject files. A part without a transaction (no rows, or
// all rejected) went with the unit if any part committed.
void routed_loader::take_back_rejects(const piece& p, const std::vector<destination_stream*>& open, size_t committed) {
    std::vector<bool> kept(m_streams.size(), committed > 0);
    for (size_t k = 0; k < open.size(); ++k)
        kept[open[k]->index()] = k < committed;
    for (size_t d = 0; d < p.rejects.size(); ++d)
        if (!kept[d])
            m_summary.rejected -= p.rejects[d].count;
    if (!m_rejects)
        return;
    m_rejects->truncate(m_reject_rows_size, m_reject_log_size);
    append_rejects(p, kept);
}

void routed_loader::check_reject_limit(const piece& p) {
    const uint64_t rejected = m_summary.rejected + p.rejected();
    if (over_max_rejects(m_o, rejected, m_rows_settled + p.rows(), true))
        throw max_rejects_stop(m_o, rejected, committed_text(),
                               where(p.input_index, p.rows() ? p.lines[0] : m_line));
}

// --two-phase: every open transaction prepared, or none left prepared.
void routed_loader::prepare_all(const std::vector<destination_stream*>& open) {
    std::vector<destination_stream*> prepared;
    for (destination_stream* s : open) {
        s->gid = m_gid_prefix + "-" + std::to_string(m_units) + "-" + std::to_string(s->index());
        try {
            s->conn().exec("PREPARE TRANSACTION " + s->conn().quote_literal(s->gid));
            prepared.push_back(s);
        } catch (const error& e) {
            s->end_transaction(); // a failed PREPARE rolls back
            for (destination_stream* done : prepared) {
                try {
                    done->conn().exec("ROLLBACK PREPARED " + done->conn().quote_literal(done->gid));
                } catch (const error&) {
                }
                done->end_transaction();
            }
            stop_workers();
            throw error(exit_status::server_error, s->destination().name + ": PREPARE TRANSACTION failed: " + e.what(),
                        committed_text() + "; this " + (m_batched ? "batch" : "load") + " was rolled back everywhere",
                        "--two-phase needs max_prepared_transactions above 0 on every server that takes rows");
        }
    }
}

// --resume-key: the coordinator's record of the batch, with the reject
// files' sizes once its rejects are in them (what a rerun cuts them back to).
void routed_loader::record_unit(const piece& p) {
    if (m_o.resume_key.empty() || p.skip[0])
        return;
    m_streams[0]->record(p, m_rejects ? std::to_string(m_rejects->rows_size()) + ", " + std::to_string(m_rejects->log_size())
                                      : std::string("NULL, NULL"));
}

// Every destination with an open transaction commits this unit's rows (p:
// the unit, null for the TRUNCATE of an empty input). The rejects of the
// parts that do not commit are taken back.
void routed_loader::commit_unit(piece* p) {
    std::vector<destination_stream*> open;
    try {
        if (p)
            record_unit(*p);
        for (auto& s : m_streams)
            if (s->in_transaction())
                open.push_back(s.get());
        throw_if_interrupted();
        if (m_o.two_phase)
            prepare_all(open);
    } catch (...) {
        if (p)
            take_back_rejects(*p, open, 0);
        throw;
    }
    std::string done;
    for (size_t k = 0; k < open.size(); ++k) {
        destination_stream& s = *open[k];
        try {
            s.conn().exec(m_o.two_phase ? "COMMIT PREPARED " + s.conn().quote_literal(s.gid) : std::string("COMMIT"));
        } catch (const error& e) {
            std::string left;
            for (size_t j = k; j < open.size(); ++j)
                left += (left.empty() ? "" : ", ") + open[j]->destination().name +
                        (m_o.two_phase ? " (prepared as " + open[j]->gid + ")" : "");
            if (p && !m_o.two_phase) // prepared parts are to be committed by hand: their rejects stay
                take_back_rejects(*p, open, k);
            stop_workers();
            throw error(exit_status::server_error, s.destination().name + ": COMMIT failed: " + e.what(),
                        committed_text() + "; of this " + (m_batched ? "batch" : "load") + ", committed on: " +
                            (done.empty() ? "none" : done) + "; not on: " + left,
                        m_o.two_phase ? "run COMMIT PREPARED on the servers left prepared, or rerun with the same --resume-key"
                                      : "rerun with the same --resume-key, or check those tables");
        }
        s.end_transaction();
        s.rows_committed += s.unit_rows;
        m_summary.rows += s.unit_rows;
        done += (done.empty() ? "" : ", ") + s.destination().name;
    }
    for (auto& s : m_streams) {
        s->unit_rows = 0;
        s->lines.clear();
    }
    ++m_summary.batches;
    ++m_units;
}

void routed_loader::stop_workers() noexcept {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        for (auto& s : m_streams)
            s->queue.clear();
    }
    m_changed.notify_all();
    for (auto& t : m_threads)
        if (t.joinable())
            t.join();
    for (auto& s : m_streams)
        s->rollback();
}

// ------------------------------------------------------------ the load

void routed_loader::start() {
    m_meter = progress_meter(m_o.show_progress);
    const std::string encoding = PQparameterStatus(m_coordinator.get(), "client_encoding");
    const connection_options login = m_coordinator.same_login(m_o.connection);
    const load_shape shape = describe_load(m_coordinator, m_plan.table_sql, m_plan.columns, m_o.format);
    m_shape_text = shape.text();
    for (size_t d = 0; d < m_plan.destinations.size(); ++d) {
        m_streams.push_back(std::make_unique<destination_stream>(*this, m_plan.destinations[d], d));
        m_streams.back()->connect(login, encoding);
        if (std::string left = m_streams.back()->prepared_leftovers(); !left.empty())
            throw local_error("prepared transactions of an earlier pgcopy --two-phase load are pending on " +
                                  m_streams.back()->conn().describe() + ": " + left,
                              "they hold their rows' locks: this load would wait for them for ever",
                              "COMMIT PREPARED them if every server of their batch has one, else ROLLBACK PREPARED");
        if (!m_o.resume_key.empty()) {
            m_streams.back()->read_committed(m_o.resume_key);
            check_resumed_shape(m_o.resume_key, shape, m_streams.back()->recorded_shape,
                                "DELETE FROM pgpipe.routed_batches WHERE key = '" + m_o.resume_key + "' on every server");
        }
    }
    if (m_o.verbose)
        for (auto& s : m_streams)
            log_info("routing: " + (s->index() == 0 ? "local partitions and unplaced keys through " + m_o.table
                                                   : s->destination().name + " to " + s->destination().remote_table) +
                     ", " + s->conn().describe());
    // The reject files start with what committed batches rejected: those of
    // the key's committed batches (at most what the files hold: a batch
    // whose COMMIT failed on a shard took its part back; all of it when an
    // older pgcopy's records do not say), else nothing.
    if (!m_o.reject_file.empty()) {
        const destination_stream& c = *m_streams[0];
        const uint64_t rows = regular_file_size(m_o.reject_file).value_or(0);
        const uint64_t log = regular_file_size(m_o.reject_file + ".log").value_or(0);
        m_rejects = c.reject_sizes_known ? std::make_unique<reject_sink>(m_o.reject_file, std::min(c.reject_bytes, rows),
                                                                         std::min(c.reject_log_bytes, log))
                                         : std::make_unique<reject_sink>(m_o.reject_file, rows, log);
    }
    if (m_o.two_phase) {
        std::random_device rd;
        m_gid_prefix = "pgcopy-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
    }
    if (m_o.truncate)
        for (auto& s : m_streams)
            s->truncate();
    for (size_t k = 0; k < pieces_in_flight; ++k) {
        m_pieces.push_back(std::make_unique<piece>());
        m_free.push_back(m_pieces.back().get());
    }
    for (auto& s : m_streams)
        m_threads.emplace_back([this, &s] { worker(*s); });
}

// The one transaction's end: an empty piece that ends the unit.
void routed_loader::finish_load() {
    if (m_batched) {
        settle_unit();
        if (m_o.truncate && m_units == 0)
            commit_unit(nullptr); // an empty input still empties the tables
        return;
    }
    piece* p = free_piece();
    p->bytes.clear();
    p->starts.assign(1, 0);
    p->input_index = m_inputs.size() - 1;
    route(*p);
    p->ends_unit = true;
    end_unit(*p);
}

load_summary routed_loader::run() {
    try {
        start();
        for (size_t k = 0; k < m_inputs.size(); ++k)
            read_input(k);
        finish_load();
    } catch (const error& e) {
        settle_before_failing(e);
    } catch (...) {
        stop_workers();
        throw;
    }
    stop_workers();
    report();
    return m_summary;
}

// The first destination whose unit failed, or null (its worker may still run).
destination_stream* routed_loader::failed_stream() {
    std::lock_guard lock(m_mutex);
    for (auto& s : m_streams)
        if (s->failure)
            return s.get();
    return nullptr;
}

// Bad input (or a row fitting no partition) while the batch before it was
// loading: that batch still commits, so that what committed is the whole
// input up to the bad place; then the failure.
void routed_loader::settle_before_failing(const error& e) {
    if (m_unsettled && !m_failed && !failed_stream()) {
        try {
            settle_unit();
        } catch (const error& settling) {
            fail(settling);
        }
    }
    fail(e);
}

// Every transaction rolled back, the failure said with what committed
// before it, and written to --stats.
void routed_loader::fail(const error& e) {
    try {
        if (destination_stream* failed = failed_stream())
            fail_unit(*failed, m_unsettled);
        stop_workers();
        if (e.detail().find("committed") != std::string::npos)
            throw;
        throw error(e.status(), e.what(), e.detail().empty() ? committed_text() : e.detail() + "\n" + committed_text(),
                    e.hint());
    } catch (const error& failure) {
        m_meter.finish();
        m_summary.seconds = m_meter.elapsed();
        m_summary.error = failure.what();
        write_stats_file(m_o.stats_file, m_summary);
        throw;
    }
}

void routed_loader::report() {
    m_meter.finish();
    m_summary.seconds = m_meter.elapsed();
    m_summary.input_bytes = m_state.input_bytes;
    m_summary.bytes = m_state.input_bytes; // rows are sent as read
    m_summary.committed = true;
    std::string shards;
    for (auto& s : m_streams) {
        m_summary.job_rows.push_back(s->rows_committed);
        if (s->destination().server.empty())
            continue;
        shards += (shards.empty() ? "" : ", ") + format_count(s->rows_committed) + " to " + s->destination().server;
    }
    std::string line = summary_line(m_summary) + "; routed " + shards;
    if (m_streams[0]->rows_committed)
        line += ", " + format_count(m_streams[0]->rows_committed) + " through " + m_o.table;
    if (m_batched)
        line += "; " + format_count(m_summary.batches) + " batch" + (m_summary.batches == 1 ? "" : "es");
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + (m_summary.rejected == 1 ? " row" : " rows") +
                " rejected (see " + m_o.reject_file + ".log)";
    log_info(line);
    write_stats_file(m_o.stats_file, m_summary);
}

} // namespace

load_summary run_routed_copy(const copy_load_options& options, routing plan, connection coordinator,
                             std::unique_ptr<input_stream> first) {
    routed_loader loader(options, std::move(plan), std::move(coordinator), std::move(first));
    return loader.run();
}

} // namespace pgpipe
