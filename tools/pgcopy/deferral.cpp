// pgcopy's deferred indexes and constraints for batched loads: the records in
// pgpipe.deferred, the drop, the parallel rebuild and the way back after a crash.
#include "deferral.hpp"

#include "copy_sql.hpp"

#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "pg/connection.hpp"
#include "pg/identifier.hpp"
#include "io/sql_names.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace pgpipe {

const std::vector<std::string> deferral_tables{"pgpipe.deferred", "pgpipe.deferred_loads"};

namespace {

// Created on first use only: a load that defers nothing needs no schema.
void create_deferral_tables(connection& c) {
    create_pgpipe_tables(c, deferral_tables,
                         {// relid: the table's oid; target its name then (a dropped table leaves
                          // stale rows: a table that reuses the oid under another name never matches them).
                          "CREATE TABLE IF NOT EXISTS pgpipe.deferred (relid oid NOT NULL, target text NOT NULL,"
                          " step int NOT NULL, phase int NOT NULL, name text NOT NULL, restore_sql text NOT NULL,"
                          " recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (relid, step))",
                          // The transactions that loaded rows while the table's indexes were off.
                          "CREATE TABLE IF NOT EXISTS pgpipe.deferred_loads (relid oid NOT NULL, xid xid8 NOT NULL,"
                          " resume_key text)"});
}

// A failure of a rebuild that the loaded rows caused: a duplicate key, a
// missing referenced row, a check, an exclusion.
bool caused_by_rows(const server_error& e) {
    return e.sqlstate() == "23505" || e.sqlstate() == "23503" || e.sqlstate() == "23514" ||
           e.sqlstate() == "23P01" || e.sqlstate() == "23502";
}

constexpr const char* rebuild_memory = "SET maintenance_work_mem = '1GB'"; // one sort per index, in memory

} // namespace

table_deferral::table_deferral(connection& conn, std::string table_sql, std::string table_as_given)
    : m_conn(conn), m_table_sql(std::move(table_sql)), m_table(std::move(table_as_given)) {
    // A table that does not exist has nothing recorded: the load itself says it is missing.
    result_ptr r = conn.query("SELECT to_regclass(" + conn.quote_literal(m_table_sql) + ")::oid");
    m_relid = PQgetvalue(r.get(), 0, 0);
    if (!m_relid.empty())
        read_records();
}

// One deferring load per table: held by the session until it ends.
void table_deferral::take_lock() {
    // Two deferring loads of one table would rebuild each other's indexes
    // mid-load. The holder may also be the backend of a load killed a
    // moment ago, finishing its statement before it notices: wait a while.
    if (m_locked)
        return;
    connection& conn = m_conn;
    const std::string key = "(" + std::to_string((uint64_t{2037285} << 32) | std::stoull(m_relid)) + ")";
    if (!conn.query_flag("SELECT pg_try_advisory_lock" + key)) {
        log_info("waiting for another load into " + m_table + " that has its indexes or constraints deferred");
        try {
            conn.exec("SET lock_timeout = '60s'");
            conn.query("SELECT pg_advisory_lock" + key);
            conn.exec("RESET lock_timeout");
        } catch (const server_error& e) {
            if (e.sqlstate() != "55P03")
                throw;
            throw local_error("another load into " + m_table + " has its indexes or constraints deferred", {},
                              "wait for it to finish (pgcopy --restore " + m_table + " after a crash)");
        }
    }
    m_locked = true;
}

void table_deferral::read_records() {
    m_pending.clear();
    if (!pgpipe_table_readable(m_conn, "pgpipe.deferred"))
        return; // none, or none this role may see: a load that defers nothing needs nothing of pgpipe
    result_ptr r = m_conn.query("SELECT step, phase, name, restore_sql FROM pgpipe.deferred WHERE relid = " +
                                m_relid + " AND to_regclass(target) = relid ORDER BY step");
    for (int k = 0; k < PQntuples(r.get()); ++k)
        m_pending.push_back({std::stoi(PQgetvalue(r.get(), k, 0)),
                             {std::stoi(PQgetvalue(r.get(), k, 1)), PQgetvalue(r.get(), k, 2), PQgetvalue(r.get(), k, 3)}});
}

