// pgcopy's routed loads: rows of a table partitioned over postgres_fdw shards, each sent straight to its shard.
#pragma once
#include "copy_options.hpp"
#include "route_plan.hpp"
#include "core/stats.hpp"
#include "io/input.hpp"

#include <memory>

namespace pgpipe {

/// Loads the inputs into plan's table: a reader cuts them into pieces,
/// routes every row by its key, and one connection per destination (each
/// shard, and the coordinator for local partitions) streams its rows with
/// COPY, all at once. Without batch options each destination holds one
/// transaction, committed only once every one has taken all its rows (with
/// --two-phase: prepared everywhere, then committed); with batches each
/// batch is such a unit, and --resume-key records it on each destination
/// in the transaction that loads it. coordinator: the connection plan was
/// read on. first: the first input, opened already, or null.
load_summary run_routed_copy(const copy_load_options& options, routing plan, connection coordinator,
                             std::unique_ptr<input_stream> first);

} // namespace pgpipe
