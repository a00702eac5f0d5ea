// The bounded queue of batches between the reader and the loaders.
#include "batch_queue.hpp"

#include "core/interrupt.hpp"

#include <chrono>

namespace pgpipe {

bool batch_queue::truncate_pending() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_truncate_pending;
}

void batch_queue::truncate_done() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_truncate_pending = false;
}

// With --truncate, the first batch commits alone first: its TRUNCATE must
// not wait for, then empty, another loader's batch.
void batch_queue::push(batch&& b) {
    if (b.rows() == 0)
        return;
    if (m_route)
        m_route(b);
    if (m_inline) {
        m_inline(b);
        std::lock_guard<std::mutex> lock(m_mutex);
        tick();
        keep_spare(std::move(b));
        return;
    }
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        if (m_failure || m_stopping)
            throw load_stopped{};
        if (m_outstanding < m_loaders && !(m_truncate_pending && m_dispatched))
            break;
        m_changed.wait_for(lock, std::chrono::milliseconds(250));
        tick();
        throw_if_interrupted();
    }
    m_queue.push_back(std::move(b));
    ++m_outstanding;
    m_dispatched = true;
    m_changed.notify_all();
}

bool batch_queue::take(batch& b) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait(lock, [&] { return m_failure || m_stopping || m_closed || !m_queue.empty(); });
    if (m_failure || m_stopping || m_queue.empty())
        return false;
    b = std::move(m_queue.front());
    m_queue.pop_front();
    return true;
}

void batch_queue::done(batch&& b) {
    std::lock_guard<std::mutex> lock(m_mutex);
    keep_spare(std::move(b));
    --m_outstanding;
    m_changed.notify_all();
}

// One is enough: a loader frees one for each batch the reader cuts.
void batch_queue::keep_spare(batch&& b) {
    if (!m_spare.empty())
        return;
    b.bytes.clear();
    b.starts.clear();
    m_spare.push_back(std::move(b));
}

batch batch_queue::spare() {
    batch next;
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_spare.empty()) {
        next.bytes = std::move(m_spare.back().bytes);
        next.starts = std::move(m_spare.back().starts);
        next.parts = std::move(m_spare.back().parts); // a routed batch's: their buffers too
        m_spare.pop_back();
    }
    return next;
}

void batch_queue::wait_committed() {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (m_outstanding > 0 && !m_failure && !m_stopping) {
        m_changed.wait_for(lock, std::chrono::milliseconds(250));
        tick();
        throw_if_interrupted();
    }
    if (m_failure || m_stopping)
        throw load_stopped{};
}

void batch_queue::close_and_drain() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_closed = true;
    m_changed.notify_all();
    while (m_outstanding > 0 && !m_failure) {
        m_changed.wait_for(lock, std::chrono::milliseconds(250));
        tick();
    }
}

void batch_queue::stop() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
    m_changed.notify_all();
}

void batch_queue::fail(std::exception_ptr failure) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_failure)
        m_failure = std::move(failure);
    m_changed.notify_all();
}

std::exception_ptr batch_queue::failure() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_failure;
}

bool batch_queue::dispatched() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_dispatched;
}

} // namespace pgpipe
