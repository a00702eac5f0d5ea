// A loader: one connection's COPYs, savepoints, rejects and retries; a routed batch's parts at its destinations.
#include "loader.hpp"

#include "copy_in.hpp"
#include "copy_sql.hpp"
#include "reject_rules.hpp"
#include "router.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "io/reject_sink.hpp"
#include "io/row_splitter.hpp"

#include <chrono>
#include <cmath>
#include <thread>

namespace pgpipe {
namespace {

constexpr int deadlock_retries = 8; // parallel upserts may deadlock each other

bool is_deadlock(const server_error& e) { return e.sqlstate() == "40P01" || e.sqlstate() == "40001"; }

} // namespace

loader::loader(const load_context& ctx, committer& c, batch_queue& q, unsigned index)
    : m_ctx(ctx), m_committer(c), m_queue(q), m_index(index), m_stream(ctx) {}

void loader::connect() {
    // The first loader may ask for a password; the others and every retry reuse it.
    m_conn.emplace(connection::open(m_ctx.login ? *m_ctx.login : m_ctx.o.connection));
    apply_session_settings(*m_conn, m_ctx.plan.toast_compression.value);
    if (!m_ctx.route)
        return;
    if (!m_destinations)
        m_destinations = std::make_unique<destination_set>(m_ctx);
    // Every destination reads the rows in the coordinator's encoding.
    m_destinations->connect(PQparameterStatus(m_conn->get(), "client_encoding"));
}

void loader::prepare_statements() {
    connection& c = *m_conn;
    const copy_load_options& o = m_ctx.o;
    // The header is ours to strip (each batch is its own COPY), so HEADER
    // never goes to the server.
    copy_format_options format = m_ctx.format;
    format.header = false;
    std::string options = copy_options_sql(c, format, o.freeze);
    m_copy_target_sql = "COPY " + m_ctx.table_sql + m_ctx.columns_sql + " FROM STDIN " + options;
    if (m_ctx.encoder) {
        m_encoder = m_ctx.encoder;
        m_copy_binary_sql = "COPY " + m_ctx.table_sql + m_ctx.columns_sql + " FROM STDIN (FORMAT binary)";
    }
    if (o.upsert.on_conflict == conflict_action::none)
        return;

    // Upserts: each batch goes into a temporary table first (one per
    // connection, so loaders do not meet there).
    const std::string& list = m_ctx.column_list_sql;
    // Only the loaded columns, with their types and nothing else: no NOT
    // NULL for a column the target fills itself, and no default, so that a
    // column left out gets its default once, from the target.
    c.exec("CREATE TEMP TABLE pgcopy_stage ON COMMIT DELETE ROWS AS SELECT " + list + " FROM " + m_ctx.table_sql +
           " WITH NO DATA");
    m_copy_stage_sql = "COPY pgcopy_stage (" + list + ") FROM STDIN " + options;
    m_insert_sql = "INSERT INTO " + m_ctx.table_sql + " (" + list + ") SELECT " + list + " FROM pgcopy_stage" +
                   on_conflict_clause(c, m_ctx.table_sql, m_ctx.load_columns, o.upsert.on_conflict == conflict_action::update,
                                      o.upsert.conflict_columns);
}

// Rows [a, z) as they go to the server: as read, or rewritten into
// m_encoded (binary, and/or with their reserved ids). Sets binary.
std::string_view loader::rows_to_send(const batch& b, size_t a, size_t z, bool& binary) {
    binary = m_ctx.format.format == copy_format::binary;
    const std::string_view bytes(b.bytes);
    if (b.whole) // a routed part: its rows as the router gathered them (ids in front)
        return bytes.substr(b.starts[a], b.starts[z] - b.starts[a]);
    m_encoded.clear();
    if (m_encoder) {
        if (m_encoder->encode(bytes, &b.starts[a], z - a, m_encoded, b.first_id + static_cast<int64_t>(a))) {
            ++m_copies_binary;
            binary = true;
            return m_encoded;
        }
        ++m_copies_text;
    }
    if (!m_ctx.sequence)
        return bytes.substr(b.starts[a], b.starts[z] - b.starts[a]);
    prepend_ids(bytes, &b.starts[a], z - a, m_ctx.format.format, delimiter_of(m_ctx.format), m_ctx.sequence->type,
                b.first_id + static_cast<int64_t>(a), m_encoded);
    return m_encoded;
}

loader::range_result loader::copy_range(batch& b, size_t a, size_t z) {
    range_result out;
    connection& c = conn_for(b);
    try {
        bool binary = false;
        const std::string_view rows = rows_to_send(b, a, z, binary);
        const bool encoded = binary && m_ctx.format.format != copy_format::binary;
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
            static const std::string trailer = binary_copy_trailer();
            session.put(trailer.data(), trailer.size());
        }
        out.rows = session.finish();
        if (b.whole)
            m_destinations->link(b.destination).check_rows_taken(out.rows, z - a);
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
uint64_t loader::load_range(batch& b, size_t a, size_t z) {
    connection& c = conn_for(b);
    const bool rejecting = m_ctx.rejecting();
    uint64_t loaded = 0;
    while (a < z) {
        throw_if_interrupted();
        if (rejecting)
            c.exec("SAVEPOINT pgcopy_range");
        range_result r = copy_range(b, a, z);
        if (r.ok) {
            // The rows carry this subtransaction's xid, not the batch's: a
            // record written beside them carries it too (deferral.hpp).
            if (rejecting && r.rows && !m_ctx.record_batch_sql.empty())
                c.exec(m_ctx.record_batch_sql);
            if (rejecting)
                c.exec("RELEASE SAVEPOINT pgcopy_range");
            return loaded + r.rows;
        }
        const server_error& e = *r.failure;
        if (is_deadlock(e))
            throw e; // the batch's, never a row's: commit_batch loads it again
        const row_refusal refused = refusal_of(b, a, z, e);
        const std::optional<size_t> bad_row = refused.row;
        const bool named = bad_row.has_value();
        const std::string& message = refused.message;
        const std::string& detail = refused.detail;
        if (!rejecting) // no reject file: the batch fails as a whole, naming the row
            throw batch_failure(b, refused, e);
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

loader::row_refusal loader::refusal_of(const batch& b, size_t a, size_t z, const server_error& e) const {
    row_refusal r{m_ctx.row_named(b, a, z, copy_context_line(e.context())), escape_line_ends(e.what()), e.detail()};
    if (r.row)
        blame_reserved_id(b, *r.row, e, r.message, r.detail);
    return r;
}

error loader::batch_failure(const batch& b, const row_refusal& r, const server_error& e) const {
    const std::string where = r.row ? m_ctx.where(b, *r.row) + ": " : std::string();
    const std::string part = b.whole ? m_destinations->link(b.destination).label() + ": " : std::string();
    error annotated(e.status(), where + part + r.message, r.detail, e.hint());
    annotated.set_context(e.context());
    return annotated;
}

void loader::reject_row(batch& b, size_t k, const std::string& sqlstate, const std::string& message,
                        const std::string& detail) {
    reject r;
    reject_sink::add_row(r.raw, b.raw_row(k), m_ctx.format.format != copy_format::binary);
    r.log_line = reject_sink::log_line(m_ctx.input_name(b.input_index), b.line_of(k), std::to_string(b.offset_of(k)),
                                       sqlstate, message, detail);
    r.destination = b.destination;
    m_pending_rejects.push_back(std::move(r));
    m_committer.check_reject_limit(b.whole ? *b.whole : b, m_pending_rejects.size(), false);
}

// An error in the column whose ids pgcopy reserved (the input's rows carry
// none): the id, its sequence and the batch's block are to blame, not the
// input's values. Rewrites message and detail; false when it is not such an error.
bool loader::blame_reserved_id(const batch& b, size_t k, const server_error& e, std::string& message,
                               std::string& detail) const {
    const std::optional<sequence_column>& sequence = m_ctx.sequence;
    if (!sequence)
        return false;
    const std::string column = ", column " + sequence->name;
    const size_t at = e.context().find(column);
    const size_t after = at + column.size();
    if (at == std::string::npos || (after < e.context().size() && e.context()[after] != ':' && e.context()[after] != '\n'))
        return false;
    const std::string id = std::to_string(b.id_of(k));
    const batch& whole = b.whole ? *b.whole : b;
    const std::string which = "id " + id + " reserved from sequence " + sequence->sequence_sql + " for column " +
                              sequence->name;
    message = e.sqlstate() == "22003" ? which + " is out of range for type " + sequence->type.name
                                      : which + ": " + message;
    detail = (detail.empty() ? "" : detail + "\n") + "the batch reserved ids " + std::to_string(whole.first_id) + " to " +
             std::to_string(whole.first_id + static_cast<int64_t>(whole.rows()) - 1) + " of " + sequence->sequence_sql +
             "; the input's rows carry no " + sequence->name;
    return true;
}

// The batch's rows (or its one \. line, rejected) inside its transaction.
void loader::load_batch(batch& b) {
    connection& c = *m_conn;
    if (m_queue.truncate_pending()) // only the first batch sees it: the reader waits for it
        c.exec("TRUNCATE " + m_ctx.table_sql);
    if (!m_ctx.record_batch_sql.empty())
        c.exec(m_ctx.record_batch_sql);
    if (m_ctx.rejecting())
        c.exec("SET CONSTRAINTS ALL IMMEDIATE"); // deferred checks then fail per range, not at COMMIT
    if (b.refused_marker)
        reject_row(b, 0, "22P04", b.refused_marker, refused_marker_detail);
    else if (b.end_marker)
        reject_row(b, 0, "22P04", early_marker_message, early_marker_detail);
    else
        m_batch_loaded = load_range(b, 0, b.rows());
    m_committer.check_reject_limit(b, m_pending_rejects.size(), true);
    if (m_ctx.rejecting() && !m_pending_rejects.empty())
        m_committer.write_rejects(m_claim, b, m_pending_rejects);
}

// A committed batch in the counters; the first one took --truncate with it.
void loader::count_committed(const batch& b) {
    m_rows_committed += m_batch_loaded;
    m_committer.count_committed(b, {b.input_index, b.end_offset(), b.line_of(b.rows())}, m_batch_loaded,
                                m_pending_rejects.size(), m_claim, m_index, m_rows_committed);
    m_queue.truncate_done();
    if (m_claim.held())
        m_claim.lock.unlock();
}

void loader::attempt_batch(batch& b) {
    if (m_destinations)
        return attempt_routed(b);
    const copy_load_options& o = m_ctx.o;
    connection& c = *m_conn;
    m_pending_rejects.clear();
    m_batch_loaded = 0;
    try {
        if (m_ctx.sequence) // its own transaction, so that the sequence's lock is held only for it
            b.first_id = reserve_ids(c, *m_ctx.sequence, b.rows());
        // One transaction without a reject file needs no savepoints: a
        // failure ends it all (and a long load's hundreds of subtransactions
        // would slow every session's snapshots).
        const char* begin = m_ctx.one_transaction() ? nullptr : o.single_transaction ? "SAVEPOINT pgcopy_batch" : "BEGIN";
        if (begin)
            c.exec(begin);
        load_batch(b);
        position after{b.input_index, b.end_offset(), b.line_of(b.rows())};
        m_committer.save_progress(c, b, after, m_batch_loaded, m_pending_rejects.size(), m_claim);
        if (begin)
            c.exec(o.single_transaction ? "RELEASE SAVEPOINT pgcopy_batch" : "COMMIT");
        count_committed(b);
    } catch (const std::exception& failure) {
        abandon_batch(failure);
        if (!m_ctx.one_tx)
            c.rollback_quietly();
        throw;
    }
}

// A batch that failed gives its rejects back, unless its connection was
// lost: whether it committed is then read back first (commit_batch), with
// the rejects still held.
void loader::abandon_batch(const std::exception& failure) {
    const auto* lost = dynamic_cast<const server_error*>(&failure);
    if (!(lost && lost->connection_lost()))
        m_committer.take_back(m_claim);
}

// Reconnects with backoff, no lock held meanwhile: the other loaders go on.
void loader::reconnect(batch& b, const server_error& e, int& attempt) {
    for (;; ++attempt) {
        double wait = std::min(8.0, 0.25 * std::pow(2.0, attempt));
        log_warning("connection lost in the batch from " + m_ctx.where(b, 0) + " (" + e.what() + "); retrying in " +
                    std::to_string(wait).substr(0, 4) + " s (" + std::to_string(attempt + 1) + " of " +
                    std::to_string(m_ctx.o.retries) + ")");
        sleep_unless_interrupted(wait);
        try {
            connect();
            prepare_statements();
            return;
        } catch (const error&) {
            if (attempt + 1 >= m_ctx.o.retries)
                throw;
        }
    }
}

// Returns whether the batch had committed before the connection was lost
// (a lost reply to COMMIT): the progress tables say, never a guess, so
// there is never a duplicate nor a gap.
bool loader::recover_after_lost_connection(batch& b, const server_error& e, int& attempt) {
    reconnect(b, e, attempt);
    const bool committed = m_destinations ? m_destinations->learn_committed(b, m_ctx.key)
                                          : m_committer.batch_committed(*m_conn, b);
    if (!committed) {
        m_committer.take_back(m_claim);
        return false;
    }
    count_committed(b);
    log_info("the batch from " + m_ctx.where(b, 0) + " had committed before the connection was lost");
    return true;
}

void loader::commit_batch(batch& b) {
    if (b.rows() == 0)
        return;
    // Whatever goes wrong, the reject claim is not left held: the other loaders wait on it.
    struct release_on_exit {
        std::unique_lock<std::mutex>& lock;
        ~release_on_exit() {
            if (lock.owns_lock())
                lock.unlock();
        }
    } release{m_claim.lock};
    int deadlocks = 0;
    for (int attempt = 0;; ++attempt) {
        try {
            attempt_batch(b);
            return;
        } catch (const server_error& e) {
            if (is_deadlock(e) && ++deadlocks <= deadlock_retries) {
                // Two loaders' upserts met on the same keys: the server chose
                // this batch to give way; it goes again.
                log_info("the batch from " + m_ctx.where(b, 0) + " met another job's (" + e.what() +
                         "); trying it again");
                --attempt;
                std::this_thread::sleep_for(std::chrono::milliseconds(10 * deadlocks));
                continue;
            }
            if (!e.connection_lost() || attempt >= m_ctx.o.retries)
                throw;
            if (recover_after_lost_connection(b, e, attempt))
                return;
        }
    }
}

void loader::stream_batch(const batch& b) {
    const std::string& sql = b.copy_sql ? *b.copy_sql : m_copy_target_sql;
    if (m_stream.open() && !m_stream.takes(sql, b.input_index))
        end_stream();
    if (!m_stream.open()) {
        if (m_queue.truncate_pending()) { // in the one transaction, before its first COPY
            m_conn->exec("TRUNCATE " + m_ctx.table_sql);
            m_queue.truncate_done();
        }
        m_stream.begin(*m_conn, sql, b);
    }
    m_stream.send(b);
    m_committer.count_streamed(b);
    // A row without a line end (the data before a \.) is its COPY's last:
    // the next script block's rows would run on from it.
    if (m_stream.ends_unterminated(b))
        end_stream();
}

void loader::end_stream() {
    if (std::optional<uint64_t> rows = m_stream.end())
        m_committer.count_stream_rows(*rows);
}


// A routed batch: routed into parts, each loaded at its destination in a
// transaction there, its rejects written, then every part committed
// together (or, in one transaction, left open for the load's end).
void loader::attempt_routed(batch& b) {
    m_pending_rejects.clear();
    m_batch_loaded = 0;
    m_destinations->begin_attempt();
    try {
        load_parts(b);
        commit_parts(b);
    } catch (const std::exception& failure) {
        abandon_batch(failure);
        if (!m_ctx.one_tx)
            m_destinations->rollback_all();
        throw;
    }
}

// Lines the router or the reader set aside: a \. line, rows no partition
// admits (unless the run that committed the batch rejected them).
void loader::reject_unroutable(batch& b) {
    if (b.parts[0].committed_before)
        return;
    if (b.refused_marker)
        reject_row(b, 0, "22P04", b.refused_marker, refused_marker_detail);
    else if (b.end_marker)
        reject_row(b, 0, "22P04", early_marker_message, early_marker_detail);
    for (const unplaced_row& u : b.unplaced)
        reject_row(b, u.row, "23514", no_partition_message(m_ctx.o.table), u.detail);
}

void loader::load_parts(batch& b) {
    destination_set& set = *m_destinations;
    set.adopt(b);
    if (m_queue.truncate_pending()) // only the first batch sees it: the reader waits for it
        set.truncate_all();
    reject_unroutable(b);
    if (!m_ctx.rejecting() && m_ctx.one_tx)
        stream_parts(b);
    else if (!m_ctx.rejecting())
        send_parts(b);
    for (batch& part : b.parts) {
        if (!part.to_load() || !m_ctx.rejecting())
            continue;
        destination_link& link = set.link(part.destination);
        link.begin();
        part.copy_sql = link.copy_sql();
        set.count_part(part.destination, load_range(part, 0, part.rows()));
    }
    m_batch_loaded = set.batch_rows();
    m_committer.check_reject_limit(b, m_pending_rejects.size(), true);
    if (m_ctx.rejecting() && !m_pending_rejects.empty())
        m_committer.write_rejects(m_claim, b, m_pending_rejects);
}

// Without a reject file a batch's parts go to their destinations at once
// (put_together): each server reads its part while the others are sent
// theirs. A part the server refuses fails the batch, naming the row.
void loader::send_parts(batch& b) {
    destination_set& set = *m_destinations;
    std::vector<std::unique_ptr<copy_in_session>> open; // a few per batch; an unfinished one ends its COPY
    std::vector<copy_in_session*> sessions;
    std::vector<std::string_view> data;
    std::vector<batch*> sent;
    for (batch& part : b.parts) {
        if (!part.to_load())
            continue;
        destination_link& link = set.link(part.destination);
        link.begin();
        open.push_back(std::make_unique<copy_in_session>(link.conn(), *link.copy_sql()));
        sessions.push_back(open.back().get());
        data.push_back(part.rows_bytes());
        sent.push_back(&part);
    }
    std::optional<put_failure> failed = put_together(sessions, data);
    for (size_t k = 0; k < open.size(); ++k) {
        batch& part = *sent[k];
        try {
            if (failed && failed->index == k)
                throw failed->error;
            const uint64_t rows = open[k]->finish();
            set.link(part.destination).check_rows_taken(rows, part.rows());
            set.count_part(part.destination, rows);
        } catch (const server_error& e) {
            if (e.connection_lost() || is_deadlock(e))
                throw; // the batch's, never a row's: commit_batch loads it again
            throw batch_failure(part, refusal_of(part, 0, part.rows(), e), e);
        }
    }
}

// One transaction without a reject file: each destination's COPY stays
// open from batch to batch, so that no server waits for the others at a
// batch's end; a refused row fails the load when its COPY ends (or at
// once), named by its FILE:LINE.
void loader::stream_parts(batch& b) {
    destination_set& set = *m_destinations;
    std::vector<copy_stream*> streams;
    std::vector<const batch*> parts;
    for (batch& part : b.parts) {
        if (!part.to_load())
            continue;
        streams.push_back(&set.link(part.destination).stream_for(part));
        parts.push_back(&part);
        set.count_part(part.destination, part.rows());
    }
    copy_stream::send_together(streams, parts);
    // A row without a line end (the data before a \.) is its COPY's last:
    // the next block's rows would run on from it.
    for (size_t k = 0; k < parts.size(); ++k)
        if (streams[k]->ends_unterminated(*parts[k]))
            set.link(parts[k]->destination).end_stream();
}

// Every part's record, then every part committed; when a COMMIT fails the
// rejects of the parts that did not commit leave the reject files.
void loader::commit_parts(batch& b) {
    destination_set& set = *m_destinations;
    set.record_all(b, m_ctx.key, m_committer.reject_sizes_sql(m_claim));
    if (!m_ctx.one_tx) {
        std::vector<bool> committed;
        try {
            set.commit_all(committed);
        } catch (const error&) {
            m_committer.take_back_keeping(m_claim, b, m_pending_rejects, committed);
            throw;
        }
    }
    count_committed(b);
    set.clear_batch();
}

} // namespace pgpipe
