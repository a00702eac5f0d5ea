// A routed load's pieces in flight: taking and giving back spare pieces, the destinations' queues and threads.
#include "route_pool.hpp"

namespace pgpipe {

piece_pool::piece_pool(size_t pieces) {
    for (size_t k = 0; k < pieces; ++k) {
        m_pieces.push_back(std::make_unique<piece>());
        m_free.push_back(m_pieces.back().get());
    }
}

piece* piece_pool::take() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return !m_free.empty() || m_failed; });
    if (m_failed)
        throw error(exit_status::server_error, "stopped"); // replaced by the destination's own error
    piece* p = m_free.back();
    m_free.pop_back();
    return p;
}

void piece_pool::give_back(piece* p) {
    {
        std::lock_guard lock(m_mutex);
        m_free.push_back(p);
    }
    m_changed.notify_all();
}

void piece_pool::hand_on(piece* p) {
    p->pending = static_cast<unsigned>(m_queues.size());
    {
        std::lock_guard lock(m_mutex);
        for (auto& q : m_queues)
            q.push_back(p);
    }
    m_changed.notify_all();
}

void piece_pool::wait_sent(const piece& p) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return p.pending == 0; });
}

void piece_pool::start(const destination_streams& streams, bool batched) {
    m_queues.resize(streams.size());
    for (size_t d = 0; d < streams.size(); ++d)
        m_threads.emplace_back([this, &s = *streams[d], d, batched] { work(s, d, batched); });
}

void piece_pool::work(destination_stream& d, size_t index, bool batched) {
    std::unique_lock lock(m_mutex);
    auto& queue = m_queues[index];
    for (;;) {
        m_changed.wait(lock, [&] { return m_stop || !queue.empty(); });
        if (queue.empty())
            return;
        piece* p = queue.front();
        queue.pop_front();
        const bool skip = d.failure().has_value(); // the unit failed here: its later pieces go nowhere
        lock.unlock();
        try {
            if (!skip)
                d.send(*p);
        } catch (const error& e) {
            lock.lock();
            d.note_failure(e);
            lock.unlock();
        }
        lock.lock();
        if (--p->pending == 0) {
            if (!p->ends_unit) // the unit committer frees the last piece of a unit
                m_free.push_back(p);
            m_changed.notify_all();
        }
        if (d.failure() && !batched)
            m_failed = true, m_changed.notify_all();
    }
}

void piece_pool::stop(const destination_streams& streams) noexcept {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        for (auto& q : m_queues)
            q.clear();
    }
    m_changed.notify_all();
    for (auto& t : m_threads)
        if (t.joinable())
            t.join();
    for (auto& s : streams)
        s->rollback();
}

destination_stream* piece_pool::failed(const destination_streams& streams) {
    std::lock_guard lock(m_mutex);
    for (auto& s : streams)
        if (s->failure())
            return s.get();
    return nullptr;
}

bool piece_pool::load_failed() {
    std::lock_guard lock(m_mutex);
    return m_failed;
}

} // namespace pgpipe
