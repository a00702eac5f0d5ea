// The router of a routed load: cuts a batch into one part per destination
// by each row's partition key, as the server would route the row.
#pragma once

#include "batch.hpp"
#include "destination.hpp"
#include "load_context.hpp"
#include "route_keys.hpp"
#include "io/copy_fields.hpp"

#include <string>
#include <vector>

namespace pgpipe {

/// What the server says of a row no partition of table admits (SQLSTATE 23514).
std::string no_partition_message(const std::string& table);

/// Routes every batch of a routed load, in the reader's thread, before the
/// queue hands the batch to a loader (the next batch is routed while the
/// loaders send the one before).
class router {
public:
    /// A router of ctx's routing (ctx.routed_found: what earlier runs of
    /// the key committed at each destination).
    explicit router(const load_context& ctx);
    router(const router&) = delete;
    router& operator=(const router&) = delete;

    /// Cuts b into b.parts, one per destination, each naming b as its
    /// whole. A key pgcopy cannot read goes to the coordinator, whose
    /// server routes (or refuses) it. Rows no partition admits fail the
    /// load, or with --reject-file are kept in b.unplaced. With ids reserved
    /// (b.first_id), the parts' rows carry them in front. With a key, each
    /// part an earlier run committed is marked (the batch's bytes checked).
    void route(batch& b);

private:
    const std::string& routed_bytes(const batch& b);
    bool read_key(std::string_view row);
    std::string key_text() const;
    void mark_committed(batch& b);

    const load_context& m_ctx;
    const routing& m_plan;
    copy_field_reader m_fields;
    key_value m_key;
    std::string m_with_ids;           // the batch's rows with their reserved ids in front
    std::vector<size_t> m_id_starts;  // ... and where each starts
};

} // namespace pgpipe
