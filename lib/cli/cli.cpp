// The command line shared by every program: parsing, psql-style help, the runner.
#include "cli/cli.hpp"
#include "core/text.hpp"

#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/version.hpp"

#include <csignal>
#include <iostream>

namespace pgpipe {

bool progress_options::show_progress() const { return progress_wanted(progress, no_progress, quiet); }

po::options_description_easy_init option_set::add_group(const std::string& caption) {
    m_groups.emplace_back(caption, std::make_unique<po::options_description>(caption, help_width));
    return m_groups.back().second->add_options();
}

po::options_description option_set::merged() const {
    po::options_description all;
    for (const auto& group : m_groups)
        all.add(*group.second);
    return all;
}

std::string option_set::render() const {
    constexpr size_t description_column = 30;
    std::string out;
    for (const auto& [caption, group] : m_groups) {
        out += caption + ":\n";
        for (const auto& option : group->options()) {
            std::string name = "  ";
            std::string display = option->format_name();
            bool has_short = display.size() >= 2 && display[0] == '-' && display[1] != '-';
            name += has_short ? display.substr(0, 2) + ", " : std::string("    ");
            name += "--" + option->long_name();
            if (option->semantic()->min_tokens() == 0 && option->semantic()->max_tokens() > 0) {
                // An optional value: Boost's "[=LEVEL(=3)]" becomes "[=LEVEL]".
                std::string parameter = option->format_parameter();
                parameter = parameter.substr(0, parameter.find('('));
                if (parameter.rfind("[=", 0) == 0)
                    parameter = parameter.substr(2);
                if (!parameter.empty() && parameter.back() == ']')
                    parameter.pop_back();
                name += "[=" + parameter + "]";
            } else if (option->semantic()->max_tokens() > 0) {
                name += "=" + option->format_parameter();
            }
            std::string line = name;
            if (line.size() + 2 > description_column) {
                line += "\n" + std::string(description_column, ' ');
            } else {
                line.append(description_column - line.size(), ' ');
            }
            line += wrap_text(option->description(), description_column, description_column, help_width);
            out += line + "\n";
        }
        out += "\n";
    }
    return out;
}

void add_connection_options(option_set& options, connection_options& out) {
    options.add_group("Connection options")
        ("dbname,d", po::value<std::string>()->value_name("DBNAME")
             ->notifier([&out](const std::string& v) { out.dbname = v; }),
         "database name, conninfo string or URI")
        ("host,h", po::value<std::string>()->value_name("HOSTNAME")
             ->notifier([&out](const std::string& v) { out.host = v; }),
         "database server host or socket directory")
        ("port,p", po::value<std::string>()->value_name("PORT")
             ->notifier([&out](const std::string& v) { out.port = v; }),
         "database server port")
        ("username,U", po::value<std::string>()->value_name("USERNAME")
             ->notifier([&out](const std::string& v) { out.username = v; }),
         "database user name")
        ("no-password,w", po::bool_switch()->notifier([&out](bool on) {
             if (on) out.prompt = password_prompt::never; }),
         "never prompt for password")
        ("password,W", po::bool_switch()->notifier([&out](bool on) {
             if (on) out.prompt = password_prompt::always; }),
         "force password prompt");
}

void add_progress_options(option_set& options, progress_options& out) {
    options.add_group("Output options")
        ("progress", po::bool_switch(&out.progress), "show progress on stderr even when it is not a terminal")
        ("no-progress", po::bool_switch(&out.no_progress), "never show progress")
        ("quiet,q", po::bool_switch(&out.quiet), "no progress and no summary; errors only")
        ("stats", po::value<std::string>(&out.stats_file)->value_name("FILE"),
         "write the summary as JSON to FILE");
}

void add_output_format_options(option_set& options, output_options& out) {
    options.add_group("Output format options")
        ("format,F", po::value<std::string>(&out.format)->value_name("FORMAT"), "text (default), csv or binary")
        ("zstd", po::value<std::string>(&out.zstd)->value_name("LEVEL")->implicit_value("3"),
         "compress with zstd (level 1-19, default 3)")
        ("output,o", po::value<std::string>(&out.path)->value_name("FILE"), "write to FILE instead of stdout")
        ("end-line", po::bool_switch(&out.end_line),
         "end the output with the end line \\. once every row is written (binary: its trailer): a run "
         "that fails writes none, and a pgcopy that requires it loads nothing");
}

std::optional<exit_status> parse_table_and_files(int argc, char** argv, const program_help& help,
                                                 const option_set& visible, std::string& table,
                                                 std::vector<std::string>& files, po::variables_map& vm) {
    po::options_description hidden;
    hidden.add_options()
        ("table", po::value<std::string>(&table))
        ("file", po::value<std::vector<std::string>>(&files));
    po::positional_options_description positional;
    positional.add("table", 1).add("file", -1);
    return parse_command_line(argc, argv, help, visible, hidden, positional, vm, std::cout);
}

std::optional<exit_status> parse_with_args(int argc, char** argv, const program_help& help, const option_set& visible,
                                           std::vector<std::string>& args, po::variables_map& vm) {
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>(&args));
    po::positional_options_description positional;
    positional.add("args", -1);
    return parse_command_line(argc, argv, help, visible, hidden, positional, vm, std::cout);
}

