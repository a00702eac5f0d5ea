// A routed load's pieces in flight: the spare pieces and each destination's queue, fed to its worker thread.
#pragma once

#include "route_destination.hpp"
#include "route_piece.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pgpipe {

/// The destinations of a routed load, in index order.
using destination_streams = std::vector<std::unique_ptr<destination_stream>>;

/// The hand-off between the routed reader and the destinations' threads:
/// a fixed set of pieces (being read, being sent, spare keep memory flat),
/// each handed to every destination; the last to send it frees it unless
/// it ends a unit (the unit committer gives those back once settled).
class piece_pool {
public:
    /// pieces: how many are in flight at most.
    explicit piece_pool(size_t pieces);
    /// A spare piece, once one is free; throws once a destination failed a
    /// one-transaction load (the caller says the destination's own error).
    piece* take();
    /// p is spare again.
    void give_back(piece* p);
    /// p goes to every destination's thread.
    void hand_on(piece* p);
    /// Waits until every destination sent p.
    void wait_sent(const piece& p);
    /// Starts one thread per destination; batched: a failure waits for the
    /// unit's end, else it stops the reader at once.
    void start(const destination_streams& streams, bool batched);
    /// Stops and joins the threads, dropping what they had yet to send,
    /// and rolls every destination back.
    void stop(const destination_streams& streams) noexcept;
    /// The first destination whose unit failed, or null (its thread may still run).
    destination_stream* failed(const destination_streams& streams);
    /// A destination failed a one-transaction load.
    bool load_failed();

private:
    void work(destination_stream& d, size_t index, bool batched);

    std::vector<std::unique_ptr<piece>> m_pieces;
    std::vector<piece*> m_free;
    std::vector<std::deque<piece*>> m_queues; // per destination
    std::vector<std::thread> m_threads;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_stop = false, m_failed = false;
};

} // namespace pgpipe
