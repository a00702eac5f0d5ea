// What the user asked pgcopy to do: its options as given, nothing derived (the plan, load_plan.hpp, says what it will do).
#pragma once

#include "pg/connection.hpp"
#include "pg/schema.hpp"
#include "io/copy_format.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// Whether rows of a table partitioned over postgres_fdw shards go straight to the shards.
enum class route_mode {
    automatic, ///< when pgcopy can: otherwise through the parent, with a notice
    on,        ///< --route: refuse when pgcopy cannot
    off,       ///< --no-route: always through the parent
};

/// Everything pgcopy was asked to do, as the command line said it.
struct copy_load_options {
    connection_options connection;        ///< where to load
    std::string table;                    ///< TABLE as the user wrote it (maybe qualified, maybe quoted)
    std::optional<std::string> columns;   ///< -c: comma-separated column list
    std::vector<std::string> inputs;      ///< files; "-" is stdin
    copy_format_options format;           ///< the CSV/text options; format.format is -F's, or text without -F
    std::optional<copy_format> named_format; ///< -F, when given: then binary input is not detected
    bool truncate = false;                ///< TRUNCATE first, in the same transaction
    bool freeze = false;                  ///< COPY FREEZE (needs truncate)
    bool show_progress = false;           ///< draw the progress line
    std::string stats_file;               ///< --stats FILE, or empty
    // Batched loads (any of these turns batching on):
    std::optional<uint64_t> batch_rows;   ///< --batch-rows: commit every N rows
    std::optional<uint64_t> batch_bytes;  ///< --batch-bytes: commit every N bytes
    std::string reject_file;              ///< --reject-file: bad rows go here, the load goes on
    std::optional<double> max_rejects;    ///< --max-rejects N or N%
    bool max_rejects_percent = false;     ///< --max-rejects was N%
    std::string resume_key;               ///< --resume-key: exactly-once across runs
    int retries = 0;                      ///< --retries: reconnect and retry the current batch
    conflict_action on_conflict = conflict_action::none; ///< --on-conflict
    std::optional<std::string> conflict_columns; ///< --conflict-columns a,b
    bool single_transaction = false;      ///< --single-transaction: one commit, a savepoint per batch
    std::optional<unsigned> jobs;         ///< --jobs: connections loading batches in parallel (else 1, or --fast's count)
    // Speed levers:
    std::optional<std::string> toast_compression; ///< --toast-compression lz4|pglz for the session
    bool defer_indexes = false;           ///< --defer-indexes: drop before, rebuild after, same transaction
    bool defer_constraints = false;       ///< --defer-constraints: FKs and CHECKs re-added after the load
    bool reserve_ids = false;             ///< --reserve-ids: a sequence's values filled in by pgcopy, a block per batch
    bool send_binary = false;             ///< --send-binary: text rows encoded as COPY binary where the types allow
    bool fast = false;                    ///< --fast: the planner chooses the levers from the table and the input
    bool restore = false;                 ///< --restore: put back what an interrupted deferring load left off
    bool verbose = false;                 ///< --verbose: print the plan
    bool script = false;                  ///< --script: the input is a script stream (else detected)
    route_mode route = route_mode::automatic; ///< --route / --no-route
    bool two_phase = false;               ///< --two-phase: a routed load commits on every shard or on none

    /// Whether an option asks for batches rather than one streamed COPY.
    bool batched() const {
        return batch_rows || batch_bytes || !reject_file.empty() || !resume_key.empty() || retries > 0 ||
               on_conflict != conflict_action::none || single_transaction || max_rejects || conflict_columns ||
               jobs.value_or(1) > 1 || reserve_ids || send_binary || fast;
    }
};

} // namespace pgpipe
