// One loader's destinations in a routed load: a link to each, the router,
// and a batch's commit once all its parts loaded (--two-phase: prepared
// everywhere first), with what committed where when it fails.
#pragma once

#include "batch.hpp"
#include "destination.hpp"
#include "load_context.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace pgpipe {

/// The destinations one loader loads a routed batch's parts into.
class destination_set {
public:
    /// Links to every destination of ctx's routing.
    explicit destination_set(const load_context& ctx);

    /// Connects every link not connected (all at first; after a lost
    /// connection, those lost), in the coordinator's client encoding.
    void connect(const std::string& client_encoding);
    /// What earlier runs of key committed, per destination (and refuses a
    /// destination left with prepared transactions of an earlier --two-phase load).
    std::vector<resume_found> read_committed(const std::string& key);
    /// Refuses to start while an earlier --two-phase load left transactions prepared.
    void check_prepared_leftovers();
    /// Takes the routed batch b (router.hpp): its parts name it, and parts
    /// found committed after a lost connection are marked so.
    void adopt(batch& b);
    /// Destination d's link.
    destination_link& link(size_t d) { return *m_links[d]; }
    /// --truncate: every destination's tables emptied in the batch's transactions.
    void truncate_all();
    /// A try at a batch starts: its parts' counts from zero (those found
    /// committed after a lost connection stay counted).
    void begin_attempt() { std::fill(m_part_rows.begin(), m_part_rows.end(), 0); }
    /// Rows of the batch loaded at all its destinations.
    uint64_t batch_rows() const;
    /// A part's rows loaded at its destination.
    void count_part(size_t d, uint64_t rows) { m_part_rows[d] += rows, m_open_rows[d] += rows; }
    /// With a key: each open part's record, the coordinator's (always
    /// open: it holds the batch's rejects' sizes) with reject_sizes.
    void record_all(const batch& b, const std::string& key, const std::string& reject_sizes);
    /// One transaction: ends every destination's open COPY (a refused row
    /// fails the load here, named by its FILE:LINE).
    void end_streams();
    /// Ends the open COPYs and writes the records kept, then commits every
    /// open transaction, the coordinator's first (--two-phase:
    /// all prepared first). On failure throws, with committed[d] saying
    /// where the batch's part committed (or may have: a lost reply).
    void commit_all(std::vector<bool>& committed);
    /// Every open transaction rolled back (prepared ones too), reporting nothing.
    void rollback_all() noexcept;
    /// After a lost connection: which parts of b committed, as the records
    /// say; true when every destination with a transaction for it did.
    bool learn_committed(const batch& b, const std::string& key);
    /// The batch ended: part counts cleared, nothing found committed.
    void clear_batch();
    /// Destinations.
    size_t size() const { return m_links.size(); }
    /// Rows committed at destination d by this loader.
    uint64_t rows_committed(size_t d) const { return m_rows_committed[d]; }

private:
    void prepare_all(const std::vector<destination_link*>& open);
    [[noreturn]] void commit_failed(const error& e, const std::vector<destination_link*>& open, size_t k, bool lost);

    const load_context& m_ctx;
    std::vector<std::unique_ptr<destination_link>> m_links;
    std::vector<uint64_t> m_part_rows;      // the batch's rows loaded per destination
    std::vector<uint64_t> m_open_rows;      // rows in the open transactions (one transaction: every batch's)
    std::vector<uint64_t> m_rows_committed; // per destination
    std::vector<bool> m_found_now;          // after a lost connection: parts of the batch that committed
    uint64_t m_found_rows = 0;              // ... and their rows
    std::string m_gid_prefix;               // --two-phase: this loader's prepared transactions' names
    uint64_t m_batches = 0;                 // ... numbered by batch
};

} // namespace pgpipe
