// pgcopy: stream COPY data (text, csv, binary; maybe zstd) into a table.
#include "pgpipe/cli.hpp"
#include "pgpipe/copy_load.hpp"
#include "pgpipe/log.hpp"

#include <iostream>

namespace {

pgpipe::exit_status pgcopy_main(int argc, char** argv) {
    namespace po = pgpipe::po;
    pgpipe::copy_load_options cfg;
    pgpipe::progress_options out;
    std::string format = "text";

    pgpipe::option_set visible;
    visible.add_group("Load options")
        ("columns,c", po::value<std::string>()->value_name("LIST")
             ->notifier([&](const std::string& v) { cfg.columns = v; }),
         "load only these columns, in this order (a,b,c)")
        ("format,F", po::value<std::string>(&format)->value_name("FORMAT"),
         "input format: text (default), csv or binary")
        ("header", po::bool_switch(&cfg.format.header), "the first line of each input names the columns")
        ("delimiter", po::value<std::string>()->value_name("CHAR")
             ->notifier([&](const std::string& v) { cfg.format.delimiter = v; }),
         "column delimiter (text: tab, csv: comma)")
        ("quote", po::value<std::string>()->value_name("CHAR")
             ->notifier([&](const std::string& v) { cfg.format.quote = v; }),
         "csv quote character (default \")")
        ("escape", po::value<std::string>()->value_name("CHAR")
             ->notifier([&](const std::string& v) { cfg.format.escape = v; }),
         "csv escape character (default: the quote)")
        ("null", po::value<std::string>()->value_name("STRING")
             ->notifier([&](const std::string& v) { cfg.format.null_string = v; }),
         "string that means NULL (text: \\N, csv: empty)")
        ("encoding", po::value<std::string>()->value_name("ENCODING")
             ->notifier([&](const std::string& v) { cfg.format.encoding = v; }),
         "encoding of the input (default: the client's)")
        ("truncate", po::bool_switch(&cfg.truncate), "empty the table first, in the same transaction")
        ("freeze", po::bool_switch(&cfg.freeze), "COPY FREEZE: rows loaded frozen (needs --truncate)");
    pgpipe::add_connection_options(visible, cfg.connection);
    pgpipe::add_progress_options(visible, out);
    pgpipe::add_general_options(visible);

    po::options_description hidden;
    hidden.add_options()
        ("table", po::value<std::string>(&cfg.table))
        ("file", po::value<std::vector<std::string>>(&cfg.inputs));
    po::positional_options_description positional;
    positional.add("table", 1).add("file", -1);

    pgpipe::program_help help{
        "pgcopy [OPTION]... TABLE [FILE]...",
        "pgcopy streams rows into a PostgreSQL table with COPY FROM STDIN, in one\n"
        "transaction. FILEs (or stdin, or -) hold COPY text, csv or binary data;\n"
        "zstd-compressed input is detected and decompressed on the fly.",
        "Exit status: 0 loaded; 1 usage or local error (nothing committed);\n"
        "2 connection failed or lost, or the server refused the load (nothing\n"
        "committed); 3 some rows were rejected (reserved: reject files are\n"
        "not written yet).\n\n"
        "See pgcopy(1). Connection settings also come from PGHOST, PGPORT,\n"
        "PGUSER, PGDATABASE, ~/.pgpass and service files, as in psql.\n"};

    po::variables_map vm;
    switch (pgpipe::parse_command_line(argc, argv, help, visible, hidden, positional, vm, std::cout)) {
    case pgpipe::parse_outcome::exit_success: return pgpipe::exit_status::success;
    case pgpipe::parse_outcome::exit_usage: return pgpipe::exit_status::local_error;
    case pgpipe::parse_outcome::run: break;
    }
    if (cfg.table.empty())
        return pgpipe::usage_error("no table given");
    cfg.format.format = pgpipe::parse_copy_format(format);
    pgpipe::set_quiet(out.quiet);
    cfg.show_progress = out.show_progress();
    cfg.stats_file = out.stats_file;
    pgpipe::run_copy(cfg);
    return pgpipe::exit_status::success;
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pgcopy_main); }
