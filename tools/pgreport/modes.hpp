// pgreport's modes (snapshot, diff, watch, and -- COMMAND), each run from
// the parsed command line.
#pragma once

#include "report.hpp"

#include "core/error.hpp"
#include "pg/connection.hpp"

#include <string>
#include <vector>

namespace pgpipe {

/// What pgreport's command line asked for, once parsed.
struct report_request {
    connection_options connection;              ///< -d -h -p -U -w -W
    std::string output;                         ///< -o FILE; empty: stdout (stderr in wrap mode)
    report_format format = report_format::text; ///< --format
    std::vector<std::string> tables;            ///< -t TABLE..., as written
    double interval = 1.0;                      ///< watch: -i SECONDS between readings
    std::string count_text;                     ///< watch: --count N as written; empty: no limit
    std::vector<std::string> args;              ///< the verb and its operands (before any --)
    bool wrap = false;                          ///< "--" was given: wrap mode
    std::vector<std::string> command;           ///< wrap mode: the command and its arguments
};

/// Runs the mode request names; usage mistakes are reported and give exit 1.
exit_status run_report(const report_request& request);

/// snapshot: the statistics views as JSON, to -o FILE or stdout.
exit_status run_snapshot_mode(const report_request& request);
/// diff BEFORE [AFTER]: the report between two snapshots (or one and now).
exit_status run_diff_mode(const report_request& request);
/// watch: the running COPY commands every interval, until Ctrl-C or --count.
exit_status run_watch_mode(const report_request& request);
/// -- COMMAND: a snapshot, the command, and the report on stderr; the
/// command's exit status (128+N for signal N, 127 when it cannot run).
exit_status run_wrap_mode(const report_request& request);

} // namespace pgpipe
