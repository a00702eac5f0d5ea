// libFuzzer target: the row splitters must find the same rows whatever the
// chunking, never read out of bounds, and fail only with a pgpipe::error.
#include "core/error.hpp"
#include "io/row_splitter.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace pgpipe;

namespace {

// Row ends over the whole input, scanned in chunks of the given sizes; the
// end-of-data markers found go to markers as (end, line).
bool split(const copy_format_options& o, const uint8_t* data, size_t size, size_t chunk, std::vector<size_t>& out,
           std::vector<std::pair<size_t, uint64_t>>& markers) {
    auto s = make_row_splitter(o);
    std::vector<size_t> ends;
    try {
        for (size_t at = 0; at < size; at += chunk) {
            size_t n = std::min(chunk, size - at);
            ends.clear();
            s->scan(reinterpret_cast<const char*>(data) + at, n, ends);
            for (size_t e : ends) {
                if (e > n || (!out.empty() && at + e <= out.back() && at + e != 0))
                    std::abort(); // an end outside the chunk, or going backwards
                out.push_back(at + e);
            }
            for (const auto& m : s->end_markers()) {
                if (std::find(ends.begin(), ends.end(), m.end) == ends.end())
                    std::abort(); // a marker that is not a row end
                markers.emplace_back(at + m.end, m.line);
            }
        }
        s->finish(size);
        return true;
    } catch (const error&) {
        return false;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    // The first byte picks the format and the chunk size.
    copy_format_options o;
    o.format = static_cast<copy_format>(data[0] % 3);
    if (o.format == copy_format::csv && (data[0] & 0x80))
        o.escape = std::string("\\");
    size_t chunk = 1 + (data[0] >> 2) % 17;
    ++data;
    --size;
    std::vector<size_t> whole, pieces;
    std::vector<std::pair<size_t, uint64_t>> whole_markers, piece_markers;
    bool ok_whole = split(o, data, size, size ? size : 1, whole, whole_markers);
    bool ok_pieces = split(o, data, size, chunk, pieces, piece_markers);
    // Chunking must not change the answer, except that an error may come
    // earlier in the chunked run (it stops at the first bad byte).
    if (ok_whole != ok_pieces)
        std::abort();
    if (ok_whole && (whole != pieces || whole_markers != piece_markers))
        std::abort();
    return 0;
}
