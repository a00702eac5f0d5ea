// A routed load's unit of rows (the piece) and the line log that names a destination's rows by their input lines.
#pragma once

#include "io/reject_sink.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgpipe {

/// The rows the routed reader cut, and where each goes.
struct piece {
    std::string bytes;
    std::vector<size_t> starts;                 ///< row k is [starts[k], starts[k+1])
    std::vector<std::vector<uint32_t>> rows_of; ///< per destination, its rows in order
    std::vector<bool> skip;                     ///< per destination: an earlier run committed this batch there
    std::vector<uint64_t> lines;                ///< each row's line in its input (batches only)
    size_t input_index = 0;
    uint64_t first_offset = 0; ///< of bytes[0] in the input
    bool ends_unit = false;    ///< the last piece of a batch (or of the load)
    std::string hash;          ///< --resume-key: fingerprint of the batch's bytes
    const char* refused_marker = nullptr; ///< its one row is a \. line the server refuses: the reject's message
    /// --reject-file: the rows one destination's part of the batch set
    /// aside (the coordinator's: rows fitting no partition, \. lines),
    /// written before the batch commits, taken back for a part that does not.
    struct part_rejects {
        std::string rows, log;
        uint64_t count = 0;
    };
    std::vector<part_rejects> rejects; ///< per destination
    unsigned pending = 0;              ///< destinations yet to send it (under the pool's lock)

    /// Rows cut into it.
    size_t rows() const { return starts.empty() ? 0 : starts.size() - 1; }
    /// Row k's bytes, with its line end.
    std::string_view row(size_t k) const { return std::string_view(bytes).substr(starts[k], starts[k + 1] - starts[k]); }
    /// The input's offset of its first row.
    uint64_t start_offset() const { return first_offset + starts.front(); }
    /// The input's offset past its last row.
    uint64_t end_offset() const { return first_offset + starts.back(); }
    /// Rows its parts set aside.
    uint64_t rejected() const {
        uint64_t n = 0;
        for (const auto& r : rejects)
            n += r.count;
        return n;
    }
    /// Sets row_bytes aside in destination's part, with its reject log line
    /// (input, line and byte offset, SQLSTATE, message and detail).
    void reject(size_t destination, std::string_view row_bytes, const std::string& input, uint64_t line,
                uint64_t offset, std::string_view sqlstate, std::string_view message, std::string_view detail) {
        reject_sink::add_row(rejects[destination].rows, row_bytes, true); // text or CSV: a routed load reads no binary
        rejects[destination].log += reject_sink::log_line(input, line, std::to_string(offset), sqlstate, message, detail);
        ++rejects[destination].count;
    }
};

/// The input lines of the rows one destination was sent in the current
/// unit, a varint of the difference from the previous one per row (a byte,
/// mostly): a server's "line N" of its COPY names the N-th, and this finds
/// its place. Capped, so that one transaction over a huge input stays
/// bounded: past the cap a failure names the destination's row only.
class line_log {
public:
    static constexpr size_t cap = 64 << 20; ///< bytes kept at most
    /// Forgets the unit's lines.
    void clear() { m_bytes.clear(), m_last = 0; }
    /// Notes the next row's line (counted over all inputs).
    void add(uint64_t global_line) {
        if (m_bytes.size() >= cap)
            return;
        uint64_t d = global_line - m_last;
        m_last = global_line;
        do {
            m_bytes.push_back(static_cast<char>((d & 0x7f) | (d > 0x7f ? 0x80 : 0)));
            d >>= 7;
        } while (d);
    }
    /// The line of row n (1-based), or 0 when it is not known.
    uint64_t line_of(uint64_t n) const {
        uint64_t line = 0, row = 0;
        for (size_t i = 0; i < m_bytes.size() && row < n; ++row) {
            uint64_t d = 0;
            for (int shift = 0; i < m_bytes.size(); shift += 7) {
                const auto byte = static_cast<unsigned char>(m_bytes[i++]);
                d |= static_cast<uint64_t>(byte & 0x7f) << shift;
                if (!(byte & 0x80))
                    break;
            }
            line += d;
        }
        return row == n ? line : 0;
    }

private:
    std::string m_bytes;
    uint64_t m_last = 0;
};

/// What an earlier run committed on one destination: (input, start) -> (end, hash).
using committed_batches = std::map<std::pair<size_t, uint64_t>, std::pair<uint64_t, std::string>>;

} // namespace pgpipe
