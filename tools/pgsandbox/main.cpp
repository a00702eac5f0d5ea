// pgsandbox: start and stop a throwaway PostgreSQL cluster.
#include "cli/cli.hpp"
#include "core/log.hpp"
#include "sandbox.hpp"

#include <iostream>

namespace {

namespace po = pgpipe::po;

const pgpipe::program_help help{
    "pgsandbox start [DIR]\n  pgsandbox stop DIR\n  pgsandbox status DIR",
    "pgsandbox starts and stops a throwaway PostgreSQL cluster for demos and\n"
    "tests. start creates DIR (or a new /tmp/pgsandbox.XXXXXX), runs initdb\n"
    "(as the postgres user when run as root), listens on a Unix socket in DIR\n"
    "and a free port on 127.0.0.1, and prints export lines for eval:\n\n"
    "  eval \"$(pgsandbox start)\"; ...; pgsandbox stop \"$PGHOST\"\n\n"
    "--pg 17 starts PostgreSQL 17: the upstream build that make deps put in\n"
    "build/postgres/17 (14, 16, 17 and 18), or /usr/lib/postgresql/17.",
    "The cluster trades durability for speed (fsync off) unless --durable,\n"
    "which keeps the stock settings for measuring: never keep data in it.\n"
    "stop stops the server and removes DIR; it refuses a directory that\n"
    "pgsandbox did not make.\n\n"
    "Exit status: 0 success; 1 usage or local error (the server could not\n"
    "be started or stopped). status exits 0 when running, 1 when not.\n\n"
    "See pgsandbox(1).\n"};

pgpipe::exit_status start(const std::vector<std::string>& args, const pgpipe::server_choice& server,
                          bool durable) {
    if (args.size() > 1)
        return pgpipe::usage_error("start takes at most one directory");
    if (server.bindir && server.major)
        return pgpipe::usage_error("--bindir and --pg name the server twice: give one");
    if (server.major && (*server.major < 10 || *server.major > 99))
        return pgpipe::usage_error("--pg takes a major version such as 17, not " + std::to_string(*server.major));
    std::optional<std::string> dir;
    if (!args.empty())
        dir = args[0];
    pgpipe::sandbox_info info = pgpipe::sandbox_start(dir, server, durable);
    std::cout << pgpipe::sandbox_exports(info) << std::flush;
    pgpipe::log_info("started a throwaway cluster in " + info.dir + " (port " + std::to_string(info.port) +
                     "); stop it with: pgsandbox stop " + pgpipe::shell_quote(info.dir));
    return pgpipe::exit_status::success;
}

// stop DIR or status DIR.
pgpipe::exit_status stop_or_status(const std::string& command, const std::vector<std::string>& args) {
    if (args.size() != 1)
        return pgpipe::usage_error(command + " takes exactly one directory");
    if (command == "status") {
        bool running = pgpipe::sandbox_running(args[0]);
        std::cout << (running ? "running" : "not running") << "\n";
        return running ? pgpipe::exit_status::success : pgpipe::exit_status::local_error;
    }
    pgpipe::sandbox_stop(args[0]);
    pgpipe::log_info("stopped and removed " + args[0]);
    return pgpipe::exit_status::success;
}

pgpipe::exit_status pgsandbox_main(int argc, char** argv) {
    pgpipe::server_choice server;
    bool quiet = false, durable = false;
    std::string command;
    std::vector<std::string> args;

    pgpipe::option_set visible;
    visible.add_group("Options")
        ("bindir", po::value<std::string>()->value_name("DIR")
             ->notifier([&](const std::string& v) { server.bindir = v; }),
         "server programs to use (default: newest in /usr/lib/postgresql)")
        ("pg", po::value<int>()->value_name("MAJOR")
             ->notifier([&](int v) { server.major = v; }),
         "start: a PostgreSQL major, e.g. 17 (make deps fetches 14, 16, 17, 18)")
        ("durable", po::bool_switch(&durable),
         "start: keep the server's stock durability (fsync, synchronous_commit, full_page_writes on)")
        ("quiet,q", po::bool_switch(&quiet), "print only the export lines");
    pgpipe::add_general_options(visible);

    po::options_description hidden;
    hidden.add_options()
        ("command", po::value<std::string>(&command))
        ("args", po::value<std::vector<std::string>>(&args));
    po::positional_options_description positional;
    positional.add("command", 1).add("args", -1);

    po::variables_map vm;
    if (auto done = pgpipe::parse_command_line(argc, argv, help, visible, hidden, positional, vm, std::cout))
        return *done;
    pgpipe::set_quiet(quiet);
    if (command == "start")
        return start(args, server, durable);
    if (command == "stop" || command == "status")
        return stop_or_status(command, args);
    if (command.empty())
        return pgpipe::usage_error("no command given (start, stop or status)");
    return pgpipe::usage_error("unknown command \"" + command + "\" (start, stop or status)");
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pgsandbox_main); }
