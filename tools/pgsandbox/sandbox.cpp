// pgsandbox's engine: initdb, a bulk-load configuration, pg_ctl start and stop, the marker file.
#include "sandbox.hpp"

#include "pg/connection.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <pwd.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace pgpipe {
namespace {

constexpr const char* marker_name = ".pgsandbox";

bool is_root() { return ::geteuid() == 0; }

// initdb refuses to run as root, so root runs the server as "postgres".
std::vector<std::string> as_owner(const std::string& user, std::vector<std::string> argv) {
    if (!is_root())
        return argv;
    std::vector<std::string> full{"runuser", "-u", user, "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

int free_tcp_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw local_error(std::string("could not create a socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        int err = errno;
        ::close(fd);
        throw local_error(std::string("could not find a free port: ") + std::strerror(err));
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string tail_of(const std::string& path, size_t max_bytes = 2000) {
    std::string text = read_file(path);
    if (text.size() > max_bytes)
        text = "..." + text.substr(text.size() - max_bytes);
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text;
}

void append_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::app);
    out << text;
    if (!out)
        throw local_error("could not write \"" + path + "\"");
}

int version_of(const fs::path& bin) {
    // /usr/lib/postgresql/15/bin -> 15
    try {
        return std::stoi(bin.parent_path().filename().string());
    } catch (...) {
        return 0;
    }
}

void give_to(const std::string& path, const std::string& user) {
    if (!is_root())
        return;
    passwd* pw = ::getpwnam(user.c_str());
    if (!pw)
        throw local_error("there is no \"" + user + "\" user to run the server as",
                          "initdb refuses to run as root", "install postgresql-15, which creates it");
    if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
        throw local_error("could not give \"" + path + "\" to " + user + ": " + std::strerror(errno));
}

std::string current_user() {
    if (is_root())
        return "postgres";
    passwd* pw = ::getpwuid(::geteuid());
    if (pw)
        return pw->pw_name;
    const char* env = std::getenv("USER");
    return env ? env : "postgres";
}

// The sandbox directory: dir_arg made (it must be new or empty), or a
// fresh one under $TMPDIR or /tmp. Canonical, and short enough for the socket.
std::string make_sandbox_dir(const std::optional<std::string>& dir_arg) {
    std::string dir;
    if (dir_arg) {
        std::error_code ec;
        fs::create_directories(*dir_arg, ec);
        if (ec)
            throw local_error("could not create \"" + *dir_arg + "\": " + ec.message());
        if (!fs::is_empty(*dir_arg, ec))
            throw local_error("\"" + *dir_arg + "\" is not empty", {},
                              "give a new or empty directory, or none for a fresh one under /tmp");
        dir = fs::canonical(*dir_arg).string();
    } else {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/pgsandbox.XXXXXX";
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        if (!::mkdtemp(buf.data()))
            throw local_error("could not create a directory from \"" + pattern + "\": " + std::strerror(errno));
        dir = fs::canonical(buf.data()).string();
    }
    // The socket path must fit in sun_path (108 bytes) with ".s.PGSQL.NNNNN".
    if (dir.size() + 16 > 107)
        throw local_error("\"" + dir + "\" is too long a path for the server's Unix socket");
    return dir;
}

// The first line a program printed (its stdout and stderr in a scratch
// file of the sandbox), or "" when it failed or could not be run.
std::string first_line_of(const std::vector<std::string>& argv, const std::string& scratch) {
    process_result result;
    try {
        result = run_process(argv, scratch);
    } catch (const error&) {
        return {};
    }
    std::string text = read_file(scratch);
    std::error_code ec;
    fs::remove(scratch, ec);
    if (!result.ok())
        return {};
    return text.substr(0, text.find('\n'));
}

// The directories where the installation of bindir may keep its loadable
// modules: what its pg_config says when it has one, else the upstream
// layout (PREFIX/lib/postgresql) and Debian's (/usr/lib/postgresql/N/lib).
std::vector<fs::path> module_dirs(const sandbox_info& info) {
    const fs::path bin(info.bindir);
    if (::access((bin / "pg_config").c_str(), X_OK) == 0) {
        std::string pkglibdir =
            first_line_of({(bin / "pg_config").string(), "--pkglibdir"}, info.dir + "/pg_config.out");
        if (!pkglibdir.empty())
            return {pkglibdir};
    }
    return {bin.parent_path() / "lib" / "postgresql", bin.parent_path() / "lib"};
}

// The places a message says were searched: "a, b, c".
std::string path_list(const std::vector<fs::path>& places) {
    std::string list;
    for (const fs::path& place : places)
        list += (list.empty() ? "" : ", ") + place.string();
    return list;
}

// Whether the server installation has pg_stat_statements, for pgreport's
// statement section. When it has not, says so: the cluster then starts
// without it, and pgreport reports no statements.
bool has_pg_stat_statements(const sandbox_info& info) {
    const std::vector<fs::path> dirs = module_dirs(info);
    if (std::any_of(dirs.begin(), dirs.end(),
                    [](const fs::path& dir) { return fs::exists(dir / "pg_stat_statements.so"); }))
        return true;
    log_warning("no pg_stat_statements.so in " + path_list(dirs) +
                ": the cluster starts without pg_stat_statements, and pgreport will report no statements");
    return false;
}

// Root runs the server as postgres, which must be able to reach the programs
// (a build under /root is out of its reach).
void check_owner_reaches(const sandbox_info& info) {
    if (!is_root())
        return;
    if (!run_process(as_owner(info.user, {"test", "-x", info.bindir + "/postgres"}), "/dev/null").ok())
        throw local_error("the server's user " + info.user + " cannot run \"" + info.bindir + "/postgres\"", {},
                          "put the server programs where " + info.user +
                              " can reach them (every directory above them readable and searchable)");
}

void run_initdb(const sandbox_info& info, const std::string& data, const std::string& setup_log) {
    auto initdb = run_process(as_owner(info.user, {info.bindir + "/initdb", "-D", data, "-U", info.user,
                                                   "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
                                                   "--no-instructions"}),
                              setup_log);
    if (!initdb.ok())
        throw local_error("initdb " + describe(initdb), tail_of(setup_log));
}

// A throwaway cluster: durability is traded for load speed.
// durable keeps the server's own durability settings (fsync,
// synchronous_commit and full_page_writes on, wal_level replica), what users
// run: the cluster for measuring. Without it they are off, for tests and demos.
// statements preloads pg_stat_statements, for pgreport.
void configure_for_loads(const sandbox_info& info, const std::string& data, bool durable, bool statements) {
    const std::string fast = "fsync = off\n"
                             "synchronous_commit = off\n"
                             "full_page_writes = off\n"
                             "wal_level = minimal\n"
                             "max_wal_senders = 0\n";
    append_file(data + "/postgresql.conf",
                std::string("\n# pgsandbox: a throwaway cluster tuned for bulk loads") +
                (durable ? ", with stock durability\n" : "\n") +
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '" + info.dir + "'\n" + (durable ? std::string() : fast) +
                "max_wal_size = '4GB'\n"
                "checkpoint_timeout = '30min'\n"
                "shared_buffers = '256MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "track_io_timing = on\n" +
                // For pgreport's statement section, where the server has the module.
                std::string(statements ? "shared_preload_libraries = 'pg_stat_statements'\n" : ""));
}

// Starts the server on a free port, recorded in info.port.
void start_server(sandbox_info& info, const std::string& data, const std::string& setup_log) {
    // The port is free when we look; another process may take it before the
    // server binds, so try a few.
    for (int attempt = 1;; ++attempt) {
        info.port = free_tcp_port();
        append_file(data + "/postgresql.conf", "port = " + std::to_string(info.port) + "\n");
        auto started = run_process(as_owner(info.user, {info.bindir + "/pg_ctl", "-D", data, "-l",
                                                        info.dir + "/server.log", "-w", "-t", "60", "start"}),
                                   setup_log);
        if (started.ok())
            return;
        if (attempt == 3)
            throw local_error("the server did not start: pg_ctl " + describe(started),
                              tail_of(info.dir + "/server.log"), "the directory is left for inspection: " + info.dir);
    }
}

// pgreport's statement section: the view, in every database made from here on.
void create_pg_stat_statements(const sandbox_info& info) {
    for (const char* db : {"template1", "postgres"}) {
        connection_options o;
        o.host = info.dir;
        o.port = std::to_string(info.port);
        o.username = info.user;
        o.dbname = db;
        o.prompt = password_prompt::never;
        connection conn = connection::open(o);
        conn.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    }
}

} // namespace

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

namespace {

bool has_server_programs(const fs::path& dir) {
    return ::access((dir / "initdb").c_str(), X_OK) == 0 && ::access((dir / "pg_ctl").c_str(), X_OK) == 0;
}

// Where a major's server programs may be, in the order they are tried.
std::vector<fs::path> places_of_major(int major) {
    const std::string n = std::to_string(major);
    std::vector<fs::path> places;
    if (const char* builds = std::getenv("PGSANDBOX_BUILDS"); builds && *builds)
        places.push_back(fs::path(builds) / n / "bin");
    // The build tree: build/bin/pgsandbox beside build/postgres/N (make deps).
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        places.push_back(self.parent_path().parent_path() / "postgres" / n / "bin");
    places.push_back(fs::path("/usr/lib/postgresql") / n / "bin");
    return places;
}

std::string find_major(int major) {
    const std::vector<fs::path> places = places_of_major(major);
    if (auto found = std::find_if(places.begin(), places.end(), has_server_programs); found != places.end())
        return found->string();
    throw local_error("no PostgreSQL " + std::to_string(major) + " server found", "looked in " + path_list(places),
                      "make deps fetches the builds of 14, 16, 17 and 18 into build/postgres "
                      "(scripts/pg_builds.sh); or pass --bindir");
}

std::string newest_installed() {
    fs::path best;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        fs::path bin = entry.path() / "bin";
        if (has_server_programs(bin) && (best.empty() || version_of(bin) > version_of(best)))
            best = bin;
    }
    if (best.empty())
        throw local_error("no PostgreSQL server found in /usr/lib/postgresql",
                          {}, "install postgresql-15 (make deps does), or pass --bindir or --pg");
    return best.string();
}

} // namespace

std::string find_server_bindir(const server_choice& choice) {
    if (choice.bindir) {
        if (!has_server_programs(*choice.bindir))
            throw local_error("no initdb and pg_ctl in \"" + *choice.bindir + "\"");
        return *choice.bindir;
    }
    if (choice.major)
        return find_major(*choice.major);
    if (const char* env = std::getenv("PGSANDBOX_BINDIR"); env && *env) {
        if (!has_server_programs(env))
            throw local_error(std::string("no initdb and pg_ctl in PGSANDBOX_BINDIR \"") + env + "\"");
        return env;
    }
    return newest_installed();
}

sandbox_info sandbox_start(const std::optional<std::string>& dir_arg, const server_choice& server, bool durable) {
    sandbox_info info;
    info.bindir = find_server_bindir(server);
    info.user = current_user();
    check_owner_reaches(info);
    info.dir = make_sandbox_dir(dir_arg);
    give_to(info.dir, info.user);
    const std::string data = info.dir + "/data";
    const std::string setup_log = info.dir + "/setup.log";
    std::ofstream(info.dir + "/" + marker_name) << "bindir=" << info.bindir << "\nuser=" << info.user << "\n";
    run_initdb(info, data, setup_log);
    const bool statements = has_pg_stat_statements(info);
    configure_for_loads(info, data, durable, statements);
    start_server(info, data, setup_log);
    std::ofstream(info.dir + "/" + marker_name, std::ios::app) << "port=" << info.port << "\n";
    if (statements)
        create_pg_stat_statements(info);
    return info;
}

sandbox_info sandbox_read(const std::string& dir) {
    std::string marker = dir + "/" + marker_name;
    std::ifstream in(marker);
    if (!in)
        throw local_error("\"" + dir + "\" is not a pgsandbox directory (no " + marker_name + " in it)",
                          {}, "pgsandbox only stops and removes what pgsandbox start made");
    sandbox_info info;
    info.dir = dir;
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos)
            continue;
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        if (key == "bindir")
            info.bindir = value;
        else if (key == "user")
            info.user = value;
        else if (key == "port")
            info.port = std::atoi(value.c_str());
    }
    if (info.bindir.empty() || info.user.empty())
        throw local_error("\"" + marker + "\" is damaged");
    return info;
}

