// The cancel handles of open connections, and the signal-safe action that cancels them all.
#include "pg/cancel.hpp"

#include "core/interrupt.hpp"

#include <atomic>
#include <thread>

namespace pgpipe {
namespace {

// The cancel handles of the open connections (64 jobs, their retries, and
// the few other connections a program holds fit).
constexpr int cancel_slots = 128;
std::atomic<PGcancel*> g_cancel[cancel_slots];
// Signal handlers running now: a handle is freed only when none is.
std::atomic<int> g_in_handler{0};

// The interrupt action (core/interrupt.hpp): PQcancel is safe in a signal handler.
void cancel_running_queries() {
    g_in_handler.fetch_add(1);
    for (auto& slot : g_cancel) {
        if (PGcancel* cancel = slot.load()) {
            char errbuf[256];
            PQcancel(cancel, errbuf, sizeof errbuf);
        }
    }
    g_in_handler.fetch_sub(1);
}

} // namespace

cancel_target::cancel_target(PGconn* conn) : m_cancel(conn ? PQgetCancel(conn) : nullptr) {
    if (!m_cancel)
        return;
    set_interrupt_action(cancel_running_queries);
    for (int k = 0; k < cancel_slots; ++k) {
        PGcancel* empty = nullptr;
        if (g_cancel[k].compare_exchange_strong(empty, m_cancel)) {
            m_slot = k;
            return;
        }
    }
}

cancel_target::~cancel_target() {
    if (m_slot >= 0) {
        g_cancel[m_slot].store(nullptr);
        // A handler that loaded the handle before it left its slot is done with it first.
        while (g_in_handler.load() != 0)
            std::this_thread::yield();
    }
    if (m_cancel)
        PQfreeCancel(m_cancel);
}

} // namespace pgpipe