void table_deferral::defer(bool indexes, bool constraints, const std::string& resume_key) {
    connection& c = m_conn;
    if (m_relid.empty())
        throw local_error("relation \"" + m_table + "\" does not exist");
    take_lock();
    require_pgpipe_access(c, deferral_tables, indexes ? "--defer-indexes" : "--defer-constraints");
    create_deferral_tables(c);
    read_records(); // again, under the lock
    m_key = resume_key;
    c.exec("BEGIN");
    try {
        // With nothing pending, the table has all it had: rows recorded by
        // an older load are its own, and must never be deleted for this one.
        if (m_pending.empty())
            c.exec("DELETE FROM pgpipe.deferred_loads WHERE relid = " + m_relid);
        load_deferral plan = plan_deferral(c, m_table_sql, indexes, constraints);
        int step = m_pending.empty() ? 0 : m_pending.back().step + 1;
        const std::string qualified = "(SELECT quote_ident(n.nspname) || '.' || quote_ident(t.relname) FROM pg_class t"
                                      " JOIN pg_namespace n ON n.oid = t.relnamespace WHERE t.oid = " + m_relid + ")";
        // An earlier crashed load's records come first: they were taken off first.
        for (auto& r : plan.restores) {
            c.exec("INSERT INTO pgpipe.deferred (relid, target, step, phase, name, restore_sql) VALUES (" + m_relid +
                   ", " + qualified + ", " + std::to_string(step) + ", " +
                   std::to_string(r.phase) + ", " + c.quote_literal(r.name) + ", " + c.quote_literal(r.sql) + ")");
            m_pending.push_back({step++, std::move(r)});
        }
        for (const auto& sql : plan.drops)
            c.exec(sql);
        c.exec("COMMIT");
    } catch (...) {
        c.rollback_quietly();
        read_records();
        throw;
    }
}

std::string table_deferral::record_batch_sql() const {
    return "INSERT INTO pgpipe.deferred_loads (relid, xid, resume_key) VALUES (" + m_relid +
           ", pg_current_xact_id(), " + (m_key.empty() ? std::string("NULL") : m_conn.quote_literal(m_key)) + ")";
}

// Phase by phase; within one, the statements go to whichever connection is
// free. Each commits with the removal of its record. The first failure is
// rethrown once every thread has stopped.
void table_deferral::run_phases(const std::vector<connection*>& conns) {
    for (int phase = 0; phase <= 2; ++phase) {
        std::vector<const pending_statement*> todo;
        for (const auto& p : m_pending)
            if (p.what.phase == phase)
                todo.push_back(&p);
        std::atomic<size_t> next{0};
        std::mutex failure_mutex;
        std::exception_ptr failure;
        auto work = [&](connection& c) {
            for (size_t k; (k = next++) < todo.size();) {
                try {
                    throw_if_interrupted();
                    c.exec("BEGIN");
                    c.exec(todo[k]->what.sql);
                    c.exec("DELETE FROM pgpipe.deferred WHERE relid = " + m_relid + " AND step = " +
                           std::to_string(todo[k]->step));
                    c.exec("COMMIT");
                } catch (...) {
                    c.rollback_quietly();
                    std::lock_guard<std::mutex> lock(failure_mutex);
                    if (!failure)
                        failure = std::current_exception();
                    next = todo.size(); // the others finish their statement and stop
                }
            }
        };
        std::vector<std::thread> threads;
        for (size_t j = 1; j < std::min(conns.size(), todo.size()); ++j)
            threads.emplace_back([&, j] { work(*conns[j]); });
        work(*conns[0]);
        for (auto& t : threads)
            t.join();
        if (failure)
            std::rethrow_exception(failure);
    }
}

