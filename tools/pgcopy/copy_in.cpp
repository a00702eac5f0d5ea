// pgcopy's COPY … FROM STDIN sessions over libpq, every result drained.
#include "copy_in.hpp"

#include <cstdlib>
#include <limits>
#include <optional>

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
