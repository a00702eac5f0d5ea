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

/// How big a batch is, when loads are batched (pgcopy(1) BATCHES).
struct batch_size_options {
    std::optional<uint64_t> rows;  ///< --batch-rows: commit every N rows
    std::optional<uint64_t> bytes; ///< --batch-bytes: commit every N bytes
};

/// Rows the server refuses: where they go and how many are too many (pgcopy(1) REJECTED ROWS).
struct reject_options {
    std::string file;                ///< --reject-file: bad rows go here, the load goes on
    std::optional<double> max;       ///< --max-rejects N or N%
    bool max_percent = false;        ///< --max-rejects was N%
};

/// Rows whose key exists already (pgcopy(1) UPSERTS).
struct upsert_options {
    conflict_action on_conflict = conflict_action::none; ///< --on-conflict
    std::optional<std::string> conflict_columns;         ///< --conflict-columns a,b
};

/// The speed levers (pgcopy(1) Load options and FAST LOADS).
struct lever_options {
    std::optional<std::string> toast_compression; ///< --toast-compression lz4|pglz for the session
    bool defer_indexes = false;     ///< --defer-indexes: drop before, rebuild after, same transaction
    bool defer_constraints = false; ///< --defer-constraints: FKs and CHECKs re-added after the load
    bool reserve_ids = false;       ///< --reserve-ids: a sequence's values filled in by pgcopy, a block per batch
    bool send_binary = false;       ///< --send-binary: text rows encoded as COPY binary where the types allow
    bool fast = false;              ///< --fast: the planner chooses the levers from the table and the input
};

/// Tables partitioned over postgres_fdw shards (pgcopy(1) Sharded tables).
struct sharding_options {
    route_mode route = route_mode::automatic; ///< --route / --no-route
    bool two_phase = false;                   ///< --two-phase: a routed load commits on every shard or on none
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
    batch_size_options batch_size;        ///< --batch-rows, --batch-bytes
    reject_options rejects;               ///< --reject-file, --max-rejects
    std::string resume_key;               ///< --resume-key: exactly-once across runs
    int retries = 0;                      ///< --retries: reconnect and retry the current batch
    upsert_options upsert;                ///< --on-conflict, --conflict-columns
    bool single_transaction = false;      ///< --single-transaction: one commit, a savepoint per batch
    std::optional<unsigned> jobs;         ///< --jobs: connections loading batches in parallel (else 1, or --fast's count)
    lever_options levers;                 ///< --toast-compression, --defer-*, --reserve-ids, --send-binary, --fast
    bool restore = false;                 ///< --restore: put back what an interrupted deferring load left off
    bool verbose = false;                 ///< --verbose: print the plan
    bool script = false;                  ///< --script: the input is a script stream (else detected)
    bool require_end = false;             ///< --require-end: each input ends with its end line \. (binary: trailer)
    sharding_options sharding;            ///< --route / --no-route, --two-phase

    /// Whether an option asks for batches rather than one streamed COPY.
    bool batched() const {
        return batch_size.rows || batch_size.bytes || !rejects.file.empty() || !resume_key.empty() || retries > 0 ||
               upsert.on_conflict != conflict_action::none || single_transaction || rejects.max ||
               upsert.conflict_columns || jobs.value_or(1) > 1 || levers.reserve_ids || levers.send_binary ||
               levers.fast;
    }
};

} // namespace pgpipe
