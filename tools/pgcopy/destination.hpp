// A loader's link to one destination of a routed load (the coordinator or a
// shard's server): its connection, transaction, COPY statement and records.
#pragma once

#include "batch.hpp"
#include "copy_stream.hpp"
#include "load_context.hpp"
#include "route_plan.hpp"
#include "pg/connection.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace pgpipe {

/// What an earlier run with the same --resume-key left on a destination.
struct resume_found {
    committed_batches batches;        ///< the batches it committed there
    std::string shape;                ///< the shape of that load (resume_record.hpp)
    uint64_t reject_bytes = 0, reject_log_bytes = 0; ///< the reject files' sizes then (the coordinator's)
    bool reject_sizes_known = true;                  ///< ... unless an older pgcopy made a record
};

/// One destination as one loader reaches it: a connection of its own (a
/// shard's server logs in as the user mapping's user), a transaction open
/// while the loader's batch loads there, and the batch's record in it.
class destination_link {
public:
    /// Destination index (0: the coordinator) of ctx's routing.
    destination_link(const load_context& ctx, size_t index);
    destination_link(const destination_link&) = delete;
    destination_link& operator=(const destination_link&) = delete;

    /// Connects in client_encoding (the coordinator's), sets the session up, builds its COPY.
    void connect(const std::string& client_encoding);
    /// --resume-key (or --retries' own key): reads what earlier runs committed here.
    resume_found read_committed(const std::string& key);
    /// Names of pgcopy's prepared transactions left in this database.
    std::string prepared_leftovers();
    /// Opens a transaction unless one is open.
    void begin();
    /// --truncate: empties this destination's tables in the open transaction.
    void truncate();
    /// The part's record (with a key), in the part's transaction: the
    /// whole batch's range and fingerprint, the rows loaded, and the reject
    /// files' sizes (the coordinator's, "NULL, NULL" elsewhere). Kept
    /// until write_records: a COPY may be open on the connection.
    void record(const std::string& key, const batch& whole, uint64_t rows, const std::string& reject_sizes);
    /// The records kept, written in the open transaction (before its COMMIT).
    void write_records();
    /// One transaction: the COPY kept open from part to part, begun (or
    /// begun again, for another input) for part; its rows are to follow.
    copy_stream& stream_for(const batch& part);
    /// Ends the open COPY, checking that the server took every row sent.
    void end_stream();
    /// After a lost connection: whether the whole batch's part committed here.
    bool has_committed(const std::string& key, const batch& whole);
    /// --retries: the run's own records go at the end.
    void forget(const std::string& key);
    /// --two-phase: prepares the open transaction as gid.
    void prepare(const std::string& gid);
    /// --two-phase: rolls back the transaction prepared, reporting nothing.
    void rollback_prepared() noexcept;
    /// Commits the open (or prepared) transaction.
    void commit();
    /// Ends any transaction, reporting nothing.
    void rollback() noexcept;
    /// The transaction ended on the server's side (a failed PREPARE).
    void end_transaction() { m_tx = false; }
    /// Throws unless the server took every row of a part (a shard of another
    /// major may read an end-of-data marker in it and drop the rest).
    void check_rows_taken(uint64_t taken, uint64_t sent) const;

    /// Its connection.
    connection& conn() { return *m_conn; }
    /// Whether it is connected and usable.
    bool ok() const { return m_conn && m_conn->ok(); }
    /// Where it loads.
    const route_destination& destination() const { return m_d; }
    /// Its place among the destinations: 0 is the coordinator.
    size_t index() const { return m_index; }
    /// A transaction is open (or prepared).
    bool in_transaction() const { return m_tx; }
    /// --two-phase: the name of its prepared transaction.
    const std::string& gid() const { return m_gid; }
    /// The COPY of a part's rows here.
    const std::shared_ptr<const std::string>& copy_sql() const { return m_copy_sql; }
    /// "PARTITION on SERVER", or the parent's name, for messages.
    std::string label() const { return m_d.name + (m_d.server.empty() ? "" : " on " + m_d.server); }

private:
    // What this destination's progress rows are kept under: the partition
    // (two partitions may share a remote table), or the parent.
    std::string record_target() const;

    const load_context& m_ctx;
    const route_destination& m_d;
    const size_t m_index;
    std::optional<connection> m_conn;
    std::shared_ptr<const std::string> m_copy_sql;
    copy_stream m_stream;       // one transaction: the open COPY
    uint64_t m_stream_rows = 0; // ... and the rows sent into it
    std::string m_records;      // records kept for write_records: "(…), (…)"
    bool m_tx = false;
    std::string m_gid;
};

} // namespace pgpipe
