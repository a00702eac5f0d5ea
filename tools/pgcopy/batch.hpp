// The unit of pgcopy's engine: a batch of whole rows cut from one input, and
// the positions and counts that committed batches are recorded by.
#pragma once

#include "io/copy_format.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgpipe {

/// A row of a routed batch that no partition admits (--reject-file: set aside, 23514).
struct unplaced_row {
    size_t row;         ///< its place in the batch
    std::string detail; ///< "Partition key of the failing row contains (k) = (v)."
};

/// The rows of one batch: bytes of whole rows, and where each row starts.
/// The reader cuts it, the queue hands it on, one loader loads it, the
/// committer counts it. In a routed load the router cuts it into parts,
/// one per destination: each part is a batch of its own (its rows
/// gathered), which names the batch it was cut from (set again by the
/// loader: a batch moves through the queue); the loader loads every part,
/// and the batch commits once all its parts loaded.
struct batch {
    std::string bytes;          ///< whole rows (a binary batch without its file header)
    std::vector<size_t> starts; ///< row k is [starts[k], starts[k+1]); the last entry is the end
    size_t input_index = 0;     ///< which input the rows come from
    uint64_t first_line = 1;    ///< line number of row 0 in its input (1-based, the header counts)
    uint64_t first_offset = 0;  ///< byte offset of bytes[0] in its (decompressed) input
    std::string header;         ///< the input's binary file header or CSV header line
    bool end_marker = false;    ///< one row, a \. line with more data after it: rejected, never sent
    const char* refused_marker = nullptr; ///< ... or a \. line the server refuses: its message
    std::string prefix_hash;    ///< with a resume key: fingerprint of the input up to the batch's end
    std::string input_stamps;   ///< with a resume key: stamps of the inputs before this batch's (one loader)
    std::string content_hash;   ///< with a resume key and --jobs: fingerprint of the batch's bytes
    int64_t first_id = 0;       ///< --reserve-ids: the id of row 0 (row k gets first_id + k)
    std::shared_ptr<const std::string> copy_sql; ///< a script block's COPY, or a part's destination's (else the load's)
    bool rows_are_lines = false; ///< binary: "line" means row, not newline-counted
    // --- routed loads (router.hpp)
    std::vector<batch> parts;        ///< a routed batch's parts, one per destination (kept for their buffers)
    std::vector<unplaced_row> unplaced; ///< a routed batch's rows no partition admits (--reject-file)
    size_t destination = 0;          ///< a part: its destination (0: the coordinator)
    const batch* whole = nullptr;    ///< a part: the batch it was cut from (null: not a part)
    std::vector<uint32_t> source_rows; ///< a part: row k is row source_rows[k] of whole
    bool committed_before = false;   ///< a part: an earlier run of the key committed it at its destination

    /// Bytes of the rows.
    uint64_t size() const { return starts.back() - starts.front(); }
    /// The rows' bytes, as sent.
    std::string_view rows_bytes() const { return std::string_view(bytes).substr(starts.front(), size()); }
    /// A routed part with rows that no earlier run committed at its destination.
    bool to_load() const { return rows() > 0 && !committed_before; }
    /// Byte offset in the input just past the last row.
    uint64_t end_offset() const { return first_offset + starts.back(); }
    /// Rows held.
    size_t rows() const { return starts.empty() ? 0 : starts.size() - 1; }
    /// Row k's bytes, its line end included.
    std::string_view row(size_t k) const { return std::string_view(bytes).substr(starts[k], starts[k + 1] - starts[k]); }
    /// Physical line of row k: rows may hold newlines (CSV quotes, escaped
    /// text newlines), and editors count those. Remembers the last answer,
    /// since rejects come mostly in order.
    uint64_t line_of(size_t k) const {
        if (whole)
            return whole->line_of(source_rows[k]);
        if (rows_are_lines)
            return first_line + k;
        if (k < m_memo_row) {
            m_memo_row = 0;
            m_memo_line = first_line;
        }
        m_memo_line += count_newlines(bytes.data() + starts[m_memo_row], starts[k] - starts[m_memo_row]);
        m_memo_row = k;
        return m_memo_line;
    }
    /// Byte offset of row k in its input.
    uint64_t offset_of(size_t k) const { return whole ? whole->offset_of(source_rows[k]) : first_offset + starts[k]; }
    /// The id reserved for row k (--reserve-ids).
    int64_t id_of(size_t k) const { return whole ? whole->id_of(source_rows[k]) : first_id + static_cast<int64_t>(k); }
    /// Row k as read (a part's rows may carry their reserved ids in front).
    std::string_view raw_row(size_t k) const { return whole ? whole->row(source_rows[k]) : row(k); }
    /// Row 0 now starts at line: the line memo (at row 0 when this is
    /// called) follows it.
    void set_first_line(uint64_t line) {
        first_line = line;
        m_memo_line = line;
    }

private:
    mutable size_t m_memo_row = 0;
    mutable uint64_t m_memo_line = 1;
};

/// Where the load stands in the input, as recorded with each commit.
struct position {
    size_t input_index = 0; ///< the input
    uint64_t offset = 0;    ///< byte offset in it (decompressed)
    uint64_t line = 1;      ///< the line that starts there
};

/// Bytes [start, end) of an input that an earlier run of --jobs committed.
struct committed_range {
    size_t input_index;  ///< the input
    uint64_t start, end; ///< byte offsets
    std::string hash; ///< fingerprint of the bytes (empty: recorded by an older pgcopy)
};

/// What an earlier run of a routed load committed on one destination:
/// (input, start offset) -> (end offset, fingerprint).
using committed_batches = std::map<std::pair<size_t, uint64_t>, std::pair<uint64_t, std::string>>;

/// What committed batches hold.
struct batch_counts {
    uint64_t rows = 0, rejected = 0, seen = 0, batches = 0; ///< loaded, rejected, sent, and batches
};

/// What an earlier run of the resume key committed, as its progress record says.
struct resume_point {
    bool recorded = false;                 ///< the key has a progress row
    bool finished = false;                 ///< ... and that run finished the load
    position from;                         ///< the committed prefix's end
    std::string hash;                      ///< ... its fingerprint (empty: none recorded)
    std::vector<committed_range> ranges;   ///< --jobs batches committed past it
    std::string shape;                     ///< the recorded shape (empty: none)
    std::string stamps;                    ///< the recorded input stamps
};

/// One rejected row, as it goes to the reject file and its log.
struct reject {
    std::string raw;      ///< the row as read, with its line end
    std::string log_line; ///< its line in FILE.log
    size_t destination = 0; ///< a routed load: the part it was set aside from (0: the coordinator's, or unplaced)
};

/// Thrown into the reader when a loader has failed: the loader's own error is the one reported.
struct load_stopped {};

} // namespace pgpipe
