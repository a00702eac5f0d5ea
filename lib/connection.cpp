#include "pgpipe/connection.hpp"

#include "pgpipe/log.hpp"

#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace pgpipe {
namespace {

std::string field(const PGresult* result, int code) {
    const char* value = result ? PQresultErrorField(result, code) : nullptr;
    return value ? value : "";
}

std::string trim_trailing_newlines(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

// libpq's connection messages run over several lines; the first one is the
// error, the rest (with their tab indents) are detail.
std::pair<std::string, std::string> split_first_line(const std::string& text) {
    auto nl = text.find('\n');
    if (nl == std::string::npos)
        return {text, {}};
    std::string rest = text.substr(nl + 1);
    std::string cleaned;
    size_t start = 0;
    while (start < rest.size()) {
        size_t end = rest.find('\n', start);
        if (end == std::string::npos)
            end = rest.size();
        std::string line = rest.substr(start, end - start);
        size_t first = line.find_first_not_of(" \t");
        if (first != std::string::npos) {
            if (!cleaned.empty())
                cleaned += '\n';
            cleaned += line.substr(first);
        }
        start = end + 1;
    }
    return {text.substr(0, nl), cleaned};
}

// The message and detail of a failure: the server's fields when it sent
// some, else libpq's own text, split into its first line and the rest.
std::pair<std::string, std::string> message_of(const PGresult* result, PGconn* conn) {
    std::string primary = field(result, PG_DIAG_MESSAGE_PRIMARY);
    if (!primary.empty())
        return {primary, field(result, PG_DIAG_MESSAGE_DETAIL)};
    std::string text;
    if (result && PQresultErrorMessage(result)[0])
        text = PQresultErrorMessage(result);
    else
        text = conn ? PQerrorMessage(conn) : "unknown error";
    return split_first_line(trim_trailing_newlines(text));
}

// Server notices (a trigger's RAISE NOTICE, a WARNING) go through our own
// logging so that they carry the program name like every other line.
void forward_notice(void*, const PGresult* result) {
    std::string severity = field(result, PG_DIAG_SEVERITY_NONLOCALIZED);
    for (auto& c : severity)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (severity.empty())
        severity = "notice";
    std::string message = field(result, PG_DIAG_MESSAGE_PRIMARY);
    if (severity == "warning")
        log_warning(message);
    else
        log_info("server " + severity + ": " + message);
}

} // namespace

server_error::server_error(const PGresult* result, PGconn* conn)
    : server_error(message_of(result, conn), result, conn) {}

server_error::server_error(const std::pair<std::string, std::string>& text, const PGresult* result, PGconn* conn)
    : error(exit_status::server_error, text.first, text.second, field(result, PG_DIAG_MESSAGE_HINT)),
      m_sqlstate(field(result, PG_DIAG_SQLSTATE)),
      m_connection_lost(conn && PQstatus(conn) == CONNECTION_BAD) {
    // A FATAL error (a terminated backend, a shutdown) ends the session even
    // before libpq has seen the socket close; so do the 08 connection errors.
    std::string severity = field(result, PG_DIAG_SEVERITY_NONLOCALIZED);
    // No SQLSTATE means libpq itself failed (the server closed the socket
    // while the session was idle, say): the connection is gone too.
    if (severity == "FATAL" || severity == "PANIC" || m_sqlstate.rfind("08", 0) == 0 || m_sqlstate == "57P01" ||
        m_sqlstate == "57P02" || m_sqlstate == "57P03" || (m_sqlstate.empty() && conn))
        m_connection_lost = true;
    set_context(field(result, PG_DIAG_CONTEXT));
}

server_error server_error::after_send_failure(PGconn* conn) {
    // A few results at most: the error the server sent, then the end.
    for (int i = 0; i < 4; ++i) {
        PGresult* raw = PQgetResult(conn);
        if (!raw)
            break;
        result_ptr result(raw, PQclear);
        if (PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY))
            return server_error(raw, conn);
    }
    return server_error(nullptr, conn);
}

connection_options connection::same_login(const connection_options& options) const {
    connection_options out = options;
    if (m_conn && PQconnectionUsedPassword(m_conn) && PQpass(m_conn))
        out.known_password = PQpass(m_conn);
    return out;
}