// A rebuild the loaded rows made impossible: the rows of every recorded
// load go (with the resume key's progress, which counted them), in one
// transaction, so that everything can be put back. Each record's own xmin
// is the transaction, or the subtransaction (a --reject-file range), that
// wrote rows beside it: the rows carry the same xid.
uint64_t table_deferral::delete_loaded_rows() {
    connection& c = m_conn;
    const std::string loads = " FROM pgpipe.deferred_loads WHERE relid = " + m_relid;
    c.exec("BEGIN");
    try {
        result_ptr r = c.query("WITH gone AS (DELETE FROM " + m_table_sql + " WHERE xmin IN (SELECT xmin" + loads +
                               ") RETURNING 1) SELECT count(*) FROM gone");
        const uint64_t deleted = std::stoull(PQgetvalue(r.get(), 0, 0));
        // The resume keys' progress counted those rows: a rerun starts over.
        for (const char* progress : {"pgpipe.load_batches", "pgpipe.load_progress"})
            if (c.query_flag(std::string("SELECT to_regclass('") + progress + "') IS NOT NULL"))
                c.exec(std::string("DELETE FROM ") + progress + " WHERE key IN (SELECT resume_key" + loads + ")");
        c.exec("DELETE" + loads);
        c.exec("COMMIT");
        return deleted;
    } catch (...) {
        c.rollback_quietly();
        throw;
    }
}

// The rows the loads recorded made a rebuild fail (e): they are deleted and
// the rebuild runs again. Throws e with the end state in its detail; or,
// when rows no load recorded (another session's) still break it, says so.
void table_deferral::rebuild_without_loaded_rows(const std::vector<connection*>& conns, const server_error& e,
                                                 bool interrupted_load) {
    const uint64_t deleted = delete_loaded_rows();
    m_rows_deleted = deleted;
    const std::string rows = format_count(deleted) + (deleted == 1 ? " row" : " rows");
    try {
        run_phases(conns);
    } catch (const server_error& again) {
        read_records();
        if (!caused_by_rows(again))
            throw;
        error out(again.status(), again.what(),
                  (again.detail().empty() ? "" : again.detail() + "\n") + "the " + rows + " the loads recorded " +
                      (deleted == 1 ? "was" : "were") + " deleted, but rows no load recorded still break it " +
                      "(written by another session while it was off)",
                  "fix or delete those rows, then run pgcopy --restore " + m_table);
        out.set_context(again.context());
        throw out;
    }
    read_records();
    const std::string state =
        interrupted_load ? "restored " + m_table + " without the interrupted load's rows: " + rows +
                               " deleted, and every index and constraint is back"
                         : "the " + rows + " this load committed were deleted, and every index and constraint of " +
                               m_table + " is back";
    error out(e.status(), e.what(), (e.detail().empty() ? "" : e.detail() + "\n") + state,
              "remove the offending rows from the input, then load it again");
    out.set_context(e.context());
    throw out;
}

void table_deferral::restore(const std::vector<connection*>& conns, bool interrupted_load) {
    if (m_pending.empty())
        return;
    take_lock();
    read_records();
    m_loads_recorded = m_conn.query_flag("SELECT EXISTS (SELECT 1 FROM pgpipe.deferred_loads WHERE relid = " +
                                         m_relid + ")");
    for (connection* c : conns)
        c->exec(rebuild_memory);
    try {
        run_phases(conns);
    } catch (const server_error& e) {
        read_records(); // what is still missing: the other statements of the phase may have run
        if (!caused_by_rows(e))
            throw;
        rebuild_without_loaded_rows(conns, e, interrupted_load);
    }
    m_conn.exec("DELETE FROM pgpipe.deferred_loads WHERE relid = " + m_relid);
    for (connection* c : conns)
        c->exec("RESET maintenance_work_mem");
    read_records();
}

void put_back_left_off(connection& conn, const std::string& table_sql, const std::string& table) {
    table_deferral deferral(conn, table_sql, table);
    if (!deferral.pending())
        return;
    log_info("putting back the " + std::to_string(deferral.pending()) +
             " indexes and constraints an interrupted load left off " + table);
    deferral.restore({&conn}, true);
}

std::string restore_deferred(connection& conn, const std::string& table) {
    const std::string table_sql = quote_qualified_name(conn, parse_qualified_name(table));
    table_deferral deferral(conn, table_sql, table);
    const size_t n = deferral.pending();
    if (!n)
        return "nothing to put back: no load left indexes or constraints of " + table + " off";
    deferral.restore({&conn}, true);
    return "restored " + table +
           (deferral.loads_recorded() ? " with the interrupted load's rows"
                                      : " (no rows of the interrupted load were left to keep)") +
           ": put back " + format_count(n) + " indexes and constraints";
}

} // namespace pgpipe
