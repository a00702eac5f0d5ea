// pginsert's engine: COPY text rows sent as INSERTs by one of four strategies.
#pragma once

#include "pg/connection.hpp"
#include "pg/schema.hpp"
#include "core/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// How pginsert sends rows (the ways ORMs and drivers insert).
enum class insert_strategy {
    row,      ///< one INSERT and one commit per row
    txn,      ///< one INSERT per row, one transaction
    values,   ///< multi-row VALUES, batch rows per statement
    pipeline, ///< libpq pipeline mode, one prepared INSERT, a sync every batch rows
};

/// Parses "row", "txn", "values" or "pipeline"; throws local_error.
insert_strategy parse_insert_strategy(const std::string& name);

/// Everything pginsert was asked to do.
struct insert_load_options {
    connection_options connection;        ///< where to load
    std::string table;                    ///< TABLE as the user wrote it
    std::optional<std::string> columns;   ///< -c
    std::vector<std::string> inputs;      ///< COPY text files; "-" is stdin
    insert_strategy strategy = insert_strategy::values; ///< --strategy
    uint64_t batch = 1000;                ///< --batch: rows per statement (values) or per sync (pipeline)
    conflict_action on_conflict = conflict_action::none; ///< --on-conflict
    std::optional<std::string> conflict_columns; ///< --conflict-columns
    bool show_progress = false;           ///< draw progress
    std::string stats_file;               ///< --stats FILE
};

/// Reads COPY text rows and INSERTs them with the strategy; prints the
/// summary, writes --stats. Throws error naming FILE:LINE of a refused row;
/// with the row strategy the rows before it stay committed (the message says
/// how many), otherwise nothing is.
load_summary run_insert(const insert_load_options& options);

/// Checks the options' values and combinations (the one place of each
/// rule); throws a usage failure.
void validate_insert_load(const insert_load_options& options);

} // namespace pgpipe
