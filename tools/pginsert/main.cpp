// pginsert: the same load as pgcopy, by INSERT strategies, for comparison
// and for targets without COPY.
#include "cli/cli.hpp"
#include "insert_load.hpp"
#include "core/log.hpp"
#include "io/output.hpp"

#include <iostream>

namespace {

namespace po = pgpipe::po;

// The flags that are parsed after the command line is read, as given.
struct insert_flags {
    std::string strategy = "values";
    std::string batch = "1000";
    std::string on_conflict;
};

void add_insert_options(pgpipe::option_set& visible, pgpipe::insert_load_options& cfg, insert_flags& flags) {
    visible.add_group("Insert options")
        ("strategy", po::value<std::string>(&flags.strategy)->value_name("NAME"),
         "row, txn, values (default) or pipeline")
        ("batch", po::value<std::string>(&flags.batch)->value_name("N"),
         "rows per statement (values) or per sync (pipeline); 1000")
        ("columns,c", po::value<std::string>()->value_name("LIST")
             ->notifier([&](const std::string& v) { cfg.columns = v; }),
         "insert into these columns, in this order (a,b,c)")
        ("on-conflict", po::value<std::string>(&flags.on_conflict)->value_name("ACTION"),
         "ignore or update rows whose key exists")
        ("conflict-columns", po::value<std::string>()->value_name("LIST")
             ->notifier([&](const std::string& v) { cfg.conflict_columns = v; }),
         "the unique key for --on-conflict (default: the primary key)");
}

const pgpipe::program_help help{
    "pginsert [OPTION]... TABLE [FILE]...",
    "pginsert reads COPY text rows (FILEs, or stdin; zstd is detected) and\n"
    "inserts them the ways applications do: row (an INSERT and a commit per\n"
    "row), txn (an INSERT per row, one transaction), values (multi-row\n"
    "VALUES) or pipeline (libpq pipeline mode, one prepared statement).",
    "Exit status: 0 inserted; 1 usage or local error; 2 connection failed or\n"
    "the server refused a row (with row: the rows before it stay committed;\n"
    "otherwise nothing is).\n\n"
    "See pginsert(1).\n"};

// Reads the flags into cfg and refuses combinations that make no sense;
// success when the load may start.
pgpipe::exit_status apply_flags(pgpipe::insert_load_options& cfg, const insert_flags& flags) {
    cfg.strategy = pgpipe::parse_insert_strategy(flags.strategy);
    cfg.batch = pgpipe::parse_count(flags.batch);
    cfg.on_conflict = pgpipe::parse_conflict_action(flags.on_conflict);
    pgpipe::validate_insert_load(cfg);
    return pgpipe::exit_status::success;
}

pgpipe::exit_status pginsert_main(int argc, char** argv) {
    pgpipe::insert_load_options cfg;
    pgpipe::progress_options out;
    insert_flags flags;

    pgpipe::option_set visible;
    add_insert_options(visible, cfg, flags);
    pgpipe::add_client_options(visible, cfg.connection, out);

    po::variables_map vm;
    if (auto done = pgpipe::parse_table_and_files(argc, argv, help, visible, cfg.table, cfg.inputs, vm))
        return *done;
    if (auto status = apply_flags(cfg, flags); status != pgpipe::exit_status::success)
        return status;
    pgpipe::set_quiet(out.quiet);
    cfg.show_progress = out.show_progress();
    cfg.stats_file = out.stats_file;
    pgpipe::run_insert(cfg);
    return pgpipe::exit_status::success;
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pginsert_main); }
