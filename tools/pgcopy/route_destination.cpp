// One destination of a routed load: connecting, its progress records, sending a piece's rows, commit and rollback.
#include "route_destination.hpp"

#include "copy_sql.hpp"
#include "resume_record.hpp"
#include "io/copy_format.hpp"
#include "pg/identifier.hpp"
#include "pg/server_rules.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

constexpr size_t send_chunk = 256 << 10; // a destination's rows go to libpq in writes of this size

const char* const progress_ddl =
    "CREATE TABLE IF NOT EXISTS pgpipe.routed_batches (key text NOT NULL, target text NOT NULL,"
    " input_index int NOT NULL, start_offset bigint NOT NULL, end_offset bigint NOT NULL, content_hash text NOT NULL,"
    " rows_loaded bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), shape text,"
    " reject_bytes bigint, reject_log_bytes bigint, PRIMARY KEY (key, target, input_index, start_offset))";

} // namespace

void destination_stream::connect() {
    try {
        m_conn = connection::open(m_index == 0 ? m_context.login : m_d.login);
    } catch (const error& e) {
        if (m_index == 0)
            throw;
        throw error(e.status(), "server " + m_d.server + " (partition " + m_d.name + "): " + e.what(), e.detail(),
                    "pgcopy connects with the server's options as the user mapping's user; a password comes from "
                    "PGPASSWORD, ~/.pgpass (PGPASSFILE) or a service file, never from the mapping");
    }
    m_conn->exec("SET client_encoding = " + m_conn->quote_literal(m_context.client_encoding));
    apply_session_settings(*m_conn, m_context.options.levers.toast_compression); // --toast-compression, on every server
    const std::string table = m_index == 0 ? m_context.plan.table_sql : quote_qualified_name(*m_conn, m_d.remote_table_parts);
    copy_format_options format = m_context.options.format;
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
        m_found.batches[{std::stoull(PQgetvalue(r.get(), k, 0)), std::stoull(PQgetvalue(r.get(), k, 1))}] = {
            std::stoull(PQgetvalue(r.get(), k, 2)), PQgetvalue(r.get(), k, 3)};
        if (*PQgetvalue(r.get(), k, 4))
            m_found.shape = PQgetvalue(r.get(), k, 4);
        // The reject files grow in commit order: the last batch's sizes are
        // the largest. An older pgcopy's record has none (-1).
        const int64_t rows = std::stoll(PQgetvalue(r.get(), k, 5)), log = std::stoll(PQgetvalue(r.get(), k, 6));
        m_found.reject_sizes_known = m_found.reject_sizes_known && rows >= 0 && log >= 0;
        m_found.reject_bytes = std::max<uint64_t>(m_found.reject_bytes, static_cast<uint64_t>(std::max<int64_t>(rows, 0)));
        m_found.reject_log_bytes =
            std::max<uint64_t>(m_found.reject_log_bytes, static_cast<uint64_t>(std::max<int64_t>(log, 0)));
    }
}

std::string destination_stream::record_target() const { return m_index == 0 ? m_context.plan.table_sql : m_d.name; }

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
        m_unit_rows = m_copy->finish();
        m_copy.reset();
        check_unit_rows();
    }
    m_unit_sent = 0;
    // The coordinator records every batch, once its rejects are written (record_unit).
    if (m_context.options.resume_key.empty() || p.skip[m_index] || !m_tx || m_index == 0)
        return;
    record(p, "NULL, NULL");
}

void destination_stream::record(const piece& p, const std::string& reject_sizes) {
    begin();
    auto n = [](uint64_t v) { return std::to_string(v); };
    m_conn->exec("INSERT INTO pgpipe.routed_batches (key, target, input_index, start_offset, end_offset, content_hash,"
                 " rows_loaded, shape, reject_bytes, reject_log_bytes) VALUES (" +
                 m_conn->quote_literal(m_context.options.resume_key) + ", " + m_conn->quote_literal(record_target()) + ", " +
                 n(p.input_index) + ", " + n(p.start_offset()) + ", " + n(p.end_offset()) + ", " +
                 m_conn->quote_literal(p.hash) + ", " + n(m_unit_rows) + ", " +
                 m_conn->quote_literal(m_context.shape_text) + ", " + reject_sizes + ")");
}

// A server that reads an end-of-data marker where the coordinator's rules
// read a row (a shard of another major) would end its COPY early and drop
// the rest without an error: its count of rows taken says so.
void destination_stream::check_unit_rows() const {
    if (m_unit_rows == m_unit_sent)
        return;
    throw error(exit_status::server_error,
                m_d.name + (m_d.server.empty() ? "" : " on server " + m_d.server) + " took " +
                    std::to_string(m_unit_rows) + " of the " + std::to_string(m_unit_sent) + " rows sent to it",
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

void destination_stream::prepare(const std::string& gid) {
    m_gid = gid;
    m_conn->exec("PREPARE TRANSACTION " + m_conn->quote_literal(m_gid));
}

void destination_stream::rollback_prepared() noexcept {
    try {
        m_conn->exec("ROLLBACK PREPARED " + m_conn->quote_literal(m_gid));
    } catch (const error&) {
    }
    m_tx = false;
}

void destination_stream::commit() {
    m_conn->exec(m_context.options.sharding.two_phase ? "COMMIT PREPARED " + m_conn->quote_literal(m_gid)
                                                   : std::string("COMMIT"));
    m_tx = false;
    m_rows_committed += m_unit_rows;
}

void destination_stream::note_failure(const error& e) {
    m_failure = e;
    const auto* se = dynamic_cast<const server_error*>(&e);
    m_failed_row = se ? copy_context_line(se->context()).value_or(0) : 0;
    m_failed_state = se ? se->sqlstate() : "";
}

} // namespace pgpipe
