// libFuzzer target: the row splitters must find the same rows whatever the
// chunking, never read out of bounds, fail only with a pgpipe::error, and
// in text find the rows and end-of-data markers a plain reading of the
// server's rules finds.
#include "core/error.hpp"
#include "io/row_splitter.hpp"
#include "pg/server_rules.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <tuple>
#include <vector>

using namespace pgpipe;

namespace {

// (end, line, size, refused) of a marker, in the stream.
using marker_at = std::tuple<size_t, uint64_t, size_t, bool>;

// What a reader makes of the input: where rows end as the server reads them
// (the data before a \. that ends its line is a row of its own), and the
// markers.
struct reading {
    std::vector<size_t> ends;
    std::vector<marker_at> markers;
    bool operator==(const reading&) const = default;
};

// Row ends over the whole input, scanned in chunks of the given size.
bool split(const copy_format_options& o, const marker_rules& rules, const uint8_t* data, size_t size, size_t chunk,
           reading& out) {
    auto s = make_row_splitter(o, rules);
    std::vector<size_t> ends;
    try {
        for (size_t at = 0; at < size; at += chunk) {
            size_t n = std::min(chunk, size - at);
            ends.clear();
            s->scan(reinterpret_cast<const char*>(data) + at, n, ends);
            const auto& found = s->end_markers();
            auto m = found.begin();
            for (size_t e : ends) {
                if (e > n || (!out.ends.empty() && at + e <= out.ends.back() && at + e != 0))
                    std::abort(); // an end outside the chunk, or going backwards
                const size_t start = out.ends.empty() ? 0 : out.ends.back();
                if (m != found.end() && m->end == e) {
                    if (m->size > at + e - start)
                        std::abort(); // a marker longer than its row
                    if (m->size < at + e - start && !m->refused)
                        out.ends.push_back(at + e - m->size);
                    out.markers.emplace_back(at + e, m->line, m->size, m->refused);
                    ++m;
                }
                out.ends.push_back(at + e);
            }
            if (m != found.end())
                std::abort(); // a marker that is not a row end
        }
        s->finish(size);
        return true;
    } catch (const error&) {
        return false;
    }
}

// The server's reading of COPY text, byte by byte (CopyReadLineText): a
// backslash takes the next byte with it, except that \. then an optional \r
// and a \n is the end-of-data marker, which ends the row's data first (or,
// unless marker_after_data_loads, makes the server refuse the whole line).
reading read_text(const uint8_t* d, size_t n, bool marker_after_data_loads) {
    reading out;
    uint64_t lines = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
        if (d[i] == '\n') {
            ++lines;
            out.ends.push_back(start = i + 1);
            continue;
        }
        if (d[i] != '\\' || i + 1 == n)
            continue;
        size_t j = i + 2;
        j += j < n && d[j] == '\r';
        if (d[i + 1] == '.' && j < n && d[j] == '\n') {
            const bool refused = i > start && !marker_after_data_loads;
            if (i > start && !refused)
                out.ends.push_back(i);
            ++lines;
            out.ends.push_back(start = j + 1);
            out.markers.emplace_back(j + 1, lines, j + 1 - i, refused);
            i = j;
            continue;
        }
        lines += d[i + 1] == '\n';
        ++i; // the escaped byte
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    // The first byte picks the format, the server's major (15 or 18: how it
    // reads markers) and the chunk size.
    copy_format_options o;
    const marker_rules rules = server_rules((data[0] & 0x40) ? 180000 : 150000).markers();
    o.format = static_cast<copy_format>(data[0] % 3);
    if (o.format == copy_format::csv && (data[0] & 0x80))
        o.escape = std::string("\\");
    size_t chunk = 1 + (data[0] >> 2) % 17;
    ++data;
    --size;
    reading whole, pieces;
    bool ok_whole = split(o, rules, data, size, size ? size : 1, whole);
    bool ok_pieces = split(o, rules, data, size, chunk, pieces);
    // Chunking must not change the answer, except that an error may come
    // earlier in the chunked run (it stops at the first bad byte).
    if (ok_whole != ok_pieces)
        std::abort();
    if (ok_whole && !(whole == pieces))
        std::abort();
    if (o.format == copy_format::text && !(whole == read_text(data, size, rules.text_marker_after_data_loads)))
        std::abort();
    if (o.format == copy_format::csv && !rules.csv_marker_ends_data && !whole.markers.empty())
        std::abort(); // 18 reads no CSV line as a marker
    return 0;
}
