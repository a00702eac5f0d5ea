// pgcopy's COPY statements: the option list and the whole statement, with
// literals and identifiers quoted by libpq.
#include "copy_sql.hpp"

#include "pg/connection.hpp"
#include "pg/identifier.hpp"
#include "pg/server_rules.hpp"

#include <algorithm>

namespace pgpipe {

void create_pgpipe_tables(connection& conn, const std::vector<std::string>& tables,
                          const std::vector<std::string>& ddl) {
    if (std::all_of(tables.begin(), tables.end(), [&](const std::string& t) { return pgpipe_table_readable(conn, t); }))
        return;
    conn.exec("SET client_min_messages = warning");
    conn.exec("CREATE SCHEMA IF NOT EXISTS pgpipe");
    for (const auto& sql : ddl)
        conn.exec(sql);
    conn.exec("RESET client_min_messages");
}

namespace {

// The catalog names of pgpipe.x: "x".
std::string bare_name(const std::string& table) { return table.substr(table.find('.') + 1); }

// The first of tables this role may not read and write, or empty; missing set if any does not exist.
std::string table_lacking_rights(connection& conn, const std::vector<std::string>& tables, bool& missing) {
    missing = false;
    for (const auto& table : tables) {
        result_ptr r = conn.query(
            "SELECT bool_and(has_table_privilege(c.oid, p)) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'pgpipe',"
            " unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p WHERE c.relname = " +
            conn.quote_literal(bare_name(table)));
        const std::string all = PQgetvalue(r.get(), 0, 0);
        if (all.empty())
            missing = true;
        else if (all != "t")
            return table;
    }
    return {};
}

} // namespace

pgpipe_access check_pgpipe_access(connection& conn, const std::vector<std::string>& tables) {
    result_ptr r = conn.query(
        "SELECT n.oid IS NOT NULL, coalesce(has_schema_privilege(n.oid, 'USAGE'), false),"
        " coalesce(has_schema_privilege(n.oid, 'CREATE'), false), has_database_privilege(current_database(), 'CREATE'),"
        " quote_ident(current_database()), quote_ident(current_user)"
        " FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = 'pgpipe'");
    auto v = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)); };
    const std::string database = v(4), role = v(5);
    if (v(0) != "t") {
        if (v(3) == "t")
            return {};
        return {"CREATE on database " + database + " to create schema pgpipe",
                "GRANT CREATE ON DATABASE " + database + " TO " + role + " (or run the first such load as a role that may)"};
    }
    bool missing = false;
    const std::string lacking = table_lacking_rights(conn, tables, missing);
    const bool create = missing && v(2) != "t";
    if (v(1) != "t")
        return {std::string(create ? "USAGE, CREATE" : "USAGE") + " on schema pgpipe",
                std::string("GRANT ") + (create ? "USAGE, CREATE" : "USAGE") + " ON SCHEMA pgpipe TO " + role};
    if (create)
        return {"CREATE on schema pgpipe to create its tables", "GRANT CREATE ON SCHEMA pgpipe TO " + role};
    if (lacking.empty())
        return {};
    std::string all;
    for (const auto& table : tables)
        all += (all.empty() ? "" : ", ") + table;
    return {"SELECT, INSERT, UPDATE, DELETE on " + lacking,
            "GRANT SELECT, INSERT, UPDATE, DELETE ON " + all + " TO " + role};
}

void require_pgpipe_access(connection& conn, const std::vector<std::string>& tables, const std::string& what_for) {
    pgpipe_access access = check_pgpipe_access(conn, tables);
    if (!access.problem.empty())
        throw error(exit_status::server_error, what_for + " needs " + access.problem,
                    "pgcopy keeps its records for it in schema pgpipe", access.hint);
}

bool pgpipe_table_readable(connection& conn, const std::string& table) {
    return conn.query_flag("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                           " WHERE n.nspname = 'pgpipe' AND c.relname = " + conn.quote_literal(bare_name(table)) +
                           " AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))");
}

std::string copy_options_sql(const connection& conn, const copy_format_options& o, bool freeze) {
    std::string sql = std::string("(FORMAT ") + copy_format_name(o.format);
    if (freeze)
        sql += ", FREEZE";
    if (o.header)
        sql += o.header_match ? ", HEADER MATCH" : ", HEADER";
    if (o.delimiter)
        sql += ", DELIMITER " + conn.quote_literal(*o.delimiter);
    if (o.quote)
        sql += ", QUOTE " + conn.quote_literal(*o.quote);
    if (o.escape)
        sql += ", ESCAPE " + conn.quote_literal(*o.escape);
    if (o.null_string)
        sql += ", NULL " + conn.quote_literal(*o.null_string);
    if (o.encoding)
        sql += ", ENCODING " + conn.quote_literal(*o.encoding);
    return sql + ")";
}

std::string build_copy_sql(const connection& conn, const std::string& table_sql,
                           const std::vector<std::string>& columns, copy_format_options format, bool freeze) {
    // A header whose names do not match the columns is refused by the
    // server itself, where it can.
    format.header_match = format.header && server_rules::of(conn).has_header_match();
    std::string sql = "COPY " + table_sql;
    if (!columns.empty())
        sql += " (" + quote_name_list(conn, columns) + ")";
    return sql + " FROM STDIN " + copy_options_sql(conn, format, freeze);
}

void apply_session_settings(connection& conn, const std::optional<std::string>& toast_compression) {
    if (toast_compression)
        conn.exec("SET default_toast_compression = " + conn.quote_literal(*toast_compression));
}

} // namespace pgpipe
