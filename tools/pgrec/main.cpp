// pgrec: ORM-shaped records (JSON lines) to COPY rows for a table.
#include "cli/cli.hpp"
#include "core/log.hpp"
#include "io/output.hpp"
#include "records.hpp"

#include <iostream>
#include <optional>

namespace {

namespace po = pgpipe::po;

// Options whose words are read after parsing, as written.
struct record_words {
    std::string missing = "default", block = "1000", json_null = "sql";
};

// The record options, into cfg and words.
void add_record_options(pgpipe::option_set& visible, pgpipe::record_options& cfg, record_words& words) {
    visible.add_group("Record options")
        ("columns", po::value<std::string>()->value_name("LIST")
             ->notifier([&](const std::string& v) { cfg.columns = v; }),
         "column types offline: name:type,... (no connection)")
        ("map", po::value<std::string>()->value_name("LIST")
             ->notifier([&](const std::string& v) { cfg.map = v; }),
         "rename keys: key=column,...")
        ("missing", po::value<std::string>(&words.missing)->value_name("WHAT"),
         "a missing key: default (the column's DEFAULT), null or error")
        ("ignore-unknown", po::bool_switch(&cfg.ignore_unknown), "drop keys that name no column")
        ("json-null", po::value<std::string>(&words.json_null)->value_name("WHAT"),
         "a JSON null in a json or jsonb column: sql (NULL, the default) or value (JSON's null, as SQLAlchemy stores None)")
        ("with-ids", po::bool_switch(&cfg.with_ids), "fill serial and identity columns from the records too")
        ("reject-file", po::value<std::string>(&cfg.reject_file)->value_name("FILE"),
         "write bad lines to FILE (reasons to FILE.log) and go on")
        ("list-columns", po::bool_switch(&cfg.list_columns),
         "print the columns of -F csv and binary, comma-separated, then exit")
        ("child", po::value<std::vector<std::string>>(&cfg.children)->value_name("KEY=TABLE.COLUMN"),
         "the array under KEY holds rows of TABLE referencing the parent by COLUMN")
        ("block", po::value<std::string>(&words.block)->value_name("N"), "with --child: records per script block (1000)")
        ("require-end", po::bool_switch(&cfg.require_end),
         "each input must end with the end line \\. its producer writes once it finished (else exit 1, "
         "no end line written: pgcopy --require-end then loads nothing); implies --end-line")
        ("id-start", po::value<int64_t>()->value_name("N")
             ->notifier([&](int64_t v) { cfg.id_start = v; }),
         "with --child: count ids from N instead of the sequences");
}

// --missing's value; nullopt for a word it does not take.
std::optional<pgpipe::missing_key> parse_missing(const std::string& word) {
    if (word == "default")
        return pgpipe::missing_key::default_value;
    if (word == "null")
        return pgpipe::missing_key::null;
    if (word == "error")
        return pgpipe::missing_key::error;
    return std::nullopt;
}

pgpipe::exit_status pgrec_main(int argc, char** argv) {
    pgpipe::record_options cfg;
    pgpipe::progress_options out;
    record_words words;

    pgpipe::option_set visible;
    add_record_options(visible, cfg, words);
    pgpipe::output_options output;
    pgpipe::add_output_format_options(visible, output);
    pgpipe::add_client_options(visible, cfg.connection, out);

    pgpipe::program_help help{
        "pgrec [OPTION]... TABLE [FILE]...",
        "pgrec turns JSON lines (one object per line, as an application prints its\n"
        "ORM objects) into COPY rows for TABLE: keys map to columns, values are\n"
        "converted exactly to the column types read from the live table (or given\n"
        "with --columns), and every bad line is named by file, line and key.\n"
        "Text output is a script stream (COPY blocks naming their columns), so\n"
        "serial ids and a missing key's DEFAULT are left to the server:\n\n"
        "  app | pgrec posts | pgcopy posts",
        "-F csv and -F binary write every column, for pgcopy -c \"$(pgrec\n"
        "--list-columns TABLE)\"; a missing key with a DEFAULT is then a bad line.\n"
        "With --child, nested records become a script stream (a COPY block per\n"
        "table, parents first) that pgcopy or psql -1 -f - runs.\n\n"
        "Exit status: 0 success; 1 usage error or a bad line (nothing of it is\n"
        "written); 2 connection failed; 3 some lines went to --reject-file.\n\n"
        "See pgrec(1).\n"};

    po::variables_map vm;
    if (auto done = pgpipe::parse_table_and_files(argc, argv, help, visible, cfg.table, cfg.inputs, vm))
        return *done;
    auto missing_key = parse_missing(words.missing);
    if (!missing_key)
        return pgpipe::usage_error("invalid --missing \"" + words.missing + "\" (default, null or error)");
    cfg.missing = *missing_key;
    if (words.json_null != "sql" && words.json_null != "value")
        return pgpipe::usage_error("invalid --json-null \"" + words.json_null + "\" (sql or value)");
    cfg.json_null_value = words.json_null == "value";
    cfg.format = pgpipe::parse_copy_format(output.format);
    if (vm.count("zstd"))
        cfg.zstd_level = pgpipe::parse_zstd_level(output.zstd);
    cfg.output = output.path;
    cfg.end_line = output.end_line || cfg.require_end; // an input that said it finished: so does the output
    pgpipe::set_quiet(out.quiet);
    cfg.show_progress = out.show_progress();
    cfg.stats_file = out.stats_file;
    cfg.block = pgpipe::parse_count(words.block);
    pgpipe::validate_record_options(cfg);
    pgpipe::load_summary summary = cfg.children.empty() ? pgpipe::run_records(cfg) : pgpipe::run_record_tree(cfg);
    return summary.rejected ? pgpipe::exit_status::rows_rejected : pgpipe::exit_status::success;
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pgrec_main); }
