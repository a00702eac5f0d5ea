// The bounded hand-off of batches from the reader to the loaders, the
// spare buffers that come back, and the stop: closed, stopped, the first failure.
#pragma once

#include "batch.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

namespace pgpipe {

/// Holds at most one batch per loader (memory stays at loaders + 2
/// batches: those loading, the one being read, one spare buffer). Every
/// call is thread-safe; none holds the lock across a statement, so that
/// loaders take batches while another commits.
class batch_queue {
public:
    /// A queue feeding loaders loaders.
    explicit batch_queue(unsigned loaders) : m_loaders(loaders) {}
    batch_queue(const batch_queue&) = delete;
    batch_queue& operator=(const batch_queue&) = delete;

    /// Called about every 250 ms while a wait goes on (the lock held): the progress line.
    void on_wait(std::function<void()> tick) { m_tick = std::move(tick); }
    /// One transaction: push gives each batch to take in the caller's own
    /// thread (a hand-over per batch would cost more than it overlaps).
    void take_inline(std::function<void(batch&)> take) { m_inline = std::move(take); }
    /// A routed load: each batch is routed in the pusher's thread before it
    /// waits for a loader (so the next batch is routed while they load).
    void route_with(std::function<void(batch&)> route) { m_route = std::move(route); }
    /// --truncate: the first batch commits alone, its TRUNCATE in its transaction.
    void hold_first_batch(bool truncate) { m_truncate_pending = truncate; }
    /// Whether the table is still to be truncated (by the first batch's transaction).
    bool truncate_pending() const;
    /// The first batch committed: its TRUNCATE with it.
    void truncate_done();

    /// Hands b (if it holds rows) to the loaders, waiting while each has
    /// one. Throws load_stopped once a loader failed or the queue stopped.
    void push(batch&& b);
    /// A loader's next batch into b; false when there is none to come.
    bool take(batch& b);
    /// A loader finished b: its buffers are kept for the reader.
    void done(batch&& b);
    /// An empty batch, with a loaded batch's buffers when one is spare.
    batch spare();
    /// Waits until every batch pushed so far committed; more may follow.
    /// Throws load_stopped once a loader failed or the queue stopped.
    void wait_committed();
    /// No more batches come: waits until those pushed committed (or a loader failed).
    void close_and_drain();
    /// The loaders take no more batches; those being loaded finish.
    void stop();
    /// A loader failed: the first failure is kept, every wait ends.
    void fail(std::exception_ptr failure);
    /// The first loader's failure, or null.
    std::exception_ptr failure() const;
    /// Whether a batch went out.
    bool dispatched() const;

private:
    void keep_spare(batch&& b); // lock held
    void tick() {
        if (m_tick)
            m_tick();
    }

    const unsigned m_loaders;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<batch> m_queue;
    std::vector<batch> m_spare; // loaded batches, kept for their buffers: no fresh pages per batch
    unsigned m_outstanding = 0; // batches queued or being loaded
    bool m_closed = false;      // no more batches will come
    bool m_stopping = false;    // take no more batches
    bool m_dispatched = false;  // a batch went out (--truncate waits for the first to commit)
    bool m_truncate_pending = false;
    std::exception_ptr m_failure;
    std::function<void()> m_tick;
    std::function<void(batch&)> m_inline;
    std::function<void(batch&)> m_route;
};

} // namespace pgpipe
