// Connections: psql's options to libpq, libpq's failures to the family's
// errors (never with a password in them), quoting, the password prompt.
#include "pg/connection.hpp"

#include "core/log.hpp"

#include <algorithm>
#include <cctype>
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

namespace {

// libpq reads dbname as a connection string when it starts with a URI
// prefix or holds an "=" (recognized_connection_string in fe-connect.c).
bool is_connection_string(std::string_view text) {
    return text.starts_with("postgresql://") || text.starts_with("postgres://") ||
           text.find('=') != std::string_view::npos;
}

// Whether text fits a libpq message template, where {s} is any text, {c}
// one character and {d} digits (left in number).
bool fits(std::string_view text, std::string_view pattern, std::string& number) {
    while (!pattern.empty()) {
        if (pattern.starts_with("{s}")) {
            pattern.remove_prefix(3);
            for (size_t n = text.size() + 1; n-- > 0;)
                if (fits(text.substr(n), pattern, number))
                    return true;
            return false;
        }
        if (pattern.starts_with("{c}") || pattern.starts_with("{d}")) {
            size_t n = 0;
            while (pattern[1] == 'd' && n < text.size() && std::isdigit(static_cast<unsigned char>(text[n])))
                ++n;
            if (pattern[1] == 'c')
                n = 1;
            if (n == 0 || n > text.size())
                return false;
            if (pattern[1] == 'd')
                number = std::string(text.substr(0, n));
            text.remove_prefix(n);
            pattern.remove_prefix(3);
            continue;
        }
        if (text.empty() || text[0] != pattern[0])
            return false;
        text.remove_prefix(1);
        pattern.remove_prefix(1);
    }
    return text.empty();
}

// What PQconninfoParse says when it refuses a string (libpq 13 to 17), and
// what we show instead: the same words without the parts of the string
// they quote, which may be the password or a piece of it.
struct parse_message {
    const char* libpq;
    const char* shown;
};
const parse_message parse_messages[] = {
    {"missing \"=\" after \"{s}\" in connection info string",
     "missing \"=\" after a word in the connection info string"},
    {"unterminated quoted string in connection info string",
     "unterminated quoted string in the connection info string"},
    {"invalid connection option \"{s}\"", "invalid connection option"},
    {"invalid percent-encoded token: \"{s}\"", "invalid percent-encoded token"},
    {"forbidden value %00 in percent-encoded value: \"{s}\"", "forbidden value %00 in percent-encoded value"},
    {"invalid URI propagated to internal parser routine: \"{s}\"", "invalid URI"},
    {"end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"{s}\"",
     "end of string reached when looking for matching \"]\" in IPv6 host address in URI"},
    {"IPv6 host address may not be empty in URI: \"{s}\"", "IPv6 host address may not be empty in URI"},
    {"unexpected character \"{c}\" at position {d} in URI (expected \":\" or \"/\"): \"{s}\"",
     "unexpected character at position {d} in URI (expected \":\" or \"/\")"},
    {"extra key/value separator \"=\" in URI query parameter: \"{s}\"",
     "extra key/value separator \"=\" in URI query parameter"},
    {"missing key/value separator \"=\" in URI query parameter: \"{s}\"",
     "missing key/value separator \"=\" in URI query parameter"},
    {"invalid URI query parameter: \"{s}\"", "invalid URI query parameter"},
    {"out of memory", "out of memory"},
};

// libpq's reason without any part of the string, or empty for a message we
// do not know (another libpq, a translation): then nothing of it is shown.
std::string shown_reason(std::string_view libpq) {
    for (const auto& m : parse_messages) {
        std::string number;
        if (!fits(libpq, m.libpq, number))
            continue;
        std::string shown = m.shown;
        if (auto at = shown.find("{d}"); at != std::string::npos)
            shown.replace(at, 3, number);
        return shown;
    }
    return {};
}

std::string percent_decoded(std::string_view text) {
    std::string out;
    for (size_t k = 0; k < text.size(); ++k) {
        if (text[k] == '%' && k + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[k + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[k + 2]))) {
            out += static_cast<char>(std::stoi(std::string(text.substr(k + 1, 2)), nullptr, 16));
            k += 2;
        } else {
            out += text[k];
        }
    }
    return out;
}

// The password part of each "scheme://user:password@" in text, whole and
// in its pieces: a password with an unencoded "@" or "/" is cut there by
// libpq, which then takes the pieces for a host, a port or a database name
// and names them in its messages.
void add_uri_passwords(std::string_view text, std::vector<std::string>& out) {
    for (size_t start = text.find("://"); start != std::string_view::npos; start = text.find("://", start + 3)) {
        std::string_view rest = text.substr(start + 3);
        rest = rest.substr(0, rest.find('?'));
        size_t at = rest.rfind('@');
        size_t colon = rest.find(':');
        if (at == std::string_view::npos || colon == std::string_view::npos || colon > at)
            continue;
        std::string_view password = rest.substr(colon + 1, at - colon - 1);
        for (const std::string& form : {std::string(password), percent_decoded(password)}) {
            out.push_back(form);
            size_t piece = 0;
            while (piece < form.size()) {
                size_t end = std::min(form.find('@', piece), form.find('/', piece));
                end = std::min(end, form.size());
                if (end > piece && end - piece < form.size())
                    out.push_back(form.substr(piece, end - piece));
                piece = end + 1;
            }
        }
    }
}

