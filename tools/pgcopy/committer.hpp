// Commit accounting of pgcopy's engine: what committed (positions, counts,
// the summary), the progress record, the reject files' committed sizes,
// rejects taken back when their batch does not commit, --max-rejects.
#pragma once

#include "batch.hpp"
#include "load_context.hpp"
#include "core/progress.hpp"
#include "core/stats.hpp"
#include "io/reject_sink.hpp"
#include "pg/connection.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pgpipe {

/// A loader's hold on the reject files, from writing a batch's rejects to
/// its COMMIT (and through the recovery when the connection is lost in
/// between): the files then hold committed batches' rejects only, up to
/// the recorded sizes. Batches without rejects commit without it.
struct reject_claim {
    std::unique_lock<std::mutex> lock;    ///< on the committer's reject files
    uint64_t rows_size = 0, log_size = 0; ///< the sizes before this batch's rejects
    /// Whether the claim is held.
    bool held() const { return lock.owns_lock(); }
};

/// Counts what committed and records it with each batch, under a lock of
/// its own that no statement is run under (but save_progress, in the
/// loader's transaction, reads one loader's counts).
class committer {
public:
    /// The accounting of the load ctx describes.
    explicit committer(const load_context& ctx);
    committer(const committer&) = delete;
    committer& operator=(const committer&) = delete;

    // --- setup
    /// Reads (and makes, or upgrades) the key's progress tables: counts of
    /// what earlier runs committed, and where they stopped.
    resume_point read_progress(connection& c);
    /// --jobs: the load's row, which a rerun needs to know the key's load.
    void ensure_progress_row(connection& c);
    /// Opens --reject-file, cut back to the committed sizes.
    void open_rejects();
    /// The progress line, shown or not; loaders count per loader with --jobs.
    void start_progress(bool show);
    /// The load goes on from p (an earlier run's committed prefix).
    void resume_at(const position& p) { m_committed = p; }

    // --- per batch, from the loaders
    /// Throws the --max-rejects stop if pending more rejects cross the limit
    /// (a percentage only at_batch_end: on whole batches).
    void check_reject_limit(const batch& b, uint64_t pending, bool at_batch_end);
    /// Takes the claim and writes (and syncs) the batch's rejects before it commits.
    void write_rejects(reject_claim& claim, const batch& b, const std::vector<reject>& rejects);
    /// The rejects of a batch that did not commit leave the files, and the claim is let go.
    void take_back(reject_claim& claim);
    /// A routed batch whose COMMIT failed part way: the rejects of the parts
    /// that did not commit leave the files (the coordinator's, and lines
    /// no part took, stay when any part committed); the claim is let go.
    void take_back_keeping(reject_claim& claim, const batch& b, const std::vector<reject>& rejects,
                           const std::vector<bool>& committed);
    /// The reject files' sizes as a batch's record keeps them, "ROWS, LOG":
    /// with the batch's rejects once the claim holds them, else the
    /// committed sizes ("NULL, NULL" without --reject-file).
    std::string reject_sizes_sql(const reject_claim& claim);
    /// A routed load resumes: the reject files start at these sizes.
    void resume_rejects_at(uint64_t rows_size, uint64_t log_size) { m_reject_size = rows_size, m_log_size = log_size; }
    /// Records the batch's end in its own transaction (with a key).
    void save_progress(connection& c, const batch& b, const position& after, uint64_t loaded, uint64_t rejected,
                       const reject_claim& claim);
    /// After a lost connection: whether the batch committed, as the progress tables say.
    bool batch_committed(connection& c, const batch& b);
    /// A committed batch in the counters (and its rejects' sizes as committed).
    void count_committed(const batch& b, const position& after, uint64_t loaded, uint64_t rejected,
                         const reject_claim& claim, unsigned loader, uint64_t loader_rows);
    /// One transaction: a batch sent into the open COPY.
    void count_streamed(const batch& b);
    /// One transaction: rows the server took in a COPY that ended.
    void count_stream_rows(uint64_t rows);
    /// The reader read bytes (raw: of the input as stored, compressed or not).
    void count_read(uint64_t bytes, uint64_t raw);
    /// Offers the progress line its state.
    void show_progress();

    // --- the end
    /// The one transaction failed: nothing committed, the reject files emptied.
    void forget_all();
    /// The binary trailer of the reject file.
    void finish_rejects();
    /// The key's load finished: its counts into its row (or the row gone, for a run's own key).
    void record_finished(connection& c, const std::string& stamps);
    /// What committed, for a failure's detail (the loaders stopped, or the lock held).
    std::string committed_so_far() const;
    /// The summary (the loaders stopped).
    load_summary& summary() { return m_summary; }
    /// Rows seen in committed batches (loaded + rejected + conflicts).
    uint64_t rows_sent() const { return m_rows_sent; }
    /// Bytes the reader read of the inputs as stored.
    uint64_t input_bytes() const { return m_state.input_bytes; }
    /// Clears the progress line.
    void finish_progress() { m_meter.finish(); }

private:
    void append_rejects(const batch& b, const std::vector<reject>& rejects);
    void add_batch_counts(connection& c);
    std::vector<committed_range> read_ranges(connection& c);
    void read_progress_row(connection& c, resume_point& p);

    const load_context& m_ctx;
    std::mutex m_mutex;        // the counters below, the progress line
    std::mutex m_reject_mutex; // held by a reject_claim
    load_summary m_summary;
    uint64_t m_rows_sent = 0;  // rows seen in committed batches (loaded + rejected + conflicts)
    uint64_t m_reject_size = 0, m_log_size = 0; // committed sizes of the reject files
    batch_counts m_from_batches; // what --jobs batch rows of an earlier run add to load_progress's counts
    position m_committed;      // the end of the last committed batch (in input order with one loader)
    progress_state m_state;
    progress_meter m_meter{false};
    std::unique_ptr<reject_sink> m_rejects; // --reject-file
};

} // namespace pgpipe
