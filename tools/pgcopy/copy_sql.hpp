// pgcopy's COPY statements, built with the connection's quoting.
#pragma once

#include "io/copy_format.hpp"

#include <string>
#include <vector>

namespace pgpipe {

class connection;

/// The parenthesized option list of a COPY statement, literals quoted by libpq.
std::string copy_options_sql(const connection& conn, const copy_format_options& options, bool freeze);

/// COPY table_sql [(columns)] FROM STDIN (options): table_sql is quoted
/// already, columns are unquoted names (none: every column). With a header,
/// the server checks its names (HEADER MATCH) from PostgreSQL 15 on.
std::string build_copy_sql(const connection& conn, const std::string& table_sql,
                           const std::vector<std::string>& columns, copy_format_options format, bool freeze);

/// Creates pgcopy's own tables in schema pgpipe unless all of them exist:
/// only on first use (a role that may load need not be allowed to create
/// schemas), quietly ("already exists" is noise). tables are their names
/// (pgpipe.x), ddl the CREATE TABLE IF NOT EXISTS statements.
void create_pgpipe_tables(connection& conn, const std::vector<std::string>& tables,
                          const std::vector<std::string>& ddl);

/// What this role lacks to create or use pgcopy's tables (pgpipe.x) with
/// SELECT, INSERT, UPDATE and DELETE: empty problem when nothing, else the
/// privilege ("USAGE on schema pgpipe") and the GRANT that gives it. Asks
/// the catalog only: never touches a schema the role may not use.
struct pgpipe_access {
    std::string problem; ///< "USAGE on schema pgpipe", or empty
    std::string hint;    ///< "GRANT USAGE ON SCHEMA pgpipe TO role"
};
/// See pgpipe_access.
pgpipe_access check_pgpipe_access(connection& conn, const std::vector<std::string>& tables);

/// Throws (exit 2) when the role lacks what check_pgpipe_access names:
/// "<what_for> needs <privilege>", with the GRANT as the hint.
void require_pgpipe_access(connection& conn, const std::vector<std::string>& tables, const std::string& what_for);

/// Whether pgpipe.x exists and this role may read it: a load that needs
/// nothing of pgpipe asks this before it looks inside (to_regclass itself
/// fails in a schema the role may not use).
bool pgpipe_table_readable(connection& conn, const std::string& table);

/// Applies the session settings a load asks for (default_toast_compression).
void apply_session_settings(connection& conn, const std::optional<std::string>& toast_compression);

} // namespace pgpipe
