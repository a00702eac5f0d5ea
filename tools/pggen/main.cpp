// pggen: generate rows for a table as a COPY stream, fast and reproducibly.
#include "cli/cli.hpp"
#include "generate.hpp"
#include "core/log.hpp"
#include "io/output.hpp"

#include <iostream>

namespace {

pgpipe::exit_status pggen_main(int argc, char** argv) {
    namespace po = pgpipe::po;
    pgpipe::generate_options cfg;
    pgpipe::progress_options out;
    std::string rows = "1000", shard;
    bool ddl = false, list_columns = false, list_presets = false;
    std::vector<std::string> positional_args;

    pgpipe::option_set visible;
    visible.add_group("Generation options")
        ("preset", po::value<std::string>()->value_name("NAME")
             ->notifier([&](const std::string& v) { cfg.preset = v; }),
         "generate a preset table's rows (see --list-presets)")
        ("list-presets", po::bool_switch(&list_presets), "list the presets, then exit")
        ("ddl", po::bool_switch(&ddl), "print CREATE TABLE for the preset or specs, then exit")
        ("list-columns", po::bool_switch(&list_columns),
         "print the generated columns, comma-separated, then exit")
        ("spec", po::value<std::string>()->value_name("FILE")
             ->notifier([&](const std::string& v) { cfg.spec_file = v; }),
         "read COLUMN=GENERATOR lines from FILE")
        ("rows,n", po::value<std::string>(&rows)->value_name("N"), "rows to generate: 1000000, 1e6, 1M (default 1000)")
        ("start", po::value<uint64_t>(&cfg.start)->value_name("N"), "number of the first row (default 1)")
        ("seed", po::value<uint64_t>(&cfg.seed)->value_name("N"), "random seed (default 1)")
        ("shard", po::value<std::string>(&shard)->value_name("K/N"),
         "emit only shard K of N (contiguous slices of the rows)");
    pgpipe::output_options output;
    pgpipe::add_output_format_options(visible, output);
    pgpipe::add_client_options(visible, cfg.connection, out);

    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>(&positional_args));
    po::positional_options_description positional;
    positional.add("args", -1);

    pgpipe::program_help help{
        "pggen [OPTION]... [TABLE] [COLUMN[:TYPE]=GENERATOR]...",
        "pggen writes generated rows as a COPY stream (text, csv or binary, maybe\n"
        "zstd-compressed) for a preset, for column specs, or for a live TABLE whose\n"
        "columns, types and constraints it reads. Row i depends only on the seed\n"
        "and i, so output is reproducible and shards concatenate to the whole.\n\n"
        "  pggen --preset orders -n 1M | pgcopy orders\n"
        "  pggen -n 10k 'id=seq' 'name=words(1,3)' 'score=int(1,100,zipf)|null(0.1)'",
        "Generators: seq, int(LO,HI[,uniform|normal|zipf]), numeric(LO,HI,SCALE),\n"
        "float, bool(P), choice(a,b:3), cycle(a,b), mod(N[,OFFSET]), div(N), text,\n"
        "words, format('user_{i}'), repeat(S,N), 'constant', uuid, date, timestamp,\n"
        "timestamptz, time, interval, json, bytes, array(GEN,MIN,MAX), null; any\n"
        "generator|null(RATE). See GENERATORS in pggen(1).\n\n"
        "Exit status: 0 success (also when the reader closes the pipe); 1 usage or\n"
        "bad spec, preset or table (nothing written); 2 connection failed.\n\n"
        "See pggen(1).\n"};

    po::variables_map vm;
    switch (pgpipe::parse_command_line(argc, argv, help, visible, hidden, positional, vm, std::cout)) {
    case pgpipe::parse_outcome::exit_success: return pgpipe::exit_status::success;
    case pgpipe::parse_outcome::exit_usage: return pgpipe::exit_status::local_error;
    case pgpipe::parse_outcome::run: break;
    }
    if (list_presets) {
        for (const auto& [name, description] : pgpipe::list_presets())
            std::cout << name << std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') << description << "\n";
        return pgpipe::exit_status::success;
    }
    // The first argument without '=' is the table; the rest are column specs.
    for (const auto& arg : positional_args) {
        if (arg.find('=') == std::string::npos) {
            if (cfg.table)
                return pgpipe::usage_error("two tables given (\"" + *cfg.table + "\" and \"" + arg +
                                           "\"); column specs are COLUMN=GENERATOR");
            cfg.table = arg;
        } else {
            cfg.column_specs.push_back(arg);
        }
    }
    if (ddl && list_columns)
        return pgpipe::usage_error("--ddl and --list-columns exclude each other");
    cfg.action = ddl ? pgpipe::generate_action::ddl
                     : list_columns ? pgpipe::generate_action::list_columns : pgpipe::generate_action::rows;
    cfg.format = pgpipe::parse_copy_format(output.format);
    cfg.rows = pgpipe::parse_count(rows);
    if (!shard.empty())
        std::tie(cfg.shard, cfg.shards) = pgpipe::parse_shard(shard);
    if (vm.count("zstd"))
        cfg.zstd_level = pgpipe::parse_zstd_level(output.zstd);
    cfg.output = output.path;
    pgpipe::set_quiet(out.quiet);
    cfg.show_progress = out.show_progress();
    cfg.stats_file = out.stats_file;
    pgpipe::run_generate(cfg);
    return pgpipe::exit_status::success;
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pggen_main); }
