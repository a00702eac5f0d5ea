// A routed load's unit commit: settling a unit sent everywhere, its rejects, two-phase commit, and a unit's failure.
#pragma once

#include "route_context.hpp"
#include "route_pool.hpp"
#include "route_reader.hpp"
#include "core/stats.hpp"
#include "io/reject_sink.hpp"

#include <memory>
#include <string>
#include <vector>

namespace pgpipe {

/// "N rows in M batches were committed", or that nothing was.
std::string committed_text(const load_summary& summary);
/// A failure's detail, then what committed (the detail alone when the failure has none).
std::string detail_and_committed(const error& e, const load_summary& summary);

/// Commits a routed load's units: once every destination sent a unit, its
/// failed rows set aside (--reject-file), the reject limit checked, its
/// rejects written, then every open transaction commits (--two-phase:
/// prepared everywhere first) or the unit's rejects are taken back.
class unit_committer {
public:
    /// Counts go to summary; the places of failed rows come from reader.
    unit_committer(const route_context& context, destination_streams& streams, piece_pool& pool,
                   route_reader& reader, load_summary& summary);
    /// Opens the reject files (cut back to what committed batches
    /// rejected) and names --two-phase's transactions.
    void open();
    /// p, handed on, is the unit to settle next.
    void adopt(piece* p) { m_unsettled = p; }
    /// The unit handed on and not yet settled, or null.
    piece* unsettled() const { return m_unsettled; }
    /// Units committed so far.
    uint64_t units() const { return m_units; }
    /// The unit handed on: every destination took it, then all commit or none.
    void settle();
    /// Commits every open transaction (p: the unit, null for the TRUNCATE
    /// of an empty input); the rejects of parts that do not are taken back.
    void commit(piece* p);
    /// A destination's failure ends the load: every open transaction rolls back.
    [[noreturn]] void fail_unit(destination_stream& d, const piece* unit);

private:
    void reject_failed_rows(piece& p);
    // The row (1-based, among the destination's rows of p) that the
    // server's CONTEXT line names, or 0: CSV rows may span lines it counts.
    uint64_t row_of_line(const piece& p, size_t destination, uint64_t line) const;
    void record_unit(const piece& p);
    void prepare_all(const std::vector<destination_stream*>& open);
    void write_rejects(const piece& p);
    void append_rejects(const piece& p, const std::vector<bool>& parts);
    void take_back_rejects(const piece& p, const std::vector<destination_stream*>& open, size_t committed);
    void check_reject_limit(const piece& p);
    [[noreturn]] void commit_failed(const error& e, const std::vector<destination_stream*>& open, size_t k,
                                    const std::string& done, bool lost);

    const route_context& m_context;
    destination_streams& m_streams;
    piece_pool& m_pool;
    route_reader& m_reader;
    load_summary& m_summary;
    std::unique_ptr<reject_sink> m_rejects;
    uint64_t m_reject_rows_size = 0, m_reject_log_size = 0; // before the unit settling wrote its rejects
    piece* m_unsettled = nullptr;                           // the unit handed on and not yet committed
    uint64_t m_rows_settled = 0, m_units = 0;
    std::string m_gid_prefix; // --two-phase
};

} // namespace pgpipe
