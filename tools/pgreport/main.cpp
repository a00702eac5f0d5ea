// pgreport: what a load did to the server, from the pg_stat views.
#include "cli/cli.hpp"
#include "modes.hpp"

#include <cstring>
#include <iostream>

namespace {

namespace po = pgpipe::po;

// The flags that are read after the command line is parsed, as given.
struct report_flags {
    std::string format = "text";
};

void add_report_options(pgpipe::option_set& visible, pgpipe::report_request& r, report_flags& flags) {
    visible.add_group("Report options")
        ("output,o", po::value<std::string>(&r.output)->value_name("FILE"), "write the snapshot or report to FILE")
        ("table,t", po::value<std::vector<std::string>>(&r.tables)->value_name("TABLE"),
         "snapshot only this table (repeatable)")
        ("format", po::value<std::string>(&flags.format)->value_name("FORMAT"),
         "report format: text (default), json, tsv")
        ("interval,i", po::value<double>(&r.interval)->value_name("SECONDS"), "watch: seconds between readings (1)")
        ("count", po::value<std::string>(&r.count_text)->value_name("N"),
         "watch: stop after N readings (0: until interrupted)");
}

const pgpipe::program_help help{
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

// Everything after "--" is the command to wrap, options and all: returns
// the index of "--", or argc.
int split_at_command(int argc, char** argv, pgpipe::report_request& r) {
    for (int k = 1; k < argc; ++k)
        if (std::strcmp(argv[k], "--") == 0) {
            r.wrap = true;
            r.command.assign(argv + k + 1, argv + argc);
            return k;
        }
    return argc;
}

pgpipe::exit_status pgreport_main(int argc, char** argv) {
    pgpipe::report_request request;
    report_flags flags;
    int split = split_at_command(argc, argv, request);

    pgpipe::option_set visible;
    add_report_options(visible, request, flags);
    pgpipe::add_connection_options(visible, request.connection);
    pgpipe::add_general_options(visible);
    po::variables_map vm;
    if (auto done = pgpipe::parse_with_args(split, argv, help, visible, request.args, vm))
        return *done;
    request.format = pgpipe::parse_report_format(flags.format);
    return pgpipe::run_report(request);
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pgreport_main); }
