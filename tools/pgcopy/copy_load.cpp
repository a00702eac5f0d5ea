// pgcopy's options and their rules, and run_copy, which hands every load to
// the one engine (batch_load.cpp): in batches, or all in one transaction.
#include "copy_load.hpp"

#include "deferral.hpp"
#include "fast_plan.hpp"
#include "route_load.hpp"
#include "io/input.hpp"
#include "io/sql_names.hpp"
#include "core/progress.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"

#include <cmath>
#include <unistd.h>

namespace pgpipe {

std::optional<uint64_t> total_input_size(const std::vector<std::string>& inputs) {
    uint64_t total = 0;
    for (const auto& path : inputs) {
        auto size = regular_file_size(path);
        if (!size)
            return std::nullopt;
        total += *size;
    }
    return total;
}

void parse_max_rejects(const std::string& text, copy_load_options& o) {
    o.max_rejects_percent = !text.empty() && text.back() == '%';
    const std::string number = o.max_rejects_percent ? text.substr(0, text.size() - 1) : text;
    try {
        size_t used = 0;
        o.max_rejects = std::stod(number, &used);
        if (used != number.size() || !std::isfinite(*o.max_rejects) || *o.max_rejects < 0)
            throw std::invalid_argument(number);
    } catch (const std::exception&) {
        throw usage_failure("invalid --max-rejects \"" + text + "\" (N or N%)");
    }
}

namespace {

// Values the command line got wrong: usage failures.
void validate_values(const copy_load_options& o) {
    if (o.toast_compression && *o.toast_compression != "lz4" && *o.toast_compression != "pglz")
        throw usage_failure("invalid --toast-compression \"" + *o.toast_compression + "\" (lz4 or pglz)");
    if (o.jobs < 1 || o.jobs > 64)
        throw usage_failure("--jobs must be between 1 and 64");
    if (o.retries < 0)
        throw usage_failure("--retries must be 0 or more");
    validate_copy_format(o.format);
    if (!o.table.empty())
        parse_qualified_name(o.table);
    if (o.columns)
        parse_name_list(*o.columns);
}

// A rule refused as a table: {applies, message, detail, hint}.
struct combination_rule {
    bool refused;
    const char* message;
    const char* detail;
    const char* hint;
};

// The combinations of a streamed load.
void validate_streamed(const copy_load_options& o) {
    const combination_rule rules[] = {
        {o.freeze && !o.truncate, "--freeze needs --truncate",
         "COPY FREEZE is valid only when the table was truncated or created in the same transaction",
         "add --truncate to empty the table first, in the load's transaction"},
        // A script stream names its own tables; then TABLE may be absent.
        {o.table.empty() && (o.truncate || o.defer_indexes || o.defer_constraints),
         "--truncate and --defer-* need a TABLE", "", ""},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

// The combinations of a batched load.
void validate_batched(const copy_load_options& o) {
    const bool recovering = !o.resume_key.empty() || o.retries > 0;
    const combination_rule rules[] = {
        {o.table.empty() && (!o.reject_file.empty() || o.on_conflict != conflict_action::none),
         "--reject-file and --on-conflict need a TABLE", "",
         "a script stream's blocks load into the tables they name, each as it is"},
        {o.freeze, "--freeze cannot be used with batches", "",
         "COPY FREEZE needs the table truncated in the same transaction as the whole load"},
        {o.single_transaction && recovering, "--single-transaction cannot be used with --resume-key or --retries", "",
         "with one transaction nothing is committed before the end, so there is nothing to resume"},
        {o.single_transaction && o.jobs > 1, "--single-transaction cannot be used with --jobs", "",
         "one transaction is one connection"},
        {o.truncate && recovering, "--truncate cannot be used with --resume-key or --retries",
         "a resumed load would empty the table of what the first run committed", ""},
        {o.defer_indexes && o.on_conflict != conflict_action::none, "--defer-indexes cannot be used with --on-conflict",
         "ON CONFLICT finds the conflicting rows through the table's unique indexes", ""},
        {o.max_rejects && o.reject_file.empty(), "--max-rejects needs --reject-file", "", ""},
        {o.conflict_columns && o.on_conflict == conflict_action::none, "--conflict-columns needs --on-conflict", "", ""},
        {o.reserve_ids && (o.single_transaction || o.on_conflict != conflict_action::none),
         "--reserve-ids cannot be used with --single-transaction or --on-conflict",
         "each batch reserves its ids in a short transaction of its own, and an upsert needs the key in the input", ""},
        {(o.batch_rows && *o.batch_rows == 0) || (o.batch_bytes && *o.batch_bytes == 0),
         "a batch must hold at least one row or byte", "", ""},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

} // namespace

bool plain_text_format(const copy_format_options& f) {
    return f.format == copy_format::text && (!f.delimiter || *f.delimiter == "\t") &&
           (!f.null_string || *f.null_string == "\\N") && !f.encoding;
}

namespace {

// --restore does nothing else.
void validate_restore(const copy_load_options& o) {
    const combination_rule rules[] = {
        {o.table.empty(), "--restore needs a TABLE", "", "pgcopy --restore TABLE"},
        {!o.inputs.empty(), "--restore takes no FILE", "", "it only puts back what an interrupted load left off TABLE"},
        {o.batched() || o.fast || o.truncate || o.defer_indexes || o.defer_constraints,
         "--restore cannot be used with load options", "", "run pgcopy --restore TABLE on its own"},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

// The encodings pgcopy does itself.
void validate_encodings(const copy_load_options& o) {
    const copy_format_options& f = o.format;
    const combination_rule rules[] = {
        {o.send_binary && !plain_text_format(f),
         "--send-binary needs text input with the default delimiter, NULL string and encoding", "", ""},
        {(o.reserve_ids || o.send_binary || o.fast) && o.table.empty(), "--fast, --reserve-ids and --send-binary need a TABLE",
         "", ""},
        {o.two_phase && (o.route == route_mode::off || o.table.empty()), "--two-phase needs a routed load",
         "it prepares the load's transaction on every shard, and only a routed load has one per shard", ""},
    };
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

} // namespace

void validate_copy_load(const copy_load_options& o) {
    validate_values(o);
    if (o.restore)
        return validate_restore(o);
    validate_encodings(o);
    if (o.batched())
        validate_batched(o);
    else
        validate_streamed(o);
    check_inputs_readable(inputs_or_stdin(o.inputs));
}

void apply_session_settings(connection& conn, const copy_load_options& o) {
    if (o.toast_compression)
        conn.exec("SET default_toast_compression = " + conn.quote_literal(*o.toast_compression));
}

namespace {

// Large enough for any first line a script stream starts with.
constexpr size_t chunk_size = 1 << 20;

// Opens PATH and reads its first line (up to chunk_size bytes), giving the
// bytes back: a look before deciding how to load it.
std::unique_ptr<input_stream> open_peeking(const std::string& path, std::string& first_line) {
    auto input = std::make_unique<input_stream>(path);
    std::string head(chunk_size, '\0');
    head.resize(input->read(head.data(), head.size()));
    input->unread(head);
    first_line = head.substr(0, head.find('\n'));
    return input;
}

// Without TABLE (or --script) every input must be a script stream: the
// first is looked at before connecting, so that a forgotten TABLE costs no
// connection. Returns it opened, its first bytes given back.
std::unique_ptr<input_stream> check_script_without_table(const copy_load_options& o, const std::string& path) {
    std::string line;
    auto input = open_peeking(path, line);
    if (o.format.format != copy_format::text || !parse_script_header(line))
        throw local_error("no table given, and " + input->name() + " is not a script stream",
                          "a script stream starts with a line \"COPY table [(columns)] FROM stdin;\"",
                          "name the table to load: pgcopy TABLE [FILE]...");
    return input;
}

// pgcopy --restore TABLE: what an interrupted deferring load left off TABLE goes back.
load_summary run_restore(const copy_load_options& o) {
    validate_copy_load(o);
    connection conn = connection::open(o.connection);
    log_info(restore_deferred(conn, o.table));
    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = o.table;
    summary.committed = true;
    summary.verb = "restored";
    return summary;
}

// Before an engine starts, --stats still says what happened.
void write_failed_stats(const copy_load_options& o, const error& e) {
    load_summary failed;
    failed.program = std::string(program_name());
    failed.target = o.table;
    failed.error = e.what();
    write_stats_file(o.stats_file, failed);
}

// The first line's names of an input loaded with --header and no -c (the
// input given back for the load); empty otherwise.
std::vector<std::string> peek_header(const copy_load_options& o, std::unique_ptr<input_stream>& first) {
    if (!o.format.header || o.columns || o.format.format == copy_format::binary)
        return {};
    std::string line;
    first = open_peeking(o.inputs.empty() ? "-" : o.inputs[0], line);
    return header_names(line, o.format);
}

// A table partitioned over postgres_fdw shards loads routed (route_load.hpp)
// unless --no-route says otherwise or pgcopy cannot: then, with --route, the
// load is refused; else it goes through the parent, with a notice. Returns
// the summary of a routed load; otherwise fills next with the options for
// the other engines (the login pgcopy already made, the input it peeked at).
std::optional<load_summary> route_if_sharded(const copy_load_options& o, copy_load_options& next,
                                             std::unique_ptr<input_stream>& first) {
    std::optional<connection> conn;
    routing_decision d;
    try {
        validate_copy_load(o);
        conn.emplace(connection::open(o.connection));
        if (std::string why = o.freeze ? freeze_refusal(*conn, o.table) : ""; !why.empty())
            throw local_error(why, freeze_refusal_detail(*conn),
                              "leave out --freeze; to freeze a shard's rows, load its table on its own server");
        d = plan_routing(*conn, o, [&] { return peek_header(o, first); });
    } catch (const error& e) {
        write_failed_stats(o, e);
        throw;
    }
    if (d.plan)
        return run_routed_copy(o, std::move(*d.plan), std::move(*conn), std::move(first));
    const std::string why = d.applies ? o.table + " is not routed to its shards: " + d.refusal
                                      : o.table + " is not partitioned over foreign tables: there is nothing to route";
    if (o.route == route_mode::on || o.two_phase) {
        const std::string through = d.applies ? " (" + parent_path_note(*conn, o.table) + ")" : "";
        error refused = local_error(why, "", "load it through the parent table with --no-route" + through);
        write_failed_stats(o, refused);
        throw refused;
    }
    if (d.applies)
        log_info(why + "; loading through " + o.table + " instead (" + parent_path_note(*conn, o.table) + ")");
    next.connection = conn->same_login(o.connection);
    return std::nullopt;
}

} // namespace

load_summary run_copy(const copy_load_options& given) {
    if (given.restore)
        return run_restore(given);
    copy_load_options o = given;
    std::unique_ptr<input_stream> peeked;
    if (o.route != route_mode::off && !o.table.empty() && !o.script)
        if (auto routed = route_if_sharded(given, o, peeked))
            return *routed;
    if (o.fast)
        return run_fast_copy(o);
    if (o.batched())
        return run_batched_copy(o, std::move(peeked));
    // No batch option: the same engine, every batch in one transaction.
    std::unique_ptr<input_stream> first = std::move(peeked);
    try {
        validate_copy_load(o);
        const std::vector<std::string> inputs = inputs_or_stdin(o.inputs);
        if (o.table.empty() && !o.script)
            first = check_script_without_table(o, inputs[0]);
        if (!quiet() && inputs.size() == 1 && inputs[0] == "-" && isatty(STDIN_FILENO))
            log_info("reading rows from the terminal; end them with Ctrl-D");
        throw_if_interrupted();
    } catch (const error& e) {
        write_failed_stats(o, e);
        throw;
    }
    copy_load_options one = o;
    one.one_transaction = true;
    return run_batched_copy(one, std::move(first));
}

} // namespace pgpipe
