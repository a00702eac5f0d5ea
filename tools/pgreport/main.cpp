// pgreport: what a load did to the server, from the pg_stat views.
#include "cli/cli.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "io/output.hpp"
#include "core/process.hpp"
#include "report.hpp"
#include "core/stats.hpp"

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw pgpipe::local_error("could not read \"" + path + "\": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Reports go to -o FILE, else to stdout (or stderr in wrap mode, where stdout
// belongs to the command).
void emit(const std::string& text, const std::string& path, bool to_stderr) {
    if (!path.empty())
        pgpipe::write_text_file(path, text);
    else if (to_stderr)
        pgpipe::log_raw(text);
    else
        std::cout << text << std::flush;
}

int server_version(pgpipe::connection& conn) { return PQserverVersion(conn.get()); }

pgpipe::exit_status pgreport_main(int argc, char** argv) {
    namespace po = pgpipe::po;
    pgpipe::connection_options conn_opts;
    std::string output, format = "text";
    std::vector<std::string> tables, args;
    double interval = 1.0;
    uint64_t count = 0;
    std::string count_text;

    // Everything after "--" is the command to wrap, options and all.
    int split = argc;
    for (int k = 1; k < argc; ++k)
        if (std::strcmp(argv[k], "--") == 0) {
            split = k;
            break;
        }
    std::vector<std::string> command(argv + std::min(split + 1, argc), argv + argc);

    pgpipe::option_set visible;
    visible.add_group("Report options")
        ("output,o", po::value<std::string>(&output)->value_name("FILE"), "write the snapshot or report to FILE")
        ("table,t", po::value<std::vector<std::string>>(&tables)->value_name("TABLE"),
         "snapshot only this table (repeatable)")
        ("format", po::value<std::string>(&format)->value_name("FORMAT"), "report format: text (default), json, tsv")
        ("interval,i", po::value<double>(&interval)->value_name("SECONDS"), "watch: seconds between readings (1)")
        ("count", po::value<std::string>(&count_text)->value_name("N"), "watch: stop after N readings");
    pgpipe::add_connection_options(visible, conn_opts);
    pgpipe::add_general_options(visible);
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>(&args));
    po::positional_options_description positional;
    positional.add("args", -1);

    pgpipe::program_help help{
        "pgreport [OPTION]... snapshot\n"
        "  pgreport [OPTION]... diff BEFORE [AFTER]\n"
        "  pgreport [OPTION]... watch\n"
        "  pgreport [OPTION]... -- COMMAND [ARG]...",
        "pgreport tells what a load cost the server, from the pg_stat views:\n"
        "snapshot writes them as JSON; diff shows rows, WAL, checkpoints, table\n"
        "and index growth and the busiest statements between two snapshots (or\n"
        "a snapshot and now); -- COMMAND takes a snapshot, runs COMMAND, waits\n"
        "for its sessions' statistics and prints the difference on stderr; watch\n"
        "shows the running COPY commands.\n\n"
        "  pgreport -- sh -c 'pggen --preset orders -n 1M | pgcopy orders'",
        "Exit status: 0 success; 1 usage or local error (a file that is not a\n"
        "snapshot); 2 connection failed; with -- COMMAND, the command's own exit\n"
        "status (128+N if a signal N ended it).\n\n"
        "See pgreport(1).\n"};

    po::variables_map vm;
    switch (pgpipe::parse_command_line(split, argv, help, visible, hidden, positional, vm, std::cout)) {
    case pgpipe::parse_outcome::exit_success: return pgpipe::exit_status::success;
    case pgpipe::parse_outcome::exit_usage: return pgpipe::exit_status::local_error;
    case pgpipe::parse_outcome::run: break;
    }
    pgpipe::report_format fmt = pgpipe::parse_report_format(format);

    if (split < argc) {
        if (!args.empty())
            return pgpipe::usage_error("\"" + args[0] + "\" before --: wrap mode takes only options there");
        if (command.empty())
            return pgpipe::usage_error("no command after --");
        pgpipe::connection conn = pgpipe::connection::open(conn_opts);
        int version = server_version(conn);
        std::vector<int> before_pids = pgpipe::other_backends(conn);
        pgpipe::snapshot before = pgpipe::parse_snapshot(pgpipe::take_snapshot(conn, tables), "before");
        // Like time(1): a Ctrl-C is for the command; pgreport waits for it
        // to end and still reports.
        std::signal(SIGINT, SIG_IGN);
        std::signal(SIGQUIT, SIG_IGN);
        int status;
        try {
            pgpipe::process_result result = pgpipe::run_process_inherited(command);
            status = result.signal ? 128 + result.signal : result.exit_code;
        } catch (const pgpipe::error& e) {
            pgpipe::log_error(e.what()); // not found or not runnable: 127, as a shell says
            status = 127;
        }
        // The command's status is what a caller waits for: a report that
        // cannot be made is a warning, not a new status.
        try {
            pgpipe::wait_for_statistics(conn, before_pids, version, 10.0);
            pgpipe::snapshot after = pgpipe::parse_snapshot(pgpipe::take_snapshot(conn, tables), "after");
            emit(pgpipe::render_diff(before, after, fmt), output, true);
        } catch (const pgpipe::error& e) {
            pgpipe::log_warning(std::string("no report: ") + e.what());
        }
        return static_cast<pgpipe::exit_status>(status);
    }
    if (args.empty())
        return pgpipe::usage_error("no command given (snapshot, diff, watch, or -- COMMAND)");
    const std::string& verb = args[0];
    if (verb == "snapshot") {
        if (args.size() > 1)
            return pgpipe::usage_error("snapshot takes no arguments (tables go with -t)");
        pgpipe::connection conn = pgpipe::connection::open(conn_opts);
        emit(pgpipe::take_snapshot(conn, tables), output, false);
        return pgpipe::exit_status::success;
    }
    if (verb == "diff") {
        if (args.size() < 2 || args.size() > 3)
            return pgpipe::usage_error("diff takes BEFORE and an optional AFTER");
        pgpipe::snapshot before = pgpipe::parse_snapshot(read_file(args[1]), args[1]);
        pgpipe::snapshot after;
        if (args.size() == 3) {
            after = pgpipe::parse_snapshot(read_file(args[2]), args[2]);
        } else {
            pgpipe::connection conn = pgpipe::connection::open(conn_opts);
            after = pgpipe::parse_snapshot(pgpipe::take_snapshot(conn, tables), "now");
        }
        // Counters of two databases (or servers) subtract to nonsense.
        pgpipe::check_same_database(before, after);
        if (after.epoch < before.epoch)
            pgpipe::log_warning("\"" + args[1] + "\" was taken after the other snapshot; the deltas are negative");
        emit(pgpipe::render_diff(before, after, fmt), output, false);
        return pgpipe::exit_status::success;
    }
    if (verb == "watch") {
        if (args.size() > 1)
            return pgpipe::usage_error("watch takes no arguments");
        if (!(interval > 0))
            return pgpipe::usage_error("the interval must be above 0 seconds");
        if (!count_text.empty()) {
            count = pgpipe::parse_count(count_text);
            if (count == 0)
                return pgpipe::usage_error("--count must be at least 1");
        }
        pgpipe::connection conn = pgpipe::connection::open(conn_opts);
        if (server_version(conn) < 140000)
            throw pgpipe::local_error("watch needs PostgreSQL 14 or later (pg_stat_progress_copy)");
        const bool terminal = isatty(STDOUT_FILENO) && output.empty();
        for (uint64_t n = 1;; ++n) {
            if (pgpipe::pending_interrupt())
                break; // Ctrl-C is how a watch ends

            std::string screen = pgpipe::render_copy_progress(conn, fmt, terminal || n == 1);
            if (terminal)
                std::cout << "\033[H\033[2J" << screen << std::flush; // redraw in place
            else
                std::cout << screen << std::flush;
            if (count && n >= count)
                break;
            std::this_thread::sleep_for(std::chrono::duration<double>(interval));
        }
        return pgpipe::exit_status::success;
    }
    return pgpipe::usage_error("unknown command \"" + verb + "\" (snapshot, diff, watch, or -- COMMAND)");
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pgreport_main); }
