// Live tables from the catalog: columns, types, keys and CHECK ranges; upserts.
#pragma once

#include "pg/pg_types.hpp"

#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace pgpipe {

class connection;

/// One column of a live table, as the catalog describes it.
struct table_column {
    std::string name;                 ///< attname
    std::optional<column_type> type;  ///< empty when pgpipe cannot encode the type
    std::string type_name;            ///< format_type(), for messages
    bool not_null = false;            ///< NOT NULL
    bool server_filled = false;       ///< serial, identity or generated: left to the server
    bool generated_always = false;    ///< a generated column, which COPY cannot fill at all
    std::vector<std::string> enum_labels; ///< for enum types, in sort order
    bool unique = false;              ///< a single-column primary key or unique constraint
    std::optional<double> check_min;  ///< from CHECK (col >= n) / (col > n)
    std::optional<double> check_max;  ///< from CHECK (col <= n) / (col < n)
    bool check_min_strict = false;    ///< the minimum is excluded (>)
    bool check_max_strict = false;    ///< the maximum is excluded (<)
    std::string references_table;     ///< a single-column foreign key: the referenced table (quoted)
    std::string references_column;    ///< ... and its column (quoted)
};

/// A live table's columns and the constraints generation must respect.
struct table_schema {
    std::string quoted_name;                ///< schema-qualified, quoted
    std::vector<table_column> columns;      ///< in attnum order
    std::vector<std::string> ignored_checks; ///< CHECK constraints not of a simple range form
};

/// The names of the columns COPY can fill (not dropped, not generated), in
/// order, unquoted. table_sql is already quoted.
std::vector<std::string> table_column_names(connection& conn, const std::string& table_sql);

/// A header line's names checked against table_sql's columns (TABLE as the
/// user wrote it, for messages): each must name a column, once. Returns
/// them; throws local_error naming INPUT:1 and the first name that is wrong.
std::vector<std::string> check_header_names(connection& conn, const std::string& table_sql, const std::string& table,
                                            const std::vector<std::string>& names, const std::string& input);

/// The columns COPY or INSERT fill when none are named: every column that is
/// not dropped or generated, quoted, in order. table_sql is already quoted.
std::vector<std::string> insertable_columns(connection& conn, const std::string& table_sql);

/// What to do with rows that conflict with existing ones (--on-conflict).
enum class conflict_action { none, ignore, update };

/// Parses --on-conflict: "ignore" or "update" ("" is none). Throws local_error.
conflict_action parse_conflict_action(std::string_view text);

/// The ON CONFLICT clause for an upsert into table_sql of the (quoted)
/// columns: DO NOTHING when update is false, else DO UPDATE SET of every
/// column not in the key. key_columns (as the user wrote them) default to
/// the primary key; update needs one. Throws local_error.
std::string on_conflict_clause(connection& conn, const std::string& table_sql, const std::vector<std::string>& columns,
                               bool update, const std::optional<std::string>& key_columns);

/// Reads TABLE (as the user wrote it) from the catalog. Throws local_error
/// for a table that does not exist, server_error for other failures.
table_schema read_table_schema(connection& conn, const std::string& table);

} // namespace pgpipe