// Everything a connection failure must not show: the password typed or
// given with -d, the password parts of URIs in -d, and a plain -d that
// holds an "@" (a mistyped URI, sent to the server as a database name).
std::vector<std::string> secrets_of(const std::string& dbname, const std::string& password) {
    std::vector<std::string> out;
    if (!password.empty())
        out.push_back(password);
    if (!is_connection_string(dbname)) {
        if (dbname.find('@') != std::string::npos)
            out.push_back(dbname);
        return out;
    }
    add_uri_passwords(dbname, out);
    char* message = nullptr;
    if (PQconninfoOption* parsed = PQconninfoParse(dbname.c_str(), &message)) {
        for (const PQconninfoOption* o = parsed; o->keyword; ++o)
            if (o->val && o->val[0] && std::strcmp(o->keyword, "password") == 0)
                out.emplace_back(o->val);
        PQconninfoFree(parsed);
    }
    if (message)
        PQfreemem(message);
    return out;
}

} // namespace

void check_connection_string(const std::string& dbname, const std::string& source) {
    if (!is_connection_string(dbname))
        return;
    char* message = nullptr;
    if (PQconninfoOption* parsed = PQconninfoParse(dbname.c_str(), &message)) {
        PQconninfoFree(parsed);
        return;
    }
    std::string reason = shown_reason(trim_trailing_newlines(message ? message : "out of memory"));
    if (message)
        PQfreemem(message);
    const std::string hint = "the string is not shown, as it may hold a password; in a URI, a password's "
                             "@ / ? # [ ] and % must be percent-encoded (@ as %40)";
    if (reason.empty())
        throw local_error("invalid connection string given with " + source, "libpq's reason is not shown: it quotes the string",
                          hint);
    throw local_error("invalid connection string given with " + source + ": " + reason, {}, hint);
}

std::string redact_connection_message(const std::string& text, const std::string& dbname,
                                      const std::string& password) {
    std::vector<std::string> secrets = secrets_of(dbname, password);
    auto holds_secret = [&](std::string_view fragment) {
        for (const auto& s : secrets)
            if (!s.empty() && !fragment.empty() &&
                (fragment.find(s) != std::string_view::npos || s.find(fragment) != std::string::npos))
                return true;
        return false;
    };
    // libpq and the server quote every value they name: a quoted value
    // that holds a secret, or is part of one, is left out.
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t open = text.find('"', pos);
        size_t close = open == std::string::npos ? open : text.find('"', open + 1);
        if (close == std::string::npos) {
            out += text.substr(pos);
            break;
        }
        std::string_view fragment(text.data() + open + 1, close - open - 1);
        out += text.substr(pos, open - pos);
        out += holds_secret(fragment) ? std::string("\"...\"") : text.substr(open, close - open + 1);
        pos = close + 1;
    }
    // And anywhere else, in case a quote inside a value misled the pairing.
    for (const auto& s : secrets)
        for (size_t at = s.size() >= 4 ? out.find(s) : std::string::npos; at != std::string::npos; at = out.find(s, at))
            out.replace(at, s.size(), "...");
    return out;
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

namespace {

// One PQconnectdbParams with psql's options and the password, if any.
PGconn* connect_once(const connection_options& options, const std::string& password) {
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
}

} // namespace

connection connection::open(const connection_options& options) {
    // Before any prompt or attempt: libpq's own complaint quotes the string.
    if (options.dbname)
        check_connection_string(*options.dbname, options.dbname_source);
    auto attempt = [&](const std::string& password) { return connect_once(options, password); };
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
    std::string failure;
    if (conn && PQstatus(conn) != CONNECTION_OK)
        failure = redact_connection_message(trim_trailing_newlines(PQerrorMessage(conn)),
                                            options.dbname.value_or(""), password);
    // Wipe the copy we held; libpq keeps its own.
    std::memset(password.data(), 0, password.size());
    if (!conn)
        throw error(exit_status::server_error, "out of memory while connecting");
    if (PQstatus(conn) != CONNECTION_OK) {
        auto [first, rest] = split_first_line(failure);
        PQfinish(conn);
        throw error(exit_status::server_error, first, rest);
    }
    PQsetNoticeReceiver(conn, forward_notice, nullptr);
    widen_local_send_buffer(PQsocket(conn));
    return connection(conn);
}

connection::connection(PGconn* conn) : m_conn(conn), m_cancel(std::make_unique<cancel_target>(conn)) {}

connection::connection(connection&& other) noexcept
    : m_conn(other.m_conn), m_cancel(std::move(other.m_cancel)) {
    other.m_conn = nullptr;
}

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        m_cancel.reset(); // no signal may cancel through a handle of a closed connection
        if (m_conn)
            PQfinish(m_conn);
        m_conn = other.m_conn;
        m_cancel = std::move(other.m_cancel);
        other.m_conn = nullptr;
    }
    return *this;
}

connection::~connection() {
    m_cancel.reset();
    if (m_conn)
        PQfinish(m_conn);
}

void connection::rollback_quietly() noexcept {
    if (ok() && PQtransactionStatus(m_conn) != PQTRANS_IDLE)
        PQclear(PQexec(m_conn, "ROLLBACK"));
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

bool connection::query_flag(const std::string& sql) {
    result_ptr result = query(sql);
    return PQntuples(result.get()) > 0 && PQgetvalue(result.get(), 0, 0)[0] == 't';
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
