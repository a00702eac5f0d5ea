// Connections to the server with psql's options, and the server's errors.
#pragma once

#include "core/error.hpp"
#include "pg/cancel.hpp"

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgpipe {

/// When to ask for a password, as psql's -w and -W say.
enum class password_prompt {
    when_needed, ///< ask if the server wants one and stdin is a terminal (psql's default)
    never,       ///< -w/--no-password
    always,      ///< -W/--password
};

/// Connection settings with psql's names; unset fields fall back to libpq's
/// own defaults (PG* variables, ~/.pgpass, service files).
struct connection_options {
    std::optional<std::string> dbname;   ///< -d: a name, a conninfo string or a URI
    std::optional<std::string> host;     ///< -h
    std::optional<std::string> port;     ///< -p
    std::optional<std::string> username; ///< -U
    password_prompt prompt = password_prompt::when_needed; ///< -w / -W
    std::string known_password;          ///< a password typed once already: used, never asked again
    std::string dbname_source = "-d";    ///< where dbname came from, named when it does not parse
};

/// A failure reported by the server, with its diagnostic fields.
class server_error : public error {
public:
    /// Builds the error from a failed result (its fields) or, if null, from the connection.
    server_error(const PGresult* result, PGconn* conn);
    /// The five-character SQLSTATE, or empty when the connection failed.
    const std::string& sqlstate() const noexcept { return m_sqlstate; }
    /// Whether the connection itself went away (as opposed to an SQL error).
    bool connection_lost() const noexcept { return m_connection_lost; }

    /// After a failed send: the server's own reason (a FATAL it sent before
    /// closing) if libpq has received one, else libpq's message.
    static server_error after_send_failure(PGconn* conn);

private:
    server_error(const std::pair<std::string, std::string>& text, const PGresult* result, PGconn* conn);
    std::string m_sqlstate;
    bool m_connection_lost = false;
};

/// Owns one PGresult.
using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// One open connection; closes itself.
class connection {
public:
    /// Connects with the given options; throws error(server_error) on failure.
    static connection open(const connection_options& options);
    /// options as this connection used them, with the password it used (if
    /// any): more connections to the same place without asking again.
    connection_options same_login(const connection_options& options) const;

    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    /// The raw libpq handle, for the library's own sessions.
    PGconn* get() const noexcept { return m_conn; }
    /// Runs a statement that returns no rows; throws server_error on failure.
    void exec(const std::string& sql);
    /// Runs a query that returns rows; throws server_error on failure.
    result_ptr query(const std::string& sql);
    /// Runs a query whose first value is a boolean: whether a row came and it is true.
    bool query_flag(const std::string& sql);
    /// Quotes an identifier with PQescapeIdentifier.
    std::string quote_identifier(std::string_view name) const;
    /// Quotes a string literal with PQescapeLiteral.
    std::string quote_literal(std::string_view value) const;
    /// Whether the connection is still usable.
    bool ok() const noexcept { return m_conn && PQstatus(m_conn) == CONNECTION_OK; }
    /// Rolls back the open transaction, if the connection is usable and in
    /// one, ignoring the outcome: for failure paths, whose own error is the
    /// one reported.
    void rollback_quietly() noexcept;
    /// "database DB on HOST:PORT as USER", never with the password.
    std::string describe() const;

private:
    explicit connection(PGconn* conn);
    PGconn* m_conn = nullptr;
    std::unique_ptr<cancel_target> m_cancel; // a signal cancels this connection's running query
};

/// Throws local_error (exit 1) if libpq would refuse dbname (given with
/// source: -d, or a foreign server's options) as a conninfo string or URI. The message names the problem in libpq's
/// words but never quotes the string, which may hold a password.
void check_connection_string(const std::string& dbname, const std::string& source = "-d");

/// text (libpq's message after a failed connection) with every quoted value
/// that holds or is part of a secret replaced by "...": the password typed,
/// the password in dbname, the password parts of URIs in it (a password with
/// an unencoded "@" or "/" ends up in pieces in host and port messages).
std::string redact_connection_message(const std::string& text, const std::string& dbname,
                                      const std::string& password);

/// Reads a password from the terminal without echo; empty if there is none.
std::string read_password(const std::string& prompt);

} // namespace pgpipe
