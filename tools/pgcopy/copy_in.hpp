// pgcopy's COPY … FROM STDIN sessions: send, finish with the server's count, or abort.
#pragma once

#include "pg/connection.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgpipe {

/// Whether a failure with this SQLSTATE is a row's own fault, so that the
/// row can be rejected: bad data (22), a violated constraint (23) or a
/// trigger's RAISE (P0). A missing table or privilege is the load's fault.
inline bool row_fault(const std::string& sqlstate) {
    return sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0 || sqlstate.rfind("P0", 0) == 0;
}

/// One `COPY … FROM STDIN` in progress. It cannot be copied; finish() ends it
/// and returns the server's row count; destroying an unfinished session ends
/// the COPY with an error, so a half-sent load is never committed.
class copy_in_session {
public:
    /// Starts the COPY statement; throws server_error if the server refuses it.
    copy_in_session(connection& conn, const std::string& copy_sql);
    ~copy_in_session();
    copy_in_session(const copy_in_session&) = delete;
    copy_in_session& operator=(const copy_in_session&) = delete;

    /// Sends one chunk (any size; rows may span chunks). Throws server_error
    /// if the connection is lost.
    void put(const char* data, size_t size);
    /// Ends the data, drains every result, and returns the rows the server
    /// reports in its command tag. Throws server_error with the server's
    /// message, detail, hint and context.
    uint64_t finish();
    /// Ends the COPY with an error message (the server rolls back the
    /// statement) and drains the results; never throws.
    void abort(const char* reason) noexcept;
    /// Whether the COPY is still open.
    bool active() const noexcept { return m_active; }
    /// The connection it runs on.
    connection& conn() const noexcept { return m_conn; }
    /// Non-blocking mode (put_together): on at once; off once libpq's
    /// buffer is out on the socket (waiting for that, as blocking mode does).
    void set_nonblocking(bool on);
    /// Non-blocking mode: once the data sent before is out on the socket,
    /// sends up to most bytes of rest and drops them from it; false while
    /// the socket is still full. Throws server_error as put() does.
    bool offer(std::string_view& rest, size_t most);
    /// Non-blocking mode: whether data sent is still in libpq's buffer.
    bool sending();

private:
    connection& m_conn;
    bool m_active = false;
};

/// Which session of a put_together failed, and the server's error.
struct put_failure {
    size_t index;       ///< into the sessions given
    server_error error; ///< what the server (or libpq) said
};

/// Sends data[k] into sessions[k], all at once: each server reads its rows
/// while the others are sent theirs, and a server that is slow to read
/// keeps none of the others waiting (non-blocking writes, a poll() over
/// the sockets). Returns with every byte out of libpq's buffers; the
/// session that failed, if one did (the others then stay open).
std::optional<put_failure> put_together(std::span<copy_in_session* const> sessions,
                                        std::span<const std::string_view> data);

} // namespace pgpipe
