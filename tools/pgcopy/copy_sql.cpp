// pgcopy's COPY statements: the option list and the whole statement, with
// literals and identifiers quoted by libpq.
#include "copy_sql.hpp"

#include "pg/connection.hpp"
#include "pg/identifier.hpp"

namespace pgpipe {

void create_pgpipe_tables(connection& conn, const std::vector<std::string>& tables,
                          const std::vector<std::string>& ddl) {
    std::string all = "SELECT true";
    for (const auto& table : tables)
        all += " AND to_regclass(" + conn.quote_literal(table) + ") IS NOT NULL";
    if (conn.query_flag(all))
        return;
    conn.exec("SET client_min_messages = warning");
    conn.exec("CREATE SCHEMA IF NOT EXISTS pgpipe");
    for (const auto& sql : ddl)
        conn.exec(sql);
    conn.exec("RESET client_min_messages");
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
    // server itself from PostgreSQL 15 on.
    format.header_match = format.header && PQserverVersion(conn.get()) >= 150000;
    std::string sql = "COPY " + table_sql;
    if (!columns.empty())
        sql += " (" + quote_name_list(conn, columns) + ")";
    return sql + " FROM STDIN " + copy_options_sql(conn, format, freeze);
}

} // namespace pgpipe