bool sandbox_running(const std::string& dir) {
    sandbox_info info = sandbox_read(dir);
    return run_process(as_owner(info.user, {info.bindir + "/pg_ctl", "-D", dir + "/data", "status"}), "/dev/null")
        .ok();
}

void sandbox_stop(const std::string& dir) {
    sandbox_info info = sandbox_read(dir);
    const std::string data = dir + "/data";
    if (fs::exists(data + "/postmaster.pid")) {
        auto pg_ctl = [&](const char* mode) {
            return run_process(as_owner(info.user, {info.bindir + "/pg_ctl", "-D", data, "-m", mode, "-w", "-t",
                                                    "60", "stop"}),
                               "/dev/null");
        };
        if (!pg_ctl("fast").ok() && fs::exists(data + "/postmaster.pid") && !pg_ctl("immediate").ok() &&
            fs::exists(data + "/postmaster.pid"))
            throw local_error("could not stop the server in \"" + dir + "\"", tail_of(dir + "/server.log"));
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec)
        throw local_error("could not remove \"" + dir + "\": " + ec.message());
}

std::string sandbox_exports(const sandbox_info& info) {
    return "export PGHOST=" + shell_quote(info.dir) + "\n" + "export PGPORT=" + std::to_string(info.port) + "\n" +
           "export PGUSER=" + shell_quote(info.user) + "\n" + "export PGDATABASE=postgres\n";
}

} // namespace pgpipe
