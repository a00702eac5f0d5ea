// pgcopy: stream COPY data (text, csv, binary; maybe zstd) into a table.
#include "cli/cli.hpp"
#include "copy_load.hpp"
#include "copy_rules.hpp"
#include "core/log.hpp"
#include "io/output.hpp"

#include <iostream>

namespace {

namespace po = pgpipe::po;

// Option values as typed, before the engine reads them.
struct typed_options {
    std::string format = "text", batch_rows, batch_bytes, max_rejects, on_conflict;
};

void add_load_options(pgpipe::option_set& options, pgpipe::copy_load_options& cfg, typed_options& text) {
    options.add_group("Load options")
        ("columns,c", po::value<std::string>()->value_name("LIST")
             ->notifier([c = &cfg](const std::string& v) { c->columns = v; }),
         "load only these columns, in this order (a,b,c)")
        ("format,F", po::value<std::string>(&text.format)->value_name("FORMAT"),
         "input format: text (default), csv or binary")
        ("header", po::bool_switch(&cfg.format.header),
         "the first line of each input names the columns (and without -c, which)")
        ("delimiter", po::value<std::string>()->value_name("CHAR")
             ->notifier([c = &cfg](const std::string& v) { c->format.delimiter = v; }),
         "column delimiter (text: tab, csv: comma)")
        ("quote", po::value<std::string>()->value_name("CHAR")
             ->notifier([c = &cfg](const std::string& v) { c->format.quote = v; }),
         "csv quote character (default \")")
        ("escape", po::value<std::string>()->value_name("CHAR")
             ->notifier([c = &cfg](const std::string& v) { c->format.escape = v; }),
         "csv escape character (default: the quote)")
        ("null", po::value<std::string>()->value_name("STRING")
             ->notifier([c = &cfg](const std::string& v) { c->format.null_string = v; }),
         "string that means NULL (text: \\N, csv: empty)")
        ("encoding", po::value<std::string>()->value_name("ENCODING")
             ->notifier([c = &cfg](const std::string& v) { c->format.encoding = v; }),
         "encoding of the input (default: the client's)")
        ("script", po::bool_switch(&cfg.script),
         "the inputs are script streams of COPY blocks (else detected by their first line)")
        ("require-end", po::bool_switch(&cfg.require_end),
         "each input must end with the end line \\. (binary: its trailer) that its producer writes when it "
         "finished; else the load fails (in one transaction, nothing commits)")
        ("truncate", po::bool_switch(&cfg.truncate), "empty the table first, in the same transaction")
        ("freeze", po::bool_switch(&cfg.freeze), "COPY FREEZE: rows loaded frozen (needs --truncate)")
        ("toast-compression", po::value<std::string>()->value_name("METHOD")
             ->notifier([c = &cfg](const std::string& v) { c->levers.toast_compression = v; }),
         "compress wide values with lz4 or pglz during the load")
        ("defer-indexes", po::bool_switch(&cfg.levers.defer_indexes),
         "drop the table's indexes first, rebuild them after, in the load's transaction")
        ("defer-constraints", po::bool_switch(&cfg.levers.defer_constraints),
         "drop foreign keys and checks first, re-add (validate) them after")
        ("reserve-ids", po::bool_switch(&cfg.levers.reserve_ids),
         "fill a sequence-filled key the input lacks from blocks reserved in one step")
        ("send-binary", po::bool_switch(&cfg.levers.send_binary),
         "encode text rows as COPY binary where every column's type allows")
        ("fast", po::bool_switch(&cfg.levers.fast),
         "choose the fastest safe plan for the table and input (see pgcopy(1))")
        ("restore", po::bool_switch(&cfg.restore),
         "put back the indexes and constraints an interrupted load left off TABLE")
        ("verbose,v", po::bool_switch(&cfg.verbose), "print the plan and each step of the load");
}

void add_batch_options(pgpipe::option_set& options, pgpipe::copy_load_options& cfg, typed_options& text) {
    options.add_group("Batch and recovery options")
        ("batch-rows", po::value<std::string>(&text.batch_rows)->value_name("N"), "commit every N rows (1000, 100k)")
        ("batch-bytes", po::value<std::string>(&text.batch_bytes)->value_name("N"), "commit every N bytes (64M; 16M by default)")
        ("reject-file", po::value<std::string>(&cfg.rejects.file)->value_name("FILE"),
         "write rows the server refuses to FILE (reasons to FILE.log) and go on")
        ("max-rejects", po::value<std::string>(&text.max_rejects)->value_name("N[%]"),
         "stop after more than N rejected rows (or N% of rows)")
        ("resume-key", po::value<std::string>(&cfg.resume_key)->value_name("KEY"),
         "record progress under KEY; a rerun skips what committed")
        ("retries", po::value<int>(&cfg.retries)->value_name("N"),
         "on a lost connection, reconnect and retry the batch N times")
        ("on-conflict", po::value<std::string>(&text.on_conflict)->value_name("ACTION"),
         "ignore or update rows whose key exists (via a staging table)")
        ("conflict-columns", po::value<std::string>()->value_name("LIST")
             ->notifier([c = &cfg](const std::string& v) { c->upsert.conflict_columns = v; }),
         "the unique key for --on-conflict (default: the primary key)")
        ("single-transaction", po::bool_switch(&cfg.single_transaction),
         "batches in one transaction, a savepoint each")
        ("jobs,j", po::value<unsigned>()->value_name("N")
             ->notifier([c = &cfg](unsigned v) { c->jobs = v; }),
         "load batches over N connections in parallel (each commits its own)");
}

void add_route_options(pgpipe::option_set& options, pgpipe::copy_load_options& cfg) {
    options.add_group("Sharded tables (partitions on postgres_fdw servers)")
        ("route", po::bool_switch(),
         "send each row straight to its partition's server, or refuse saying why (by default: when pgcopy can)")
        ("no-route", po::bool_switch(), "load through the parent table, as the server routes rows")
        ("two-phase", po::bool_switch(&cfg.sharding.two_phase),
         "commit a routed load (or batch) on every server or on none (PREPARE TRANSACTION)");
}

const pgpipe::program_help help{
    "pgcopy [OPTION]... TABLE [FILE]...\n  pgcopy [OPTION]... --script [FILE]...\n  pgcopy [OPTION]... --restore TABLE",
    "pgcopy streams rows into a PostgreSQL table with COPY FROM STDIN, in one\n"
    "transaction. FILEs (or stdin, or -) hold COPY text, csv or binary data;\n"
    "zstd-compressed input is detected and decompressed on the fly.",
    "Exit status: 0 loaded; 1 usage or local error (nothing committed);\n"
    "2 connection failed or lost, or the server refused the load (nothing\n"
    "committed in the failed batch); 3 some rows were rejected (see\n"
    "--reject-file), or more than --max-rejects.\n\n"
    "See pgcopy(1). Connection settings also come from PGHOST, PGPORT,\n"
    "PGUSER, PGDATABASE, ~/.pgpass and service files, as in psql.\n"};

// The typed values into the options; every rule is the engine's.
void read_typed_options(const typed_options& text, const po::variables_map& vm, pgpipe::copy_load_options& cfg) {
    // A script names its tables: with --script every argument is a FILE.
    if (cfg.script && !cfg.table.empty()) {
        cfg.inputs.insert(cfg.inputs.begin(), cfg.table);
        cfg.table.clear();
    }
    cfg.format.format = pgpipe::parse_copy_format(text.format);
    if (vm.count("format"))
        cfg.named_format = cfg.format.format;
    if (!text.batch_rows.empty())
        cfg.batch_size.rows = pgpipe::parse_count(text.batch_rows);
    if (!text.batch_bytes.empty())
        cfg.batch_size.bytes = pgpipe::parse_size(text.batch_bytes);
    if (vm.count("max-rejects"))
        pgpipe::parse_max_rejects(text.max_rejects, cfg);
    cfg.upsert.on_conflict = pgpipe::parse_conflict_action(text.on_conflict);
    const bool route = vm["route"].as<bool>(), no_route = vm["no-route"].as<bool>();
    if (route && no_route)
        throw pgpipe::usage_failure("--route and --no-route contradict each other");
    cfg.sharding.route = route ? pgpipe::route_mode::on : no_route ? pgpipe::route_mode::off : pgpipe::route_mode::automatic;
}

pgpipe::exit_status pgcopy_main(int argc, char** argv) {
    pgpipe::copy_load_options cfg;
    typed_options text;
    pgpipe::progress_options out;
    pgpipe::option_set visible; // in --help's order
    add_load_options(visible, cfg, text);
    add_batch_options(visible, cfg, text);
    add_route_options(visible, cfg);
    pgpipe::add_client_options(visible, cfg.connection, out);

    po::variables_map vm;
    if (auto done = pgpipe::parse_table_and_files(argc, argv, help, visible, cfg.table, cfg.inputs, vm))
        return *done;
    read_typed_options(text, vm, cfg);
    pgpipe::set_quiet(out.quiet);
    cfg.show_progress = out.show_progress();
    cfg.stats_file = out.stats_file;
    pgpipe::load_summary summary = pgpipe::run_copy(cfg);
    return summary.rejected ? pgpipe::exit_status::rows_rejected : pgpipe::exit_status::success;
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pgcopy_main); }
