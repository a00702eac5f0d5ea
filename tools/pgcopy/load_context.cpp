// The load context's sizes, from the options and the inputs.
#include "load_context.hpp"

#include "io/input.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

constexpr uint64_t default_batch_bytes = 16 << 20; // when batching is implied but no size is given
// One transaction: the COPY stays open across batches, which the reader
// hands to it itself, so they can be small: two of them (being read, spare)
// stay well inside the 16 MiB a streamed load may hold.
constexpr uint64_t one_transaction_batch_bytes = 256 << 10;
constexpr size_t one_transaction_chunk = 256 << 10; // and reads of 256 KiB: two batches stay small

// --jobs with no batch size: about four batches per job, so that every
// connection is busy to the end (from the files' sizes; 4 MiB for a
// stream), between 1 and 16 MiB. Measured on orders, 1M rows with a
// primary key, stock durability: --jobs 2 with 16 MiB batches (two of
// them) took 1.09 s, as long as one COPY; with 4 MiB batches 0.94 s.
uint64_t parallel_batch_bytes(const std::vector<std::string>& inputs, unsigned jobs) {
    std::optional<uint64_t> total = total_input_size(inputs);
    if (!total)
        return 4 << 20;
    return std::clamp<uint64_t>(*total / (4 * uint64_t{jobs}), 1 << 20, default_batch_bytes);
}

} // namespace

load_context::load_context(const copy_load_options& options)
    : o(options), one_tx(o.single_transaction || o.one_transaction),
      chunk(o.one_transaction ? one_transaction_chunk : read_chunk),
      inputs(inputs_or_stdin(o.inputs)), loaders(std::max(1u, o.jobs)),
      parallel(o.jobs > 1), format(o.format) {
    // A batch is also cut at 16 MiB unless --batch-bytes says otherwise:
    // --batch-rows 100k of 33 kB rows must not hold 3 GB.
    batch_bytes = o.batch_bytes ? *o.batch_bytes : o.one_transaction ? one_transaction_batch_bytes : default_batch_bytes;
    if (o.jobs > 1 && !o.batch_rows && !o.batch_bytes)
        batch_bytes = parallel_batch_bytes(inputs, o.jobs);
    batch_rows = o.batch_rows ? *o.batch_rows : UINT64_MAX;
    plan = o.plan;
}

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
