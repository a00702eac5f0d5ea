// The facts the planner is told, each read once: the first input's first
// bytes, and what the catalog says of the table (keys, sizes, lz4, routing).
#include "load_facts.hpp"

#include "copy_rules.hpp"
#include "copy_sql.hpp"
#include "deferral.hpp"
#include "pg/identifier.hpp"
#include "io/row_splitter.hpp"
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


// Large enough for any first line a script stream starts with, and for a
// fair sample of rows' width.
constexpr size_t peek_size = 1 << 20;

// What --fast's deferral choice needs: stops at the first fact that decides it.
void read_deferral_facts(connection& conn, const std::string& rel, table_facts& t) {
    // COPY FROM refuses a table whose row security applies to this role.
    t.row_security = conn.query_flag("SELECT row_security_active(" + rel + ")");
    if (t.row_security)
        return;
    t.left_off = pgpipe_table_readable(conn, "pgpipe.deferred") &&
                 conn.query_flag("SELECT EXISTS (SELECT 1 FROM pgpipe.deferred WHERE relid = " + rel + ")");
    if (t.left_off)
        return;
    t.has_keys = conn.query_flag("SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = " + rel +
                                 ") OR EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + rel +
                                 " AND contype IN ('f', 'c'))");
    if (!t.has_keys)
        return;
    t.table_bytes = std::stoull(first_value(conn, "SELECT pg_table_size(" + rel + ")"));
    t.deferral_blocker = deferral_blocker(conn, rel);
}

// What --fast's lz4 choice needs.
void read_lz4_facts(connection& conn, const std::string& rel, table_facts& t) {
    // Values too small to be compressed are not: lz4 costs nothing on narrow rows.
    t.toastable = conn.query_flag("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = " + rel +
                                  " AND attnum > 0 AND NOT attisdropped AND attstorage IN ('x', 'm'))");
    if (t.toastable)
        t.server_lz4 = conn.query_flag(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'");
}

} // namespace

bool needs_input_facts(const copy_load_options& o) {
    return (o.table.empty() && !o.script) || (o.format.header && !o.columns) || o.levers.fast;
}

input_facts stat_inputs(const copy_load_options& o) {
    input_facts f;
    f.total_bytes = total_input_size(inputs_or_stdin(o.inputs));
    return f;
}

input_facts peek_first_input(const copy_load_options& o, std::unique_ptr<input_stream>& opened) {
    input_facts f = stat_inputs(o);
    opened = std::make_unique<input_stream>(inputs_or_stdin(o.inputs)[0]);
    std::string head(peek_size, '\0');
    head.resize(opened->read(head.data(), head.size()));
    opened->unread(head);
    f.peeked = true;
    f.first_name = opened->name();
    const std::string_view first_line = std::string_view(head).substr(0, head.find('\n'));
    const bool text = o.format.format == copy_format::text;
    f.binary_signature = text && !o.named_format &&
                         std::string_view(head).substr(0, 11) == std::string_view(binary_copy_header()).substr(0, 11);
    f.script_line = text && !f.binary_signature && parse_script_header(first_line).has_value();
    if (o.format.header && !o.columns && o.format.format != copy_format::binary && !f.binary_signature)
        f.header = header_names(first_line, o.format);
    const uint64_t rows = count_newlines(head.data(), head.size());
    f.average_row_bytes = rows ? head.size() / rows : head.size();
    return f;
}

table_facts read_table_facts(connection& conn, const copy_load_options& o, const input_facts& input) {
    table_facts t;
    t.server_local = server_is_local(o.connection);
    t.cores = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
    if (o.table.empty() || o.script)
        return t;
    if (o.sharding.route != route_mode::off) {
        if (o.freeze && !(t.freeze_refusal = freeze_refusal(conn, o.table)).empty())
            t.freeze_detail = freeze_refusal_detail(conn);
        t.routing = plan_routing(conn, o, [&] { return input.header; });
        if (t.routing.applies && !t.routing.plan)
            t.parent_path = parent_path_note(conn, o.table);
    }
    if (!o.levers.fast)
        return t;
    const std::string rel = conn.quote_literal(quote_qualified_name(conn, parse_qualified_name(o.table))) + "::regclass";
    if (!o.levers.defer_indexes && !o.levers.defer_constraints)
        read_deferral_facts(conn, rel, t);
    if (!o.levers.toast_compression)
        read_lz4_facts(conn, rel, t);
    return t;
}

} // namespace pgpipe
