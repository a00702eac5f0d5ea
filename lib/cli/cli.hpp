// The command line shared by every program: option groups, help, usage errors, the runner.
#pragma once

#include "pg/connection.hpp"
#include "core/error.hpp"

#include <boost/program_options.hpp>

#include <functional>
#include <memory>
#include <ostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgpipe {

namespace po = boost::program_options;

/// The help column width every program keeps (and a test checks).
inline constexpr unsigned help_width = 80;

/// What the progress group's flags said.
struct progress_options {
    bool progress = false;    ///< --progress
    bool no_progress = false; ///< --no-progress
    bool quiet = false;       ///< -q/--quiet
    std::string stats_file;   ///< --stats FILE, or empty
    /// Whether to draw progress, given the flags and whether stderr is a terminal.
    bool show_progress() const;
};

/// A program's visible options in captioned groups, rendered psql-style
/// ("  -c, --columns=LIST   description") for --help.
class option_set {
public:
    /// Starts a new group; chain options onto the result.
    po::options_description_easy_init add_group(const std::string& caption);
    /// Every visible option, for parsing.
    po::options_description merged() const;
    /// The groups as --help prints them, each line at most help_width columns.
    std::string render() const;

private:
    std::vector<std::pair<std::string, std::unique_ptr<po::options_description>>> m_groups;
};

/// Adds "Connection options:" (-d -h -p -U -w -W, as psql names them).
void add_connection_options(option_set& options, connection_options& out);
/// Adds "Output options:" (--progress --no-progress -q --stats).
void add_progress_options(option_set& options, progress_options& out);
/// What the output group's flags said (programs that write a COPY stream).
struct output_options {
    std::string format = "text"; ///< -F
    std::string zstd;            ///< --zstd[=LEVEL], when given
    std::string path;            ///< -o FILE
    bool end_line = false;       ///< --end-line: the output ends with the end line \. once complete
};
/// Adds "Output format options:" (-F, --zstd[=LEVEL], -o).
void add_output_format_options(option_set& options, output_options& out);

/// Adds --help and --version (the "General options:" group).
void add_general_options(option_set& options);
/// Adds the groups every program that talks to a server ends its help
/// with: connection, output (progress) and general options, in that order.
void add_client_options(option_set& options, connection_options& connection, progress_options& progress);

/// The text a program prints for --help: usage, description, option groups, footer.
struct program_help {
    std::string usage;       ///< "pgcopy [OPTION]... TABLE [FILE]..."
    std::string description; ///< one paragraph under the usage line
    std::string footer;      ///< exit status and pointers, after the options
};

/// Parses argv against visible (shown in --help) plus hidden (positionals):
/// prints help or version to out, reports a bad option as one error line plus
/// 'Try "PROG --help" for more information.' on stderr, runs notifiers.
/// Returns the status to exit with when there is nothing to run (help or
/// version printed: success; a bad option: local_error), else nullopt.
std::optional<exit_status> parse_command_line(int argc, char** argv, const program_help& help,
                                 const option_set& visible,
                                 const po::options_description& hidden,
                                 const po::positional_options_description& positional,
                                 po::variables_map& vm, std::ostream& out);

/// parse_command_line for a program of `TABLE [FILE]...`, printing to stdout.
std::optional<exit_status> parse_table_and_files(int argc, char** argv, const program_help& help,
                                                 const option_set& visible, std::string& table,
                                                 std::vector<std::string>& files, po::variables_map& vm);

/// parse_command_line for a program whose positional words all go to args.
std::optional<exit_status> parse_with_args(int argc, char** argv, const program_help& help, const option_set& visible,
                                           std::vector<std::string>& args, po::variables_map& vm);

/// Reports a usage mistake found after parsing (same two lines as a bad option).
exit_status usage_error(const std::string& message);

/// The common frame of every main: names the program, installs the signal
/// handlers, runs body, logs an error with its detail and hint, and maps it
/// to the family's exit codes; a signal ends the process by that signal.
int run_program(int argc, char** argv, const std::function<exit_status(int, char**)>& body);

} // namespace pgpipe
