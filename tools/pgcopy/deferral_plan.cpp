// What deferring a table's indexes and constraints drops, and the statements that put each back, read from the catalog.
#include "deferral.hpp"

#include "core/log.hpp"
#include "pg/connection.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

// "; COMMENT ON what IS '...'" for a comment in column col of row k, or nothing.
std::string comment_sql(connection& conn, const PGresult* r, int k, int col, const std::string& what) {
    if (PQgetisnull(r, k, col))
        return {};
    return ";\nCOMMENT ON " + what + " IS " + conn.quote_literal(PQgetvalue(r, k, col));
}

// The foreign keys and checks of rel (a regclass literal): dropped, then
// each put back with its comment by one statement list. Inherited ones stay:
// a child cannot drop them.
void plan_constraints(connection& conn, const std::string& table_sql, const std::string& rel, load_deferral& plan,
                      std::vector<restore_statement>& back) {
    // Foreign keys and checks first: a foreign key may use one of our indexes.
    // pg_get_constraintdef keeps MATCH, the actions, DEFERRABLE, NO INHERIT and NOT VALID.
    result_ptr r = conn.query("SELECT quote_ident(conname), pg_get_constraintdef(oid), obj_description(oid, 'pg_constraint')"
                              "  FROM pg_constraint WHERE conrelid = " + rel + " AND contype IN ('f', 'c')"
                              "   AND coninhcount = 0 ORDER BY conname");
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        std::string name = PQgetvalue(r.get(), k, 0);
        plan.drops.push_back("ALTER TABLE " + table_sql + " DROP CONSTRAINT " + name);
        back.push_back({2, name, "ALTER TABLE " + table_sql + " ADD CONSTRAINT " + name + " " + PQgetvalue(r.get(), k, 1) +
                                     comment_sql(conn, r.get(), k, 2, "CONSTRAINT " + name + " ON " + table_sql)});
    }
}

// Everything the catalog says about each index of rel, and about its key or
// unique constraint (see plan_indexes for the columns).
result_ptr query_indexes(connection& conn, const std::string& rel) {
    return conn.query(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname), pg_get_indexdef(i.indexrelid),"
        "       coalesce(quote_ident(c.conname), ''), coalesce(c.contype::text, ''),"
        "       EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid"
        "                AND f.conrelid <> i.indrelid),"
        "       quote_ident(ic.relname),"
        "       coalesce((SELECT spcname FROM pg_tablespace WHERE oid = ic.reltablespace), ''),"
        "       obj_description(i.indexrelid, 'pg_class'),"
        "       (SELECT string_agg(format(E';\\nALTER INDEX %I.%I ALTER COLUMN %s SET STATISTICS %s', n.nspname,"
        "                                 ic.relname, a.attnum, a.attstattarget), '' ORDER BY a.attnum)"
        "          FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0),"
        "       coalesce(c.condeferrable, false), coalesce(c.condeferred, false),"
        "       obj_description(c.oid, 'pg_constraint'), i.indisreplident, i.indisclustered,"
        "       ic.relkind = 'I'"
        "  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace"
        "  LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
        "   AND c.contype IN ('p', 'u', 'x')"
        " WHERE i.indrelid = " + rel +
        "   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)"
        " ORDER BY i.indisprimary DESC, ic.relname");
}

// Phase 1 for index k of query_indexes: its key or unique constraint attached
// (deferrable as it was, with its comment), then the table's marks on it.
// The replica identity (which locks the table most) goes first, so that no
// statement list waits for a stronger lock than it took.
std::string attach_sql(connection& conn, const PGresult* r, int k, const std::string& table_sql) {
    auto get = [&](int col) { return std::string(PQgetvalue(r, k, col)); };
    const std::string conname = get(2), bare = get(5);
    std::vector<std::string> parts;
    if (!conname.empty())
        parts.push_back("ALTER TABLE " + table_sql + " ADD CONSTRAINT " + conname +
                        (get(3) == "p" ? " PRIMARY KEY" : " UNIQUE") + " USING INDEX " + bare +
                        (get(9) == "t" ? " DEFERRABLE" : "") + (get(10) == "t" ? " INITIALLY DEFERRED" : "") +
                        comment_sql(conn, r, k, 11, "CONSTRAINT " + conname + " ON " + table_sql));
    if (get(12) == "t")
        parts.push_back("ALTER TABLE " + table_sql + " REPLICA IDENTITY USING INDEX " + bare);
    if (get(13) == "t")
        parts.push_back("ALTER TABLE " + table_sql + " CLUSTER ON " + bare);
    std::string sql;
    for (const auto& part : parts)
        sql += (sql.empty() ? "" : ";\n") + part;
    return sql;
}

// The indexes of rel: dropped (with their key or unique constraint), built
// again in their tablespace with their comment and statistics targets
// (phase 0), then attached and marked (phase 1).
void plan_indexes(connection& conn, const std::string& table_sql, const std::string& rel, load_deferral& plan,
                  std::vector<restore_statement>& back) {
    result_ptr r = query_indexes(conn, rel);
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        auto get = [&](int col) { return std::string(PQgetvalue(r.get(), k, col)); };
        const std::string index = get(0), conname = get(2), contype = get(3);
        if (get(4) == "t") {
            log_info("keeping index " + index + ": a foreign key of another table depends on it");
            continue;
        }
        if (contype == "x") {
            log_info("keeping index " + index + " of exclusion constraint " + conname);
            continue;
        }
        // pg_get_indexdef writes it ON ONLY the parent: rebuilt so, it stays
        // invalid, with no index on any partition, and the key cannot attach.
        if (get(14) == "t") {
            log_info("keeping index " + index + ": it is a partitioned table's");
            continue;
        }
        plan.drops.push_back(conname.empty() ? "DROP INDEX " + index
                                             : "ALTER TABLE " + table_sql + " DROP CONSTRAINT " + conname);
        // pg_get_indexdef omits the tablespace; '' is the database's default.
        plan.restores.push_back({0, index, "SET LOCAL default_tablespace = " + conn.quote_literal(get(6)) + ";\n" +
                                               get(1) + comment_sql(conn, r.get(), k, 7, "INDEX " + index) + get(8)});
        if (std::string attach = attach_sql(conn, r.get(), k, table_sql); !attach.empty())
            back.push_back({1, conname.empty() ? index : conname, attach});
    }
}

} // namespace

load_deferral plan_deferral(connection& conn, const std::string& table_sql, bool indexes, bool constraints) {
    load_deferral plan;
    std::vector<restore_statement> constraints_back;
    const std::string rel = conn.quote_literal(table_sql) + "::regclass";
    if (constraints)
        plan_constraints(conn, table_sql, rel, plan, constraints_back);
    if (indexes)
        plan_indexes(conn, table_sql, rel, plan, constraints_back);
    // Keys, unique constraints and marks (phase 1) before foreign keys and checks (phase 2).
    std::stable_sort(constraints_back.begin(), constraints_back.end(),
                     [](const restore_statement& x, const restore_statement& y) { return x.phase < y.phase; });
    plan.restores.insert(plan.restores.end(), constraints_back.begin(), constraints_back.end());
    return plan;
}

std::vector<std::string> drop_for_load(connection& conn, const std::string& table_sql, bool indexes, bool constraints) {
    load_deferral plan = plan_deferral(conn, table_sql, indexes, constraints);
    for (const auto& sql : plan.drops)
        conn.exec(sql);
    std::vector<std::string> restore;
    for (const auto& r : plan.restores)
        restore.push_back(r.sql);
    return restore;
}


} // namespace pgpipe
