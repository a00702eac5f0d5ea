// A loader of pgcopy's engine: one connection loading whole batches (a COPY
// per batch, or per range around rejected rows, in savepoints), committed
// with the load's progress, retried after a lost connection; or, in one
// transaction, one streamed COPY. In a routed load, a batch's parts loaded
// at every destination and committed together (destination_set.hpp).
#pragma once

#include "batch.hpp"
#include "batch_queue.hpp"
#include "committer.hpp"
#include "copy_stream.hpp"
#include "destination_set.hpp"
#include "load_context.hpp"
#include "pg/connection.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// One connection loading the batches the queue gives it (what --jobs counts).
class loader {
public:
    /// Loader index of the load ctx describes, counting into c, taking its truncate from q.
    loader(const load_context& ctx, committer& c, batch_queue& q, unsigned index);
    loader(const loader&) = delete;
    loader& operator=(const loader&) = delete;

    /// Connects, as ctx.login says once set (the first loader may ask for a
    /// password); in a routed load, to every destination too.
    void connect();
    /// A routed load's destinations (null: not routed).
    destination_set* destinations() { return m_destinations.get(); }
    /// The COPY statements (and an upsert's staging table) of this connection.
    void prepare_statements();
    /// Loads b in a transaction of its own (a savepoint with
    /// --single-transaction), with --retries after a lost connection.
    void commit_batch(batch& b);
    /// One transaction without batch options: the COPY stays open from batch
    /// to batch of one input (or script block), as one streamed COPY.
    void stream_batch(const batch& b);
    /// Ends the open COPY, if any.
    void end_stream();
    /// Drops the open COPY (the transaction is being rolled back).
    void abort_stream() { m_stream.abort(); }
    /// The connection (connected).
    connection& conn() { return *m_conn; }
    /// Whether it connected.
    bool connected() const { return m_conn.has_value(); }
    /// Rows this loader committed, for progress and --stats.
    uint64_t rows_committed() const { return m_rows_committed; }
    /// --send-binary: COPYs sent as binary, and as text.
    uint64_t copies_binary() const { return m_copies_binary; }
    /// --send-binary: COPYs sent as text (a value the encoder cannot encode exactly).
    uint64_t copies_text() const { return m_copies_text; }

private:
    struct range_result {
        bool ok = false;
        uint64_t rows = 0;
        std::optional<server_error> failure;
    };
    // What the server said of a batch's rows: the row it names, if any,
    // and its message and detail (blamed on a reserved id where that is to blame).
    struct row_refusal {
        std::optional<size_t> row;
        std::string message, detail;
    };
    row_refusal refusal_of(const batch& b, size_t a, size_t z, const server_error& e) const;
    error batch_failure(const batch& b, const row_refusal& r, const server_error& e) const;
    void send_parts(batch& b);
    void stream_parts(batch& b);
    void attempt_batch(batch& b);
    void abandon_batch(const std::exception& failure);
    void attempt_routed(batch& b);
    void load_parts(batch& b);
    void commit_parts(batch& b);
    void reject_unroutable(batch& b);
    connection& conn_for(const batch& b) { return b.whole ? m_destinations->link(b.destination).conn() : *m_conn; }
    void load_batch(batch& b);
    uint64_t load_range(batch& b, size_t a, size_t z);
    range_result copy_range(batch& b, size_t a, size_t z);
    std::string_view rows_to_send(const batch& b, size_t a, size_t z, bool& binary);
    void reject_row(batch& b, size_t k, const std::string& sqlstate, const std::string& message,
                    const std::string& detail);
    bool blame_reserved_id(const batch& b, size_t k, const server_error& e, std::string& message,
                           std::string& detail) const;
    void count_committed(const batch& b);
    bool recover_after_lost_connection(batch& b, const server_error& e, int& attempt);
    void reconnect(batch& b, const server_error& e, int& attempt);

    const load_context& m_ctx;
    committer& m_committer;
    batch_queue& m_queue;
    const unsigned m_index;
    std::optional<connection> m_conn;
    std::string m_copy_target_sql, m_copy_stage_sql, m_insert_sql;
    std::string m_copy_binary_sql;          // --send-binary: the same COPY, binary
    std::optional<text_to_binary> m_encoder; // --send-binary: this loader's own (its buffers)
    std::string m_encoded;                   // the rows of a range as sent, when pgcopy rewrote them
    std::vector<reject> m_pending_rejects;   // the batch's, until it commits
    uint64_t m_batch_loaded = 0;             // rows the batch loaded so far
    reject_claim m_claim;                    // held by a batch with rejects, up to its COMMIT
    uint64_t m_rows_committed = 0;
    uint64_t m_copies_binary = 0, m_copies_text = 0;
    copy_stream m_stream;                    // one transaction: the open COPY
    std::unique_ptr<destination_set> m_destinations; // a routed load's
};

} // namespace pgpipe
