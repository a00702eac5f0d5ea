// One destination of a routed load (the coordinator or a shard's server): its connection, transaction and COPY.
#pragma once

#include "copy_in.hpp"
#include "route_context.hpp"
#include "route_piece.hpp"
#include "core/error.hpp"

#include <optional>
#include <string>

namespace pgpipe {

/// What an earlier run with the same --resume-key left on a destination.
struct resume_found {
    committed_batches batches;        ///< the batches it committed there
    std::string shape;                ///< the shape of that load (resume_record.hpp)
    uint64_t reject_bytes = 0, reject_log_bytes = 0; ///< the reject files' sizes then (the coordinator's)
    bool reject_sizes_known = true;                  ///< ... unless an older pgcopy made a record
};

/// One destination: its connection, transaction and COPY, fed by its
/// worker thread; the failure of its current unit, under the pool's lock.
class destination_stream {
public:
    /// Destination d, index 0 being the coordinator.
    destination_stream(const route_context& context, route_destination d, size_t index)
        : m_context(context), m_d(std::move(d)), m_index(index) {}

    /// Connects, sets the session up and builds its COPY statement.
    void connect();
    /// --resume-key: reads what earlier runs committed here.
    void read_committed(const std::string& key);
    /// Opens a transaction unless one is open.
    void begin();
    /// This destination's rows of p, then the unit's end if p ends one.
    void send(const piece& p);
    /// --resume-key: the batch's record on this server, with the reject
    /// files' sizes once its rejects are written (the coordinator's), or NULLs.
    void record(const piece& p, const std::string& reject_sizes);
    /// Ends any COPY and transaction, reporting nothing.
    void rollback() noexcept;
    /// --two-phase: prepares the open transaction as gid.
    void prepare(const std::string& gid);
    /// --two-phase: rolls back the transaction prepared, reporting nothing.
    void rollback_prepared() noexcept;
    /// Commits the open (or prepared) transaction and counts its rows.
    void commit();
    /// --truncate: begins the transaction and empties this destination's tables.
    void truncate();
    /// The transaction ended on the server's side (a failed PREPARE).
    void end_transaction() { m_tx = false; }
    /// Names of pgcopy's prepared transactions left in this database.
    std::string prepared_leftovers();

    /// Its connection.
    connection& conn() { return *m_conn; }
    /// Where it loads.
    const route_destination& destination() const { return m_d; }
    /// A transaction is open (or prepared).
    bool in_transaction() const { return m_tx; }
    /// Its place among the destinations: 0 is the coordinator.
    size_t index() const { return m_index; }
    /// --two-phase: the name of its prepared transaction.
    const std::string& gid() const { return m_gid; }
    /// --resume-key: what earlier runs left here.
    const resume_found& found() const { return m_found; }
    /// Rows the server took in this unit.
    uint64_t unit_rows() const { return m_unit_rows; }
    /// Rows committed here so far.
    uint64_t rows_committed() const { return m_rows_committed; }
    /// The unit committed everywhere (or the load goes on without it here).
    void clear_unit() { m_unit_rows = 0; }

    /// This unit's failure here, if any.
    const std::optional<error>& failure() const { return m_failure; }
    /// The server's "line N" of that failure (0: unknown).
    uint64_t failed_row() const { return m_failed_row; }
    /// Its SQLSTATE.
    const std::string& failed_state() const { return m_failed_state; }
    /// Keeps e as this unit's failure, with its place.
    void note_failure(const error& e);
    /// The failure, said with its place in the input (kept for later calls).
    void place_failure(const error& e) { m_failure = e; }
    /// The failing row was set aside: the part goes again.
    void clear_failure() { m_failure.reset(); }

private:
    void finish_unit(const piece& p); // the COPY's end and a shard's progress record
    void check_unit_rows() const;     // throws unless the server took every row sent in this unit
    // What this destination's progress rows are kept under: the partition
    // (two partitions may share a remote table), or the parent.
    std::string record_target() const;

    const route_context& m_context;
    route_destination m_d;
    size_t m_index;
    std::optional<connection> m_conn;
    std::optional<copy_in_session> m_copy;
    std::string m_copy_sql, m_send;
    bool m_tx = false;
    uint64_t m_unit_sent = 0; // rows sent in this unit: the server must take each
    uint64_t m_unit_rows = 0; // rows the server took in this unit
    uint64_t m_rows_committed = 0;
    resume_found m_found;
    std::string m_gid;
    std::optional<error> m_failure; // this unit's, if any
    uint64_t m_failed_row = 0;      // the server's "line N" of it (0: unknown)
    std::string m_failed_state;     // its SQLSTATE
};

} // namespace pgpipe
