// pgcopy --fast: choosing jobs, deferral and TOAST compression from the table, the server and the input.
#include "fast_plan.hpp"

#include "copy_load.hpp"
#include "copy_sql.hpp"
#include "deferral.hpp"
#include "pg/identifier.hpp"
#include "io/input.hpp"
#include "io/sql_names.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace pgpipe {
namespace {

// libpq's host: -h, else PGHOST, else a Unix socket.
bool server_is_local(const connection_options& options) {
    const char* env = std::getenv("PGHOST");
    const std::string host = options.host ? *options.host : env ? env : "";
    if (host.empty() || host[0] == '/' || host[0] == '@')
        return true;
    for (const char* loopback : {"localhost", "127.0.0.1", "::1"})
        if (host == loopback)
            return true;
    return false;
}

} // namespace

unsigned fast_job_count(const connection_options& options, fast_plan& plan) {
    if (!server_is_local(options)) {
        plan.add("4 jobs (the server is on another machine, whose cores pgcopy cannot see; set --jobs)");
        return 4;
    }
    const unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
    plan.add(std::to_string(cores) + (cores == 1 ? " job" : " jobs") + " (the server's cores: it runs on this machine)");
    return cores;
}

namespace {

// The first row of a query's first column, or empty when it returns none.
std::string first_value(connection& conn, const std::string& sql) {
    result_ptr r = conn.query(sql);
    return PQntuples(r.get()) ? PQgetvalue(r.get(), 0, 0) : std::string();
}

// An object outside the table's own indexes and constraints that depends on
// one of them ("view v depends on constraint t_pkey on table t"): dropping
// it would fail. Foreign keys on an index are not: the deferral keeps it.
std::string dependent_of_keys(connection& conn, const std::string& rel) {
    return first_value(conn,
        "WITH ours AS (SELECT 'pg_class'::regclass AS classid, indexrelid AS objid FROM pg_index WHERE indrelid = " +
        rel + " UNION ALL SELECT 'pg_constraint'::regclass, oid FROM pg_constraint WHERE conrelid = " + rel + ")"
        " SELECT CASE WHEN d.classid = 'pg_rewrite'::regclass"
        "   THEN (SELECT pg_describe_object('pg_class'::regclass, w.ev_class, 0) FROM pg_rewrite w WHERE w.oid = d.objid)"
        "   ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END"
        "   || ' depends on ' || pg_describe_object(d.refclassid, d.refobjid, 0)"
        "  FROM pg_depend d JOIN ours o ON o.classid = d.refclassid AND o.objid = d.refobjid"
        " WHERE d.deptype IN ('n', 'a') AND (d.classid, d.objid) NOT IN (SELECT classid, objid FROM ours)"
        "   AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE d.classid = 'pg_constraint'::regclass"
        "                    AND f.oid = d.objid AND f.contype = 'f')"
        " ORDER BY 1 LIMIT 1");
}

// Why dropping the table's indexes and constraints for the load would fail
// or change what the table does meanwhile; empty when nothing stands in the way.
std::string deferral_blocker(connection& conn, const std::string& rel) {
    result_ptr r = conn.query(
        "SELECT pg_has_role(c.relowner, 'USAGE'), c.relkind = 'p', c.relispartition, quote_ident(c.relname),"
        " (SELECT quote_ident(t.tgname) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal"
        "   ORDER BY t.tgname LIMIT 1),"
        " (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
        "   WHERE i.indrelid = c.oid AND i.indisreplident)"
        " FROM pg_class c WHERE c.oid = " + rel);
    auto v = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)); };
    const std::string name = v(3);
    if (v(0) != "t")
        return "dropping them needs the owner of " + name;
    if (v(1) == "t")
        return name + " is partitioned (its indexes stand for its partitions')";
    if (v(2) == "t")
        return name + " is a partition (its indexes may belong to the parent's)";
    if (!v(4).empty())
        return "trigger " + v(4) + " on " + name + " may rely on them";
    if (!v(5).empty())
        return "index " + v(5) + " is the table's replica identity (logical replication needs it meanwhile)";
    if (std::string dependent = dependent_of_keys(conn, rel); !dependent.empty())
        return dependent;
    if (pgpipe_access access = check_pgpipe_access(conn, deferral_tables); !access.problem.empty())
        return "deferring needs " + access.problem + " (" + access.hint + ")";
    return {};
}

