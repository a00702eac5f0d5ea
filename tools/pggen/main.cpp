// pggen: generate rows for a table as a COPY stream, fast and reproducibly.
#include "cli/cli.hpp"
#include "generate.hpp"
#include "core/log.hpp"
#include "io/output.hpp"

#include <iostream>
#include <optional>

namespace {

namespace po = pgpipe::po;

// What the command line says beyond generate_options, until apply_flags.
struct pggen_flags {
    std::string rows = "1000";
    std::string shard;
    bool ddl = false;
    bool list_columns = false;
    bool list_presets = false;
    std::vector<std::string> positional_args;
    pgpipe::output_options output;
    pgpipe::progress_options progress;
};

const pgpipe::program_help help{
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

void add_generation_options(pgpipe::option_set& visible, pgpipe::generate_options& cfg, pggen_flags& f) {
    visible.add_group("Generation options")
        ("preset", po::value<std::string>()->value_name("NAME")
             ->notifier([&cfg](const std::string& v) { cfg.preset = v; }),
         "generate a preset table's rows (see --list-presets)")
        ("list-presets", po::bool_switch(&f.list_presets), "list the presets, then exit")
        ("ddl", po::bool_switch(&f.ddl), "print CREATE TABLE for the preset or specs, then exit")
        ("list-columns", po::bool_switch(&f.list_columns),
         "print the generated columns, comma-separated, then exit")
        ("spec", po::value<std::string>()->value_name("FILE")
             ->notifier([&cfg](const std::string& v) { cfg.spec_file = v; }),
         "read COLUMN=GENERATOR lines from FILE")
        ("rows,n", po::value<std::string>(&f.rows)->value_name("N"), "rows to generate: 1000000, 1e6, 1M (default 1000)")
        ("start", po::value<uint64_t>(&cfg.start)->value_name("N"), "number of the first row (default 1)")
        ("seed", po::value<uint64_t>(&cfg.seed)->value_name("N"), "random seed (default 1)")
        ("shard", po::value<std::string>(&f.shard)->value_name("K/N"),
         "emit only shard K of N (contiguous slices of the rows)");
}

void print_presets() {
    for (const auto& [name, description] : pgpipe::list_presets())
        std::cout << name << std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') << description << "\n";
}

// The first argument without '=' is the table; the rest are column specs.
std::optional<pgpipe::exit_status> split_arguments(const std::vector<std::string>& args,
                                                   pgpipe::generate_options& cfg) {
    for (const auto& arg : args) {
        if (arg.find('=') != std::string::npos) {
            cfg.column_specs.push_back(arg);
        } else if (cfg.table) {
            return pgpipe::usage_error("two tables given (\"" + *cfg.table + "\" and \"" + arg +
                                       "\"); column specs are COLUMN=GENERATOR");
        } else {
            cfg.table = arg;
        }
    }
    return std::nullopt;
}

// The flags' values, parsed into cfg; throws local_error for a bad one.
void apply_flags(const pggen_flags& f, const po::variables_map& vm, pgpipe::generate_options& cfg) {
    cfg.action = f.ddl ? pgpipe::generate_action::ddl
                       : f.list_columns ? pgpipe::generate_action::list_columns : pgpipe::generate_action::rows;
    cfg.format = pgpipe::parse_copy_format(f.output.format);
    cfg.rows = pgpipe::parse_count(f.rows);
    if (!f.shard.empty())
        std::tie(cfg.shard, cfg.shards) = pgpipe::parse_shard(f.shard);
    if (vm.count("zstd"))
        cfg.zstd_level = pgpipe::parse_zstd_level(f.output.zstd);
    cfg.output = f.output.path;
    cfg.end_line = f.output.end_line;
    pgpipe::set_quiet(f.progress.quiet);
    cfg.show_progress = f.progress.show_progress();
    cfg.stats_file = f.progress.stats_file;
}

pgpipe::exit_status pggen_main(int argc, char** argv) {
    pgpipe::generate_options cfg;
    pggen_flags f;
    pgpipe::option_set visible;
    add_generation_options(visible, cfg, f);
    pgpipe::add_output_format_options(visible, f.output);
    pgpipe::add_client_options(visible, cfg.connection, f.progress);
    po::variables_map vm;
    if (auto done = pgpipe::parse_with_args(argc, argv, help, visible, f.positional_args, vm))
        return *done;
    if (f.list_presets) {
        print_presets();
        return pgpipe::exit_status::success;
    }
    if (auto status = split_arguments(f.positional_args, cfg))
        return *status;
    if (f.ddl && f.list_columns)
        return pgpipe::usage_error("--ddl and --list-columns exclude each other");
    apply_flags(f, vm, cfg);
    pgpipe::run_generate(cfg);
    return pgpipe::exit_status::success;
}

} // namespace

int main(int argc, char** argv) { return pgpipe::run_program(argc, argv, pggen_main); }
