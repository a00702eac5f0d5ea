// The router of a routed load: each row's key read, its destination found, the parts gathered.
#include "router.hpp"

#include "fingerprint.hpp"
#include "transcode.hpp"
#include "core/text.hpp"
#include "io/copy_format.hpp"

#include <charconv>

namespace pgpipe {

router::router(const load_context& ctx) : m_ctx(ctx), m_plan(*ctx.route), m_fields(ctx.format) {}

std::string no_partition_message(const std::string& table) {
    return "no partition of relation \"" + table + "\" found for row";
}

bool router::read_key(std::string_view row) {
    if (!m_fields.read(row, m_plan.key_field + 1) || m_fields.size() <= m_plan.key_field)
        return false; // too few fields, or a quote left open: the server says so
    if (m_fields.is_null(m_plan.key_field)) {
        m_key.null = true;
        return true;
    }
    m_key.null = false;
    // Characters of the server's encoding: UTF-8 counts characters, others
    // bytes (never fewer than characters).
    const std::string_view value = m_fields.value(m_plan.key_field);
    if (m_plan.key_max_chars && (m_plan.key_utf8 ? utf8_length(value) : value.size()) > m_plan.key_max_chars)
        return false; // varchar(n) cuts trailing spaces past n, or refuses: the server's to decide
    return parse_key(m_plan.kind, value, m_key);
}

std::string router::key_text() const {
    return "Partition key of the failing row contains (" + m_plan.key_column + ") = (" +
           (m_key.null ? std::string("null") : std::string(m_fields.value(m_plan.key_field))) + ").";
}

// The rows as the destinations take them: as read, or (ids reserved) each
// with its id in front, which may be the key (m_id_starts then set).
const std::string& router::routed_bytes(const batch& b) {
    m_id_starts.clear();
    if (!m_ctx.sequence)
        return b.bytes;
    m_with_ids.clear(); // prepend_ids appends
    prepend_ids(b.bytes, b.starts.data(), b.rows(), m_ctx.format.format, delimiter_of(m_ctx.format),
                m_ctx.sequence->type, b.first_id, m_with_ids);
    m_id_starts.push_back(0);
    char digits[24];
    for (size_t k = 0; k < b.rows(); ++k) {
        const auto id = b.first_id + static_cast<int64_t>(k);
        const size_t id_size = static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, id).ptr - digits);
        m_id_starts.push_back(m_id_starts.back() + id_size + 1 + (b.starts[k + 1] - b.starts[k]));
    }
    return m_with_ids;
}

void router::route(batch& b) {
    const size_t destinations = m_plan.destinations.size();
    b.unplaced.clear();
    b.parts.resize(destinations);
    for (size_t d = 0; d < destinations; ++d) { // cleared, not replaced: a part keeps its buffers
        batch& part = b.parts[d];
        part.bytes.clear();
        part.starts.assign(1, 0);
        part.source_rows.clear();
        part.destination = d;
        part.whole = &b;
        part.input_index = b.input_index;
        part.committed_before = false;
    }
    mark_committed(b);
    if (b.end_marker || b.refused_marker)
        return; // its one line is rejected, never routed
    const std::string& bytes = routed_bytes(b);
    const std::vector<size_t>& starts = m_id_starts.empty() ? b.starts : m_id_starts;
    for (size_t k = 0; k < b.rows(); ++k) {
        const std::string_view row(bytes.data() + starts[k], starts[k + 1] - starts[k]);
        size_t destination = 0; // a key pgcopy cannot read: the server routes it
        if (read_key(row)) {
            const std::optional<size_t> d = m_plan.destination_of(m_key);
            if (!d) {
                if (!m_ctx.rejecting())
                    throw error(exit_status::server_error, no_partition_message(m_ctx.o.table) + " at " + m_ctx.where(b, k),
                                key_text(), "add a partition (or a DEFAULT one) for it, or set such rows aside with --reject-file");
                if (!b.parts[0].committed_before) // else the run that committed the batch rejected it
                    b.unplaced.push_back({k, key_text()});
                continue;
            }
            destination = *d;
        }
        batch& part = b.parts[destination];
        if (part.committed_before)
            continue;
        part.bytes.append(row);
        part.starts.push_back(part.bytes.size());
        part.source_rows.push_back(static_cast<uint32_t>(k));
    }
}

// Which destinations committed this batch in an earlier run (--resume-key).
void router::mark_committed(batch& b) {
    if (m_ctx.key.empty())
        return;
    b.content_hash = fingerprint_of(b.bytes.data() + b.starts.front(), b.size());
    for (size_t d = 0; d < m_ctx.routed_found.size(); ++d) {
        auto it = m_ctx.routed_found[d].find({b.input_index, b.offset_of(0)});
        if (it == m_ctx.routed_found[d].end())
            continue;
        if (it->second.first != b.end_offset() || it->second.second != b.content_hash)
            throw local_error("resume key \"" + m_ctx.key + "\": " + m_ctx.inputs[b.input_index] +
                                  " is not what the first run read (bytes " + std::to_string(b.offset_of(0)) + " to " +
                                  std::to_string(b.end_offset()) + " differ on " + m_plan.destinations[d].name + ")",
                              "the input changed, or the batch options did",
                              "rerun with the same input and batch options, or use a new --resume-key");
        b.parts[d].committed_before = true;
    }
}

} // namespace pgpipe
