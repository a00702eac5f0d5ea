// The rules on pgcopy's options, each checked once before anything is opened or connected.
#include "copy_rules.hpp"

#include "io/input.hpp"
#include "io/sql_names.hpp"

#include <cmath>

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
    o.rejects.max_percent = !text.empty() && text.back() == '%';
    const std::string number = o.rejects.max_percent ? text.substr(0, text.size() - 1) : text;
    try {
        size_t used = 0;
        o.rejects.max = std::stod(number, &used);
        if (used != number.size() || !std::isfinite(*o.rejects.max) || *o.rejects.max < 0)
            throw std::invalid_argument(number);
    } catch (const std::exception&) {
        throw usage_failure("invalid --max-rejects \"" + text + "\" (N or N%)");
    }
}

namespace {

// Values the command line got wrong: usage failures.
void validate_values(const copy_load_options& o) {
    if (o.levers.toast_compression && *o.levers.toast_compression != "lz4" && *o.levers.toast_compression != "pglz")
        throw usage_failure("invalid --toast-compression \"" + *o.levers.toast_compression + "\" (lz4 or pglz)");
    if (o.jobs && (*o.jobs < 1 || *o.jobs > 64))
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

// Throws the first refused rule's error, in the table's order.
template <size_t N>
void refuse_first(const combination_rule (&rules)[N]) {
    for (const auto& r : rules)
        if (r.refused)
            throw local_error(r.message, r.detail, r.hint);
}

// The combinations of a streamed load.
void validate_streamed(const copy_load_options& o) {
    const combination_rule rules[] = {
        {o.freeze && !o.truncate, "--freeze needs --truncate",
         "COPY FREEZE is valid only when the table was truncated or created in the same transaction",
         "add --truncate to empty the table first, in the load's transaction"},
        // A script stream names its own tables; then TABLE may be absent.
        {o.table.empty() && (o.truncate || o.levers.defer_indexes || o.levers.defer_constraints),
         "--truncate and --defer-* need a TABLE", "", ""},
    };
    refuse_first(rules);
}

// The combinations of a batched load.
void validate_batched(const copy_load_options& o) {
    const bool recovering = !o.resume_key.empty() || o.retries > 0;
    const combination_rule rules[] = {
        {o.table.empty() && (!o.rejects.file.empty() || o.upsert.on_conflict != conflict_action::none),
         "--reject-file and --on-conflict need a TABLE", "",
         "a script stream's blocks load into the tables they name, each as it is"},
        {o.freeze, "--freeze cannot be used with batches", "",
         "COPY FREEZE needs the table truncated in the same transaction as the whole load"},
        {o.single_transaction && recovering, "--single-transaction cannot be used with --resume-key or --retries", "",
         "with one transaction nothing is committed before the end, so there is nothing to resume"},
        {o.single_transaction && o.jobs.value_or(1) > 1, "--single-transaction cannot be used with --jobs", "",
         "one transaction is one connection"},
        {o.truncate && recovering, "--truncate cannot be used with --resume-key or --retries",
         "a resumed load would empty the table of what the first run committed", ""},
        {o.levers.defer_indexes && o.upsert.on_conflict != conflict_action::none,
         "--defer-indexes cannot be used with --on-conflict",
         "ON CONFLICT finds the conflicting rows through the table's unique indexes", ""},
        {o.rejects.max && o.rejects.file.empty(), "--max-rejects needs --reject-file", "", ""},
        {o.upsert.conflict_columns && o.upsert.on_conflict == conflict_action::none, "--conflict-columns needs --on-conflict",
         "", ""},
        {o.levers.reserve_ids && (o.single_transaction || o.upsert.on_conflict != conflict_action::none),
         "--reserve-ids cannot be used with --single-transaction or --on-conflict",
         "each batch reserves its ids in a short transaction of its own, and an upsert needs the key in the input", ""},
        {(o.batch_size.rows && *o.batch_size.rows == 0) || (o.batch_size.bytes && *o.batch_size.bytes == 0),
         "a batch must hold at least one row or byte", "", ""},
    };
    refuse_first(rules);
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
        {o.batched() || o.levers.fast || o.truncate || o.levers.defer_indexes || o.levers.defer_constraints,
         "--restore cannot be used with load options", "", "run pgcopy --restore TABLE on its own"},
    };
    refuse_first(rules);
}

// The encodings pgcopy does itself.
void validate_encodings(const copy_load_options& o) {
    const copy_format_options& f = o.format;
    const combination_rule rules[] = {
        {o.levers.send_binary && !plain_text_format(f),
         "--send-binary needs text input with the default delimiter, NULL string and encoding", "", ""},
        {(o.levers.reserve_ids || o.levers.send_binary || o.levers.fast) && o.table.empty(),
         "--fast, --reserve-ids and --send-binary need a TABLE", "", ""},
        {o.sharding.two_phase && (o.sharding.route == route_mode::off || o.table.empty()), "--two-phase needs a routed load",
         "it prepares the load's transaction on every shard, and only a routed load has one per shard", ""},
    };
    refuse_first(rules);
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

} // namespace pgpipe