void add_client_options(option_set& options, connection_options& connection, progress_options& progress) {
    add_connection_options(options, connection);
    add_progress_options(options, progress);
    add_general_options(options);
}

void add_general_options(option_set& options) {
    options.add_group("General options")
        ("help", "show this help, then exit")
        ("version", "output version information, then exit");
}

exit_status usage_error(const std::string& message) {
    log_error(message);
    log_raw("Try \"" + std::string(program_name()) + " --help\" for more information.\n");
    return exit_status::local_error;
}

std::optional<exit_status> parse_command_line(int argc, char** argv, const program_help& help,
                                 const option_set& visible,
                                 const po::options_description& hidden,
                                 const po::positional_options_description& positional,
                                 po::variables_map& vm, std::ostream& out) {
    po::options_description all = visible.merged();
    all.add(hidden);
    // An option whose value is optional takes one only with "=": "--zstd
    // file" must not read "file" as the level. A bare one is given its
    // implicit value, which Boost shows as "(=3)" in its parameter text.
    std::vector<std::string> args(argv + 1, argv + argc);
    for (auto& arg : args) {
        if (arg == "--")
            break;
        if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-' && arg.find('=') == std::string::npos)
            if (const auto* option = all.find_nothrow(arg.substr(2), false);
                option && option->semantic()->min_tokens() == 0 && option->semantic()->max_tokens() > 0) {
                std::string parameter = option->format_parameter();
                auto at = parameter.find("(=");
                if (at != std::string::npos)
                    arg += "=" + parameter.substr(at + 2, parameter.find(')', at) - at - 2);
            }
    }    try {
        po::store(po::command_line_parser(args)
                      .options(all)
                      .positional(positional)
                      .style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
        if (vm.count("help")) {
            out << help.description << "\n\nUsage:\n  " << help.usage << "\n\n" << visible.render()
                << help.footer;
            return exit_status::success;
        }
        if (vm.count("version")) {
            out << program_name() << " (pgpipe) " << version << "\n";
            return exit_status::success;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        usage_error(e.what());
        return exit_status::local_error;
    }
    return std::nullopt;
}

int run_program(int argc, char** argv, const std::function<exit_status(int, char**)>& body) {
    set_program_name(argc > 0 ? argv[0] : "pgpipe");
    // A closed reader (| head) must show up as EPIPE, which the writers treat
    // as a normal end, not as a silent death by SIGPIPE mid-cleanup.
    std::signal(SIGPIPE, SIG_IGN);
    install_interrupt_handlers();
    try {
        return static_cast<int>(body(argc, argv));
    } catch (const interrupted& e) {
        log_exception(e);
        die_by_signal(e.signal_number());
    } catch (const error& e) {
        log_exception(e);
        if (e.usage())
            log_raw("Try \"" + std::string(program_name()) + " --help\" for more information.\n");
        if (int sig = pending_interrupt())
            die_by_signal(sig);
        return static_cast<int>(e.status());
    } catch (const std::bad_alloc&) {
        log_error("out of memory");
        return static_cast<int>(exit_status::local_error);
    } catch (const std::exception& e) {
        log_error(e.what());
        return static_cast<int>(exit_status::local_error);
    }
}

} // namespace pgpipe
