// The load context's sizes, from the options and the plan.
#include "load_context.hpp"

#include "io/input.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

// One transaction: the COPY stays open across batches, which the reader
// hands to it itself, so they can be small (the planner cuts them at 256
// KiB), and so are the reads.
constexpr size_t one_transaction_chunk = 256 << 10;

} // namespace

load_context::load_context(const copy_load_options& options, const load_plan& chosen)
    : o(options), plan(chosen), one_tx(o.single_transaction || chosen.one_transaction.value),
      chunk(chosen.one_transaction.value && !chosen.routed.value ? one_transaction_chunk : read_chunk),
      inputs(inputs_or_stdin(o.inputs)),
      batch_bytes(chosen.batch_bytes.value), batch_rows(chosen.batch_rows.value_or(UINT64_MAX)),
      loaders(std::max(1u, chosen.jobs.value)), login(chosen.login), format(o.format), plan_lines(chosen.lines) {}

std::string load_context::inputs_text() const {
    std::string out;
    for (const auto& in : inputs)
        out += (out.empty() ? "" : "\n") + in;
    return out;
}

std::optional<size_t> load_context::row_named(const batch& b, size_t a, size_t z, std::optional<uint64_t> line) const {
    const size_t k = row_at_copy_line(format.format == copy_format::csv, z - a, line.value_or(0),
                                      [&](size_t i) { return b.row(a + i); });
    return k < z - a ? std::optional<size_t>(a + k) : std::nullopt;
}

} // namespace pgpipe
