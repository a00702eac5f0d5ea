// pgsandbox's engine: throwaway clusters made, started, described and removed.
#pragma once

#include <optional>
#include <string>

namespace pgpipe {

/// A running throwaway cluster: where it is and how to reach it.
struct sandbox_info {
    std::string dir;      ///< the sandbox directory (data/, the socket, logs)
    std::string bindir;   ///< the server's bin directory
    std::string user;     ///< the cluster's superuser (and OS owner)
    int port = 0;         ///< TCP port on 127.0.0.1 (also the socket's number)
};

/// Which server installation start uses: a bin directory, a major, or neither
/// (then $PGSANDBOX_BINDIR, else the newest in /usr/lib/postgresql).
struct server_choice {
    std::optional<std::string> bindir; ///< --bindir: a directory with initdb and pg_ctl
    std::optional<int> major;          ///< --pg: a major, e.g. 17
};

/// The server bin directory (with initdb and pg_ctl) that choice names: the
/// bindir if given; for a major, $PGSANDBOX_BUILDS/N/bin, the build tree's
/// postgres/N/bin beside this program's bin/ (where make deps puts the
/// upstream builds), or /usr/lib/postgresql/N/bin; else $PGSANDBOX_BINDIR,
/// else the newest /usr/lib/postgresql/N/bin. Throws local_error if there is none.
std::string find_server_bindir(const server_choice& choice);

/// Creates DIR (or a fresh /tmp/pgsandbox.XXXXXX), runs initdb in it (as the
/// postgres user when run as root), configures it for bulk loads with its
/// socket inside DIR and a free port on 127.0.0.1, and starts it. Unless
/// durable, fsync, synchronous_commit and full_page_writes are off and
/// wal_level minimal (fast, for tests); durable keeps the stock settings.
sandbox_info sandbox_start(const std::optional<std::string>& dir, const server_choice& server,
                           bool durable = false);
/// Stops the cluster in DIR and removes DIR; refuses a directory that
/// pgsandbox did not make. Throws local_error.
void sandbox_stop(const std::string& dir);
/// Whether the cluster in DIR is running.
bool sandbox_running(const std::string& dir);
/// Reads the description pgsandbox left in DIR. Throws local_error.
sandbox_info sandbox_read(const std::string& dir);
/// The `export PGHOST=… PGPORT=… PGUSER=… PGDATABASE=…` lines, shell-quoted.
std::string sandbox_exports(const sandbox_info& info);
/// Quotes text for a POSIX shell with single quotes.
std::string shell_quote(const std::string& text);

} // namespace pgpipe
