// batch_cut: the first row end at which a batch is full.
#include "batch_cut.hpp"

namespace pgpipe {

size_t rows_to_cut(const std::vector<size_t>& starts, uint64_t max_rows, uint64_t max_bytes, bool at_end) {
    const size_t rows = starts.empty() ? 0 : starts.size() - 1;
    if (rows == 0)
        return 0;
    if (rows < max_rows && starts.back() - starts.front() < max_bytes)
        return at_end ? rows : 0;
    size_t cut = 1;
    while (cut < rows && cut < max_rows && starts[cut] - starts.front() < max_bytes)
        ++cut;
    return cut;
}

} // namespace pgpipe
