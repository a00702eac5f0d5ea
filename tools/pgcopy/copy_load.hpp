// pgcopy's load options, the rules on them, and the entry points of its one engine.
#pragma once

#include "pg/connection.hpp"
#include "pg/schema.hpp"
#include "io/copy_format.hpp"
#include "core/stats.hpp"
#include "io/input.hpp"

#include <memory>
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

/// Everything pgcopy was asked to do.
struct copy_load_options {
    connection_options connection;        ///< where to load
    std::string table;                    ///< TABLE as the user wrote it (maybe qualified, maybe quoted)
    std::optional<std::string> columns;   ///< -c: comma-separated column list
    std::vector<std::string> inputs;      ///< files; "-" is stdin
    copy_format_options format;           ///< -F and the CSV/text options
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
    unsigned jobs = 1;                    ///< --jobs: connections loading batches in parallel
    // Speed levers:
    std::optional<std::string> toast_compression; ///< --toast-compression lz4|pglz for the session
    bool defer_indexes = false;           ///< --defer-indexes: drop before, rebuild after, same transaction
    bool defer_constraints = false;       ///< --defer-constraints: FKs and CHECKs re-added after the load
    bool reserve_ids = false;             ///< --reserve-ids: a sequence's values filled in by pgcopy, a block per batch
    bool send_binary = false;             ///< --send-binary: text rows encoded as COPY binary where the types allow
    bool fast = false;                    ///< --fast: the plan chosen from the table and the input
    bool restore = false;                 ///< --restore: put back what an interrupted deferring load left off
    bool verbose = false;                 ///< --verbose: print the plan
    bool jobs_given = false;              ///< --jobs was given (--fast chooses otherwise)
    std::vector<std::string> plan;        ///< --fast: the choices made before the load starts
    bool one_transaction = false;         ///< no batch option: the whole load in one transaction, no savepoints
    bool script = false;                  ///< --script: the input is a script stream (else detected)
    bool format_given = false;            ///< -F was given: no detection of binary input
    route_mode route = route_mode::automatic; ///< --route / --no-route
    bool two_phase = false;               ///< --two-phase: a routed load commits on every shard or on none

    /// Whether the load runs in batches rather than one streamed COPY.
    bool batched() const {
        return batch_rows || batch_bytes || !reject_file.empty() || !resume_key.empty() || retries > 0 ||
               on_conflict != conflict_action::none || single_transaction || max_rejects || conflict_columns ||
               jobs > 1 || reserve_ids || send_binary || fast;
    }
};

/// The inputs' total size, if every one is a regular file.
std::optional<uint64_t> total_input_size(const std::vector<std::string>& inputs);

/// Parses --max-rejects N or N% into options. Throws a usage failure.
void parse_max_rejects(const std::string& text, copy_load_options& options);

/// Checks every rule on the options and their combinations, before anything
/// is opened or connected: the one place each rule lives. Throws error
/// (a usage failure for a bad value, local_error for a refused combination).
void validate_copy_load(const copy_load_options& options);

/// Loads every input into `COPY table FROM STDIN` through the one engine
/// (run_batched_copy): all in one transaction unless a batch option, --fast
/// or --restore says otherwise; prints the summary, writes --stats, and
/// returns what was loaded. Throws error (local or server) after rolling
/// back; the error's detail says what was and was not committed.
load_summary run_copy(const copy_load_options& options);

/// Whether rows in format f are plain COPY text: tab, \\N, the client's encoding.
bool plain_text_format(const copy_format_options& f);

/// Applies the session settings a load asks for (--toast-compression).
void apply_session_settings(connection& conn, const copy_load_options& options);

/// pgcopy's one engine behind run_copy: a reader cuts the inputs into
/// batches at row boundaries (script blocks too), jobs load them; each
/// batch committed with its progress, or with one_transaction all of them
/// in one. first: the first input, opened already (its first bytes given
/// back), or null. Throws like run_copy; status rows_rejected past --max-rejects.
load_summary run_batched_copy(const copy_load_options& options, std::unique_ptr<input_stream> first = nullptr);

} // namespace pgpipe
