// pgcopy's one engine: the inputs cut into batches, loaded as the plan says.
#pragma once

#include "copy_options.hpp"
#include "load_plan.hpp"
#include "core/stats.hpp"
#include "io/input.hpp"

#include <memory>

namespace pgpipe {

/// pgcopy's one engine behind run_copy: a reader cuts the inputs into
/// batches at row boundaries (script blocks too), jobs load them; each
/// batch committed with its progress, or with plan.one_transaction all of
/// them in one. plan: what run_copy chose (jobs, batch size, levers).
/// first: the first input, opened already (its first bytes given back), or
/// null. Throws like run_copy; status rows_rejected past --max-rejects.
load_summary run_batched_copy(const copy_load_options& options, const load_plan& plan,
                              std::unique_ptr<input_stream> first = nullptr);

} // namespace pgpipe