namespace {

// On a Unix socket the sender's buffer is all the buffering there is, and
// its default (about 200 kB) makes the client and the backend wake each
// other every few dozen kB during a COPY. A few MB lets the client run
// ahead. (TCP tunes its own buffers; setting one would switch that off.)
void widen_local_send_buffer(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (fd < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        address.ss_family != AF_UNIX)
        return;
    int size = 4 << 20; // the kernel caps it at net.core.wmem_max
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

} // namespace

connection connection::open(const connection_options& options) {
    auto attempt = [&](const std::string& password) {
        std::vector<const char*> keys, values;
        auto add = [&](const char* key, const std::optional<std::string>& value) {
            if (value) {
                keys.push_back(key);
                values.push_back(value->c_str());
            }
        };
        std::string app(program_name());
        add("host", options.host);
        add("port", options.port);
        add("user", options.username);
        if (!password.empty()) {
            keys.push_back("password");
            values.push_back(password.c_str());
        }
        // dbname last: with expand_dbname a conninfo or URI given to -d
        // overrides what came before it, as in psql.
        add("dbname", options.dbname);
        keys.push_back("fallback_application_name");
        values.push_back(app.c_str());
        keys.push_back(nullptr);
        values.push_back(nullptr);
        return PQconnectdbParams(keys.data(), values.data(), 1);
    };

    std::string password = options.known_password;
    if (password.empty() && options.prompt == password_prompt::always)
        password = read_password("Password: ");
    PGconn* conn = attempt(password);
    // As psql does: ask on the terminal (not stdin, which carries the rows)
    // when the server wants a password and none was given.
    if (conn && PQstatus(conn) == CONNECTION_BAD && PQconnectionNeedsPassword(conn) &&
        password.empty() && options.prompt == password_prompt::when_needed) {
        std::string user = PQuser(conn) ? PQuser(conn) : "";
        password = read_password("Password for user " + user + ": ");
        if (!password.empty()) {
            PQfinish(conn);
            conn = attempt(password);
        }
    }
    // Wipe the copy we held; libpq keeps its own.
    std::memset(password.data(), 0, password.size());
    if (!conn)
        throw error(exit_status::server_error, "out of memory while connecting");
    if (PQstatus(conn) != CONNECTION_OK) {
        auto [first, rest] = split_first_line(trim_trailing_newlines(PQerrorMessage(conn)));
        PQfinish(conn);
        throw error(exit_status::server_error, first, rest);
    }
    PQsetNoticeReceiver(conn, forward_notice, nullptr);
    widen_local_send_buffer(PQsocket(conn));
    return connection(conn);
}

connection::connection(connection&& other) noexcept : m_conn(other.m_conn) { other.m_conn = nullptr; }

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        if (m_conn)
            PQfinish(m_conn);
        m_conn = other.m_conn;
        other.m_conn = nullptr;
    }
    return *this;
}

connection::~connection() {
    if (m_conn)
        PQfinish(m_conn);
}

void connection::exec(const std::string& sql) {
    result_ptr result(PQexec(m_conn, sql.c_str()), PQclear);
    auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        throw server_error(result.get(), m_conn);
}

result_ptr connection::query(const std::string& sql) {
    result_ptr result(PQexec(m_conn, sql.c_str()), PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK)
        throw server_error(result.get(), m_conn);
    return result;
}

std::string connection::quote_identifier(std::string_view name) const {
    char* quoted = PQescapeIdentifier(m_conn, name.data(), name.size());
    if (!quoted)
        throw local_error("cannot quote identifier: " + trim_trailing_newlines(PQerrorMessage(m_conn)));
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

std::string connection::quote_literal(std::string_view value) const {
    char* quoted = PQescapeLiteral(m_conn, value.data(), value.size());
    if (!quoted)
        throw local_error("cannot quote literal: " + trim_trailing_newlines(PQerrorMessage(m_conn)));
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

std::string connection::describe() const {
    std::string host = PQhost(m_conn) ? PQhost(m_conn) : "";
    std::string where = host.empty() || host[0] == '/' ? "socket " + host : host;
    return std::string("database \"") + PQdb(m_conn) + "\" on " + where + ":" + PQport(m_conn) +
           " as \"" + PQuser(m_conn) + "\"";
}

std::string read_password(const std::string& prompt) {
    int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return {};
    (void)!::write(fd, prompt.data(), prompt.size());
    termios saved{};
    bool have_termios = tcgetattr(fd, &saved) == 0;
    if (have_termios) {
        termios quiet_mode = saved;
        quiet_mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(fd, TCSAFLUSH, &quiet_mode);
    }
    std::string password;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n' && c != '\r')
        password += c;
    if (have_termios)
        tcsetattr(fd, TCSAFLUSH, &saved);
    (void)!::write(fd, "\n", 1);
    ::close(fd);
    return password;
}

} // namespace pgpipe
