// A loader's link to one destination of a routed load: connecting, its progress records, commit and rollback.
#include "destination.hpp"

#include "copy_sql.hpp"
#include "resume_record.hpp"
#include "io/copy_format.hpp"
#include "pg/identifier.hpp"
#include "pg/schema.hpp"
#include "pg/server_rules.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

const char* const progress_ddl =
    "CREATE TABLE IF NOT EXISTS pgpipe.routed_batches (key text NOT NULL, target text NOT NULL,"
    " input_index int NOT NULL, start_offset bigint NOT NULL, end_offset bigint NOT NULL, content_hash text NOT NULL,"
    " rows_loaded bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), shape text,"
    " reject_bytes bigint, reject_log_bytes bigint, PRIMARY KEY (key, target, input_index, start_offset))";

std::string n(uint64_t v) { return std::to_string(v); }

} // namespace

destination_link::destination_link(const load_context& ctx, size_t index)
    : m_ctx(ctx), m_d(ctx.route->destinations[index]), m_index(index), m_stream(ctx, label()) {}

void destination_link::connect(const std::string& client_encoding) {
    try {
        m_conn = connection::open(m_index != 0 ? m_d.login : m_ctx.login ? *m_ctx.login : m_ctx.o.connection);
    } catch (const error& e) {
        if (m_index == 0)
            throw;
        throw error(e.status(), "server " + m_d.server + " (partition " + m_d.name + "): " + e.what(), e.detail(),
                    "pgcopy connects with the server's options as the user mapping's user; a password comes from "
                    "PGPASSWORD, ~/.pgpass (PGPASSFILE) or a service file, never from the mapping");
    }
    m_stream.abort(); // a COPY of the connection lost
    m_stream_rows = 0;
    m_records.clear();
    m_tx = false;
    m_conn->exec("SET client_encoding = " + m_conn->quote_literal(client_encoding));
    apply_session_settings(*m_conn, m_ctx.plan.toast_compression.value); // --toast-compression, on every server
    const std::string table = m_index == 0 ? m_ctx.route->table_sql : quote_qualified_name(*m_conn, m_d.remote_table_parts);
    copy_format_options format = m_ctx.format;
    format.header = false; // the reader keeps headers back
    m_copy_sql = std::make_shared<const std::string>(build_copy_sql(*m_conn, table, m_d.columns, format, false));
}

resume_found destination_link::read_committed(const std::string& key) {
    require_pgpipe_access(*m_conn, {"pgpipe.routed_batches"}, // on this destination's server
                          m_ctx.implicit_key ? "--retries" : "--resume-key");
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
    resume_found found;
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        found.batches[{std::stoull(PQgetvalue(r.get(), k, 0)), std::stoull(PQgetvalue(r.get(), k, 1))}] = {
            std::stoull(PQgetvalue(r.get(), k, 2)), PQgetvalue(r.get(), k, 3)};
        if (*PQgetvalue(r.get(), k, 4))
            found.shape = PQgetvalue(r.get(), k, 4);
        // The reject files grow in commit order: the last batch's sizes are
        // the largest. An older pgcopy's record has none (-1).
        const int64_t rows = std::stoll(PQgetvalue(r.get(), k, 5)), log = std::stoll(PQgetvalue(r.get(), k, 6));
        found.reject_sizes_known = found.reject_sizes_known && rows >= 0 && log >= 0;
        found.reject_bytes = std::max<uint64_t>(found.reject_bytes, static_cast<uint64_t>(std::max<int64_t>(rows, 0)));
        found.reject_log_bytes =
            std::max<uint64_t>(found.reject_log_bytes, static_cast<uint64_t>(std::max<int64_t>(log, 0)));
    }
    return found;
}

std::string destination_link::record_target() const { return m_index == 0 ? m_ctx.route->table_sql : m_d.name; }

std::string destination_link::prepared_leftovers() {
    result_ptr r = m_conn->query("SELECT string_agg(gid, ', ' ORDER BY gid) FROM pg_prepared_xacts"
                                 " WHERE gid LIKE 'pgcopy-%' AND database = current_database()");
    return PQgetisnull(r.get(), 0, 0) ? std::string() : PQgetvalue(r.get(), 0, 0);
}

