// batch_cut: where pgcopy cuts the rows it has read into a batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pgpipe {

/// How many rows, from the front of those read, make the next batch: row k
/// spans [starts[k], starts[k+1]) and the last entry is where the last row
/// ends. A batch is full at max_rows rows or once it holds max_bytes bytes
/// (a row longer than max_bytes is a batch of its own). Returns 0 while the
/// rows read do not fill a batch yet, except at_end, when the rest is one.
size_t rows_to_cut(const std::vector<size_t>& starts, uint64_t max_rows, uint64_t max_bytes, bool at_end);

} // namespace pgpipe
