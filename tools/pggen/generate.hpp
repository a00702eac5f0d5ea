// pggen's engine: what pggen was asked to do, and doing it.
#pragma once

#include "pg/connection.hpp"
#include "io/copy_format.hpp"
#include "core/stats.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgpipe {

/// What pggen does with its plan.
enum class generate_action {
    rows,         ///< write the rows
    ddl,          ///< print CREATE TABLE for a preset or a spec
    list_columns, ///< print the generated columns, comma-separated (for pgcopy -c)
};

/// Everything pggen was asked to do.
struct generate_options {
    connection_options connection;          ///< for a live table
    std::optional<std::string> table;       ///< TABLE: live table, or the name for a preset/spec
    std::optional<std::string> preset;      ///< --preset
    std::vector<std::string> column_specs;  ///< COLUMN[:TYPE]=GENERATOR, in order
    std::optional<std::string> spec_file;   ///< --spec FILE
    uint64_t rows = 1000;                   ///< -n
    uint64_t start = 1;                     ///< --start: the first row number
    uint64_t seed = 1;                      ///< --seed
    uint32_t shard = 1;                     ///< --shard K/N: K
    uint32_t shards = 1;                    ///< --shard K/N: N
    copy_format format = copy_format::text; ///< -F
    int zstd_level = 0;                     ///< --zstd[=LEVEL]; 0: none
    std::string output;                     ///< -o FILE; empty: stdout
    bool end_line = false;                  ///< --end-line: the end line \. after the last row
    generate_action action = generate_action::rows; ///< --ddl, --list-columns
    bool show_progress = false;             ///< draw progress
    std::string stats_file;                 ///< --stats FILE
};

/// The presets, name and one-line description each.
std::vector<std::pair<std::string, std::string>> list_presets();

/// Plans the columns, checks every generator against its column, then does
/// the action; for rows, writes them and prints the summary. Throws
/// local_error (nothing written) for any bad spec, preset or table.
load_summary run_generate(const generate_options& options);

/// Parses "K/N" for --shard; throws local_error.
std::pair<uint32_t, uint32_t> parse_shard(const std::string& text);

} // namespace pgpipe
