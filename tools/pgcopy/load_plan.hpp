// What pgcopy will do, apart from what the user asked: the plan, each
// choice with its reason, made by one pure function from the options and
// the facts (load_facts.hpp), and handed to the engine or the router.
#pragma once

#include "copy_options.hpp"
#include "load_facts.hpp"
#include "pg/connection.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// A batch's size when batching is implied but no size is given: --batch-rows
/// 100k of 33 kB rows must not hold 3 GB.
constexpr uint64_t default_batch_bytes = 16 << 20;

/// How hard a lever is pulled.
enum class lever {
    off,         ///< not used
    if_possible, ///< used when the table and the input allow it, else the plan says why not (--fast)
    required,    ///< asked for by its flag: a load that cannot use it is refused
};

/// One choice of the plan and why it was made.
template <class T>
struct choice {
    T value{};          ///< what the engine will do
    std::string reason; ///< why, in words for -v
    /// Same value, same reason.
    bool operator==(const choice&) const = default;
};

/// What the engine (or the router) will do, fixed before the load starts.
struct load_plan {
    choice<bool> routed;                  ///< rows go straight to the shards (router.hpp)
    choice<bool> one_transaction;         ///< no batch option: one transaction, no savepoints
    choice<unsigned> jobs{1, ""};         ///< connections loading batches
    choice<uint64_t> batch_bytes;         ///< a batch is cut at this many bytes
    std::optional<uint64_t> batch_rows;   ///< and at this many rows (--batch-rows)
    choice<lever> ids;                    ///< a sequence's values reserved by pgcopy, a block per batch
    choice<lever> binary;                 ///< text rows encoded as COPY binary where the types allow
    bool detect_binary = true;            ///< binary input is recognized by its signature (no -F)
    choice<bool> defer_indexes;           ///< dropped first, rebuilt after
    choice<bool> defer_constraints;       ///< foreign keys and checks re-added after
    choice<std::optional<std::string>> toast_compression; ///< the session's default_toast_compression
    std::vector<std::string> lines;       ///< the choices --fast made, one line each: printed by -v, kept in --stats
    std::string trades;                   ///< --fast: what the plan gives up, the plan's last line
    std::optional<connection_options> login; ///< the login planning made (the engine asks for no password again)
};

/// One choice of a plan as -v says it: what (such as "jobs: 2") and why.
struct plan_line {
    std::string what; ///< the choice
    std::string why;  ///< its reason (may be empty)
    /// "WHAT (WHY)", or WHAT alone when it says WHY already.
    std::string text() const;
};

/// Every choice of plan with its reason, in the plan's order.
std::vector<plan_line> plan_choices(const load_plan& plan);

/// The plan for options (validated), from the facts read before: pure, no
/// connection. Throws local_error when --route or --two-phase cannot be honoured.
load_plan plan_load(const copy_load_options& options, const table_facts& table, const input_facts& input);

} // namespace pgpipe
