// pgreport's modes: snapshot, diff, watch and wrap (-- COMMAND), from the
// parsed command line to the report written.
#include "modes.hpp"

#include "cli/cli.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/stats.hpp"
#include "diff.hpp"
#include "io/output.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace pgpipe {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw local_error("could not read \"" + path + "\": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Reports go to -o FILE, else to stdout (or stderr in wrap mode, where stdout
// belongs to the command).
void emit(const std::string& text, const std::string& path, bool to_stderr) {
    if (!path.empty())
        write_text_file(path, text);
    else if (to_stderr)
        log_raw(text);
    else
        std::cout << text << std::flush;
}

// Like time(1): runs the command with pgreport's stdin, stdout and stderr,
// and gives its exit status the way a shell would.
int run_command(const std::vector<std::string>& command) {
    // A Ctrl-C is for the command; pgreport waits for it to end and still reports.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGQUIT, SIG_IGN);
    try {
        process_result result = run_process_inherited(command);
        return result.signal ? 128 + result.signal : result.exit_code;
    } catch (const error& e) {
        log_error(e.what()); // not found or not runnable: 127, as a shell says
        return 127;
    }
}

// watch's readings, redrawn in place on a terminal, appended otherwise.
void watch_loop(connection& conn, const report_request& r, uint64_t count) {
    const bool terminal = isatty(STDOUT_FILENO) && r.output.empty();
    for (uint64_t n = 1;; ++n) {
        throw_if_interrupted(); // Ctrl-C ends a watch, as a signal: "interrupted", 130

        std::vector<copy_progress> copies;
        try {
            copies = read_copy_progress(conn);
        } catch (const server_error&) {
            throw_if_interrupted(); // the signal cancelled the reading: it was interrupted, not refused
            throw;
        }
        std::string screen = render_copy_progress(copies, r.format, terminal || n == 1);
        if (terminal)
            std::cout << "\033[H\033[2J" << screen << std::flush;
        else
            std::cout << screen << std::flush;
        if (count && n >= count)
            break;
        sleep_unless_interrupted(r.interval);
    }
}

} // namespace

exit_status run_snapshot_mode(const report_request& r) {
    if (r.args.size() > 1)
        return usage_error("snapshot takes no arguments (tables go with -t)");
    connection conn = connection::open(r.connection);
    own_queries queries(conn);
    emit(take_snapshot(queries, r.tables), r.output, false);
    return exit_status::success;
}

exit_status run_diff_mode(const report_request& r) {
    if (r.args.size() < 2 || r.args.size() > 3)
        return usage_error("diff takes BEFORE and an optional AFTER");
    snapshot before = parse_snapshot(read_file(r.args[1]), r.args[1]);
    snapshot after;
    if (r.args.size() == 3) {
        after = parse_snapshot(read_file(r.args[2]), r.args[2]);
    } else {
        connection conn = connection::open(r.connection);
        own_queries queries(conn);
        after = parse_snapshot(take_snapshot(queries, r.tables), "now");
    }
    // Counters of two databases (or servers) subtract to nonsense.
    check_same_database(before, after);
    if (after.epoch < before.epoch)
        log_warning("\"" + r.args[1] + "\" was taken after the other snapshot; the deltas are negative");
    emit(render_diff(before, after, r.format), r.output, false);
    return exit_status::success;
}

exit_status run_watch_mode(const report_request& r) {
    if (r.args.size() > 1)
        return usage_error("watch takes no arguments");
    if (!(r.interval > 0))
        return usage_error("the interval must be above 0 seconds");
    // 0 (or no --count): until interrupted.
    const uint64_t count = r.count_text.empty() ? 0 : parse_count(r.count_text);
    connection conn = connection::open(r.connection);
    if (!server_rules::of(conn).has_pg_stat_progress_copy())
        throw local_error("watch needs PostgreSQL 14 or later (pg_stat_progress_copy)");
    watch_loop(conn, r, count);
    return exit_status::success;
}

exit_status run_wrap_mode(const report_request& r) {
    if (!r.args.empty())
        return usage_error("\"" + r.args[0] + "\" before --: wrap mode takes only options there");
    if (r.command.empty())
        return usage_error("no command after --");
    connection conn = connection::open(r.connection);
    own_queries queries(conn);
    std::vector<int> before_pids = other_backends(queries);
    snapshot before = parse_snapshot(take_snapshot(queries, r.tables), "before");
    int status = run_command(r.command);
    // The command's status is what a caller waits for: a report that
    // cannot be made is a warning, not a new status.
    try {
        wait_for_statistics(queries, before_pids, 10.0);
        snapshot after = parse_snapshot(take_snapshot(queries, r.tables), "after");
        emit(render_diff(before, after, r.format), r.output, true);
    } catch (const error& e) {
        log_warning(std::string("no report: ") + e.what());
    }
    return static_cast<exit_status>(status);
}

exit_status run_report(const report_request& r) {
    if (r.wrap)
        return run_wrap_mode(r);
    if (r.args.empty())
        return usage_error("no command given (snapshot, diff, watch, or -- COMMAND)");
    static const std::pair<const char*, exit_status (*)(const report_request&)> verbs[] = {
        {"snapshot", run_snapshot_mode}, {"diff", run_diff_mode}, {"watch", run_watch_mode}};
    for (const auto& [verb, run] : verbs)
        if (r.args[0] == verb)
            return run(r);
    return usage_error("unknown command \"" + r.args[0] + "\" (snapshot, diff, watch, or -- COMMAND)");
}

} // namespace pgpipe
