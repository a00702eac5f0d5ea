// pgrec's options and entry points: JSON lines to COPY rows or script streams.
#pragma once

#include "pg/connection.hpp"
#include "io/copy_format.hpp"
#include "core/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// What a column gets when a record lacks its key (--missing).
enum class missing_key {
    default_value, ///< its DEFAULT: text output leaves the column out of the row's COPY block
    null,          ///< NULL
    error,         ///< the line is bad
};

/// Everything pgrec was asked to do.
struct record_options {
    connection_options connection;           ///< for the live table's column types
    std::string table;                       ///< TABLE as the user wrote it
    std::vector<std::string> inputs;         ///< JSON lines files; "-" is stdin
    std::optional<std::string> columns;      ///< --columns name:type,...: types offline
    std::optional<std::string> map;          ///< --map key=column,...
    missing_key missing = missing_key::default_value; ///< --missing
    bool ignore_unknown = false;             ///< --ignore-unknown
    bool with_ids = false;                   ///< --with-ids: fill serial/identity columns from the records
    std::string reject_file;                 ///< --reject-file: bad lines go here and the rest goes on
    copy_format format = copy_format::text;  ///< -F
    int zstd_level = 0;                      ///< --zstd
    std::string output;                      ///< -o FILE
    bool list_columns = false;               ///< --list-columns: print the output columns, then exit
    std::vector<std::string> children;       ///< --child KEY=TABLE.COLUMN (KEY may be a path: a.b)
    uint64_t block = 1000;                   ///< --block: records per script block
    std::optional<int64_t> id_start;         ///< --id-start: ids counted from here instead of nextval
    bool show_progress = false;              ///< draw progress
    std::string stats_file;                  ///< --stats FILE
    bool json_null_value = false;            ///< --json-null value: JSON null in json/jsonb is JSON's null
    bool require_end = false;                ///< --require-end: each input ends with its end line \.
    bool end_line = false;                   ///< --end-line (or --require-end): the output ends with one
};

/// Reads JSON lines and writes COPY rows for the table. Text output is a
/// script stream: a COPY block per shape (the set of keys with a DEFAULT
/// that records carry), so that absent keys get their column's DEFAULT;
/// CSV and binary are plain streams of every column. A line that is not valid JSON, not an object, or has a value
/// that does not fit its column is an error naming the file, line, key,
/// column and type (exit 1, the row not written) or, with a reject file,
/// goes there with its reason (the summary's rejected count). Throws error.
load_summary run_records(const record_options& options);

/// Checks the options' values (the one place of each rule); throws a usage failure.
void validate_record_options(const record_options& options);

/// With --child: records with nested child records become a script stream
/// (COPY … FROM stdin; rows; \. per table and block, parents first), with
/// missing parent keys pre-allocated from the parent's sequence, one query
/// per table and block. A bad record is left out whole (or rejected).
load_summary run_record_tree(const record_options& options);

} // namespace pgpipe