// Why the load's options or sizes make deferral not pay; empty when it pays.
const char* deferral_cost(connection& conn, const std::string& rel, const copy_load_options& o,
                          std::optional<uint64_t> input_bytes) {
    if (!o.reject_file.empty())
        return "--reject-file needs them to reject rows one by one";
    if (o.on_conflict != conflict_action::none)
        return "--on-conflict needs the unique indexes";
    result_ptr r = conn.query("SELECT pg_table_size(" + rel + ")");
    const uint64_t table_bytes = std::stoull(PQgetvalue(r.get(), 0, 0));
    const uint64_t enough = input_bytes ? *input_bytes : uint64_t{8} << 20;
    if (table_bytes <= enough)
        return nullptr;
    return input_bytes ? "the table holds more than the input brings: rebuilding would cost more"
                       : "the table holds more than 8 MB and the input's size is unknown";
}

} // namespace

bool fast_defers(connection& conn, const std::string& table_sql, const copy_load_options& o,
                 std::optional<uint64_t> input_bytes, fast_plan& plan) {
    const std::string rel = conn.quote_literal(table_sql) + "::regclass";
    // COPY FROM refuses a table whose row security applies to this role: the
    // load fails with the server's own reason, before any lever is pulled.
    if (conn.query_flag("SELECT row_security_active(" + rel + ")")) {
        plan.add("indexes and constraints kept: row-level security applies to this role");
        return false;
    }
    // An interrupted load's indexes are off already: they are rebuilt at the end either way.
    if (pgpipe_table_readable(conn, "pgpipe.deferred") &&
        conn.query_flag("SELECT EXISTS (SELECT 1 FROM pgpipe.deferred WHERE relid = " + rel + ")")) {
        plan.add("indexes and constraints deferred: an interrupted load left them off; rebuilt in parallel at the end");
        return true;
    }
    if (!conn.query_flag("SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = " + rel +
                           ") OR EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + rel +
                           " AND contype IN ('f', 'c'))"))
        return false;
    std::string why_not;
    if (const char* cost = deferral_cost(conn, rel, o, input_bytes))
        why_not = cost;
    else
        why_not = deferral_blocker(conn, rel);
    plan.add(!why_not.empty() ? "indexes and constraints kept: " + why_not
                              : "indexes and constraints deferred: dropped first, rebuilt in parallel at the end");
    return why_not.empty();
}

bool fast_lz4(connection& conn, const std::string& table_sql, fast_plan& plan) {
    // Values too small to be compressed are not: lz4 costs nothing on narrow rows.
    if (!conn.query_flag("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = " +
                           conn.quote_literal(table_sql) + "::regclass AND attnum > 0 AND NOT attisdropped"
                           " AND attstorage IN ('x', 'm'))"))
        return false;
    if (!conn.query_flag("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")) {
        plan.add("pglz TOAST kept: the server was built without lz4");
        return false;
    }
    plan.add("lz4 TOAST compression of wide values");
    return true;
}

load_summary run_fast_copy(const copy_load_options& given) {
    validate_copy_load(given);
    copy_load_options o = given;
    fast_plan plan;
    if (!o.jobs_given && !o.single_transaction)
        o.jobs = fast_job_count(o.connection, plan);
    {
        connection conn = connection::open(o.connection);
        o.connection = conn.same_login(o.connection); // the jobs do not ask for the password again
        const std::string table_sql = quote_qualified_name(conn, parse_qualified_name(o.table));
        const std::vector<std::string> inputs = inputs_or_stdin(o.inputs);
        if (!o.defer_indexes && !o.defer_constraints)
            o.defer_indexes = o.defer_constraints = fast_defers(conn, table_sql, o, total_input_size(inputs), plan);
        if (!o.toast_compression && fast_lz4(conn, table_sql, plan))
            o.toast_compression = "lz4";
    }
    // Batches that stay in the CPU's cache while they are encoded and sent:
    // measured on 2 cores, 1 MiB beat 4 MiB by 13% on posts (33 kB rows) and
    // by 3% on users, and tied on orders.
    if (!o.batch_rows && !o.batch_bytes) {
        o.batch_bytes = 1 << 20;
        plan.add("batches of 1 MiB");
    }
    // Decided by the loader, from the input's columns and format: soft here.
    o.reserve_ids = o.on_conflict == conflict_action::none && !o.single_transaction;
    o.send_binary = plain_text_format(o.format);
    o.plan = plan.lines;
    return run_batched_copy(o);
}

} // namespace pgpipe