void destination_link::begin() {
    if (m_tx)
        return;
    m_conn->exec("BEGIN");
    m_tx = true;
    if (m_ctx.rejecting())
        m_conn->exec("SET CONSTRAINTS ALL IMMEDIATE"); // deferred checks then fail per range, not at COMMIT
}

void destination_link::truncate() {
    if (m_d.server.empty() && m_d.truncate.empty())
        return; // no local partition: nothing to empty on the coordinator
    begin();
    if (!m_d.server.empty())
        m_conn->exec("TRUNCATE " + quote_qualified_name(*m_conn, m_d.remote_table_parts));
    for (const auto& local : m_d.truncate)
        m_conn->exec("TRUNCATE " + local);
}

void destination_link::record(const std::string& key, const batch& whole, uint64_t rows, const std::string& reject_sizes) {
    begin();
    m_records += (m_records.empty() ? "(" : ", (") + m_conn->quote_literal(key) + ", " +
                 m_conn->quote_literal(record_target()) + ", " + n(whole.input_index) + ", " + n(whole.offset_of(0)) +
                 ", " + n(whole.end_offset()) + ", " + m_conn->quote_literal(whole.content_hash) + ", " + n(rows) +
                 ", " + m_conn->quote_literal(m_ctx.shape_text) + ", " + reject_sizes + ")";
}

void destination_link::write_records() {
    if (m_records.empty())
        return;
    m_conn->exec("INSERT INTO pgpipe.routed_batches (key, target, input_index, start_offset, end_offset, content_hash,"
                 " rows_loaded, shape, reject_bytes, reject_log_bytes) VALUES " + m_records);
    m_records.clear();
}

copy_stream& destination_link::stream_for(const batch& part) {
    if (m_stream.open() && !m_stream.takes(*m_copy_sql, part.input_index))
        end_stream();
    if (!m_stream.open()) {
        begin();
        m_stream.begin(*m_conn, *m_copy_sql, part);
    }
    m_stream_rows += part.rows();
    return m_stream;
}

void destination_link::end_stream() {
    const uint64_t sent = m_stream_rows;
    m_stream_rows = 0;
    if (std::optional<uint64_t> taken = m_stream.end())
        check_rows_taken(*taken, sent);
}

bool destination_link::has_committed(const std::string& key, const batch& whole) {
    return m_conn->query_flag("SELECT EXISTS (SELECT FROM pgpipe.routed_batches WHERE key = " + m_conn->quote_literal(key) +
                              " AND target = " + m_conn->quote_literal(record_target()) + " AND input_index = " +
                              n(whole.input_index) + " AND start_offset = " + n(whole.offset_of(0)) + ")");
}

void destination_link::forget(const std::string& key) {
    m_conn->exec("DELETE FROM pgpipe.routed_batches WHERE key = " + m_conn->quote_literal(key));
}

// A server that reads an end-of-data marker where the coordinator's rules
// read a row (a shard of another major) would end its COPY early and drop
// the rest without an error: its count of rows taken says so.
void destination_link::check_rows_taken(uint64_t taken, uint64_t sent) const {
    if (taken == sent)
        return;
    throw error(exit_status::server_error,
                m_d.name + (m_d.server.empty() ? "" : " on server " + m_d.server) + " took " + n(taken) + " of the " +
                    n(sent) + " rows sent to it",
                "its server ended the COPY early: PostgreSQL " + std::to_string(server_rules::of(*m_conn).major()) +
                    " there reads an end-of-data marker in the data that this server reads as a row",
                "load through a server of the same major as the shards, or with --no-route");
}

void destination_link::rollback() noexcept {
    m_stream.abort();
    m_stream_rows = 0;
    m_records.clear();
    if (m_tx && m_conn && m_conn->ok())
        m_conn->rollback_quietly();
    m_tx = false;
}

void destination_link::prepare(const std::string& gid) {
    m_gid = gid;
    m_conn->exec("PREPARE TRANSACTION " + m_conn->quote_literal(m_gid));
}

void destination_link::rollback_prepared() noexcept {
    try {
        m_conn->exec("ROLLBACK PREPARED " + m_conn->quote_literal(m_gid));
    } catch (const error&) {
    }
    m_tx = false;
}

void destination_link::commit() {
    m_conn->exec(m_ctx.o.sharding.two_phase ? "COMMIT PREPARED " + m_conn->quote_literal(m_gid) : std::string("COMMIT"));
    m_tx = false;
}

} // namespace pgpipe
