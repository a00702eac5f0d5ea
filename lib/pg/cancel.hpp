// Cancel handles: while a connection is open, Ctrl-C or SIGTERM sends a cancel request for its running query.
#pragma once

#include <libpq-fe.h>

namespace pgpipe {

/// While alive, a signal also sends a cancel request to this connection's
/// running query (PQcancel is safe in a signal handler). Every open
/// connection holds one, so Ctrl-C stops the statements of every path:
/// the streamed and batched loads, each --jobs connection, pginsert, pgrec.
class cancel_target {
public:
    /// Registers conn's cancel handle in a free slot (of 128).
    explicit cancel_target(PGconn* conn);
    /// Unregisters it, waits for a signal handler that may be using it, frees it.
    ~cancel_target();
    cancel_target(const cancel_target&) = delete;
    cancel_target& operator=(const cancel_target&) = delete;

private:
    PGcancel* m_cancel;
    int m_slot = -1;
};

} // namespace pgpipe
