// pgcopy's COPY … FROM STDIN sessions over libpq, every result drained.
#include "copy_in.hpp"

#include "core/interrupt.hpp"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

namespace pgpipe {

copy_in_session::copy_in_session(connection& conn, const std::string& copy_sql) : m_conn(conn) {
    result_ptr result(PQexec(conn.get(), copy_sql.c_str()), PQclear);
    if (PQresultStatus(result.get()) != PGRES_COPY_IN)
        throw server_error(result.get(), conn.get());
    m_active = true;
}

copy_in_session::~copy_in_session() {
    if (m_active)
        abort("load aborted by the client");
}

void copy_in_session::put(const char* data, size_t size) {
    constexpr size_t max_message = static_cast<size_t>(std::numeric_limits<int>::max() / 2);
    while (size > 0) {
        size_t n = size < max_message ? size : max_message;
        if (PQputCopyData(m_conn.get(), data, static_cast<int>(n)) != 1) {
            m_active = false;
            throw server_error::after_send_failure(m_conn.get());
        }
        data += n;
        size -= n;
    }
}

uint64_t copy_in_session::finish() {
    m_active = false;
    PGconn* conn = m_conn.get();
    if (PQputCopyEnd(conn, nullptr) != 1)
        throw server_error::after_send_failure(conn);
    // Drain every result, as psql's copy.c does: the first error wins, and
    // the connection must be idle again before the next statement.
    std::optional<server_error> failure;
    uint64_t rows = 0;
    while (PGresult* raw = PQgetResult(conn)) {
        result_ptr result(raw, PQclear);
        auto status = PQresultStatus(raw);
        if (status == PGRES_COMMAND_OK) {
            rows = std::strtoull(PQcmdTuples(raw), nullptr, 10);
        } else if (status == PGRES_COPY_IN) {
            // Should not happen after PQputCopyEnd; end it rather than loop.
            PQputCopyEnd(conn, "unexpected COPY state");
        } else if (!failure) {
            failure.emplace(raw, conn);
        }
        if (PQstatus(conn) == CONNECTION_BAD && !failure)
            failure.emplace(nullptr, conn);
    }
    if (!failure && PQstatus(conn) == CONNECTION_BAD)
        failure.emplace(nullptr, conn);
    if (failure)
        throw *failure;
    return rows;
}

void copy_in_session::set_nonblocking(bool on) {
    PGconn* conn = m_conn.get();
    if (!on) {
        while (m_active && sending()) { // what is left in libpq's buffer goes out first
            pollfd socket{PQsocket(conn), POLLOUT | POLLIN, 0};
            if (poll(&socket, 1, -1) < 0 && errno != EINTR)
                throw error(exit_status::server_error, std::string("poll: ") + std::strerror(errno));
            if ((socket.revents & POLLIN) && !PQconsumeInput(conn))
                break; // the flush that follows says what went wrong
        }
    }
    if (PQsetnonblocking(conn, on ? 1 : 0) != 0) {
        m_active = false;
        throw server_error::after_send_failure(conn);
    }
}

bool copy_in_session::sending() {
    const int left = PQflush(m_conn.get());
    if (left < 0) {
        m_active = false;
        throw server_error::after_send_failure(m_conn.get());
    }
    return left > 0;
}

bool copy_in_session::offer(std::string_view& rest, size_t most) {
    if (sending())
        return false;
    const size_t n = std::min(rest.size(), most);
    put(rest.data(), n);
    rest.remove_prefix(n);
    sending(); // starts it on its way
    return true;
}

namespace {

// Waits until one of the sessions that still have data can take more (or
// has a message from its server: an error ends its COPY early).
void wait_for_room(std::span<copy_in_session* const> sessions, std::span<const std::string_view> rest) {
    std::vector<pollfd> sockets;
    for (size_t k = 0; k < sessions.size(); ++k)
        if (!rest[k].empty())
            sockets.push_back({PQsocket(sessions[k]->conn().get()), POLLOUT | POLLIN, 0});
    if (poll(sockets.data(), sockets.size(), -1) < 0) {
        if (errno != EINTR)
            throw error(exit_status::server_error, std::string("poll: ") + std::strerror(errno));
        throw_if_interrupted(); // Ctrl-C: the sessions end their COPYs with an error
        return;
    }
    for (size_t k = 0, j = 0; k < sessions.size(); ++k)
        if (!rest[k].empty() && (sockets[j++].revents & POLLIN))
            PQconsumeInput(sessions[k]->conn().get()); // a failure shows at the next send
}

} // namespace

std::optional<put_failure> put_together(std::span<copy_in_session* const> sessions,
                                        std::span<const std::string_view> data) {
    // Smaller than a socket's buffer, so that each server has rows to read
    // while the others are sent theirs.
    constexpr size_t slice = 64 << 10;
    // However it ends, every session still open is left in blocking mode
    // (the COPY's end and an abort expect it).
    struct blocking_again {
        std::span<copy_in_session* const> sessions;
        ~blocking_again() {
            for (copy_in_session* s : sessions)
                try {
                    if (s->active())
                        s->set_nonblocking(false);
                } catch (const error&) {
                }
        }
    } restore{sessions};
    std::vector<std::string_view> rest(data.begin(), data.end());
    size_t k = 0;
    try {
        for (k = 0; k < sessions.size(); ++k)
            sessions[k]->set_nonblocking(true);
        for (bool more = true; more;) {
            bool sent = false;
            more = false;
            for (k = 0; k < sessions.size(); ++k)
                if (!rest[k].empty()) {
                    sent = sessions[k]->offer(rest[k], slice) || sent;
                    more = more || !rest[k].empty();
                }
            if (more && !sent)
                wait_for_room(sessions, rest);
        }
        for (k = 0; k < sessions.size(); ++k)
            sessions[k]->set_nonblocking(false);
    } catch (const server_error& e) {
        return put_failure{k, e};
    }
    return std::nullopt;
}

void copy_in_session::abort(const char* reason) noexcept {
    m_active = false;
    PGconn* conn = m_conn.get();
    if (PQstatus(conn) != CONNECTION_OK)
        return;
    if (PQputCopyEnd(conn, reason) != 1)
        return;
    while (PGresult* raw = PQgetResult(conn))
        PQclear(raw);
}

} // namespace pgpipe
