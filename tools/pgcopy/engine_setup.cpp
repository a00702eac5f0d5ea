// The engine's setup and plan: the first input's facts, the columns, the
// resume record's shape, ids and binary encoding, and deferred indexes and
// constraints; all before the loaders start, into the load context.
#include "batch_load.hpp"

#include "copy_sql.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "pg/identifier.hpp"
#include "pg/schema.hpp"

#include <algorithm>

namespace pgpipe {

// What the first input's first bytes say: binary data, a script stream,
// or (--header without -c) the columns its header names.
void copy_engine::apply_first_input(connection& c) {
    const first_input_facts facts = m_reader.sniff();
    if (facts.binary) {
        m_ctx.format = copy_format_options{};
        m_ctx.format.format = copy_format::binary;
    }
    m_ctx.first_is_script = facts.script;
    if (facts.header_names)
        m_ctx.header_columns = check_header_names(c, m_ctx.table_sql, m_o.table, *facts.header_names,
                                                  m_ctx.input_name(m_reader.resume_from().input_index));
}

// The quoted column list (from -c, or from the first input's header), and
// the unquoted names every header must match.
void copy_engine::read_columns(connection& c) {
    std::vector<std::string> columns;
    if (m_o.columns)
        m_ctx.column_names = parse_name_list(*m_o.columns);
    else if (m_ctx.header_columns)
        m_ctx.column_names = *m_ctx.header_columns;
    for (const auto& name : m_ctx.column_names)
        columns.push_back(c.quote_identifier(name));
    if (!columns.empty())
        m_ctx.columns_sql = " (" + quote_name_list(c, m_ctx.column_names) + ")";
    if (m_o.upsert.on_conflict == conflict_action::none)
        return;
    if (columns.empty())
        columns = insertable_columns(c, m_ctx.table_sql); // generated columns are not loaded
    for (size_t k = 0; k < columns.size(); ++k)
        m_ctx.column_list_sql += (k ? ", " : "") + columns[k];
    m_ctx.load_columns = std::move(columns);
}

// The parts of this load that decide what its rows become (resume_record.hpp).
load_shape copy_engine::current_shape(connection& c) const {
    if (m_ctx.first_is_script) { // its blocks name tables and columns, and its bytes are fingerprinted
        load_shape shape;
        shape.add("format", "script");
        return shape;
    }
    if (m_ctx.route) // as its destinations' records keep it
        return describe_load(c, m_ctx.route->table_sql, m_ctx.route->columns, m_ctx.format);
    return describe_load(c, m_ctx.table_sql, m_ctx.column_names, m_ctx.format);
}

// A rerun must read the rest of its input as the first run read the start:
// another column order, delimiter or encoding would load other rows.
void copy_engine::check_shape(connection& c) {
    if (m_ctx.route)
        return prepare_routes(current_shape(c));
    if (m_ctx.key.empty())
        return;
    const load_shape now = current_shape(c);
    m_ctx.shape_text = now.text();
    try {
        check_resumed_shape(m_ctx.key, now, m_recorded_shape,
                            "DELETE FROM pgpipe.load_progress WHERE key = '" + m_ctx.key + "'");
    } catch (const error&) {
        m_shape_refused = true; // a rerun with the key would fail the same way: say nothing of it
        throw;
    }
}

// A routed load's destinations: none left with prepared transactions, each
// named with -v, and (with a key) what earlier runs committed on each, in a
// load of the same shape, with the reject files cut back to the sizes the
// coordinator's last record keeps.
void copy_engine::prepare_routes(const load_shape& shape) {
    destination_set& set = *m_loaders[0]->destinations();
    m_ctx.shape_text = shape.text();
    set.check_prepared_leftovers();
    if (m_o.verbose)
        for (size_t d = 0; d < set.size(); ++d) {
            const route_destination& to = set.link(d).destination();
            log_info("routing: " + (d == 0 ? "local partitions and unplaced keys through " + m_o.table
                                           : to.name + " to " + to.remote_table) +
                     ", " + set.link(d).conn().describe());
        }
    if (m_ctx.key.empty())
        return;
    std::vector<resume_found> found = set.read_committed(m_ctx.key);
    for (const resume_found& f : found)
        check_resumed_shape(m_ctx.key, shape, f.shape,
                            "DELETE FROM pgpipe.routed_batches WHERE key = '" + m_ctx.key + "' on every server");
    for (resume_found& f : found)
        m_ctx.routed_found.push_back(std::move(f.batches));
    if (!m_ctx.rejecting())
        return;
    const uint64_t rows = regular_file_size(m_o.rejects.file).value_or(0);
    const uint64_t log = regular_file_size(m_o.rejects.file + ".log").value_or(0);
    if (found[0].reject_sizes_known) // else an older pgcopy's records: the files as they are
        m_committer.resume_rejects_at(std::min(found[0].reject_bytes, rows), std::min(found[0].reject_log_bytes, log));
    else
        m_committer.resume_rejects_at(rows, log);
}

// ---------------------------------------------------------------- ids and binary

// --reserve-ids: the sequence-filled column the input lacks goes first in
// the COPY's column list. --send-binary: the loaded columns' types, if
// pgcopy can encode every one of them.
void copy_engine::plan_encoding(connection& c) {
    if (m_ctx.first_is_script) // the plan said so (a script stream goes as it reads)
        return publish_plan();
    const lever ids = m_ctx.plan.ids.value, binary = m_ctx.plan.binary.value;
    std::vector<std::string> loaded;
    if (ids != lever::off || binary != lever::off)
        loaded = m_ctx.column_names.empty() ? table_column_names(c, m_ctx.table_sql) : m_ctx.column_names;
    if (ids != lever::off)
        plan_ids(c, loaded);
    if (binary != lever::off && m_ctx.format.format == copy_format::text)
        plan_binary(c, loaded);
    publish_plan();
}

// The plan into --stats, and with --verbose onto stderr.
void copy_engine::publish_plan() {
    if (!m_ctx.plan.trades.empty())
        add_plan_line(m_ctx.plan.trades);
    std::string& plan = m_committer.summary().plan;
    plan.clear();
    for (const auto& line : m_ctx.plan_lines)
        plan += (plan.empty() ? "" : "; ") + line;
    if (!m_o.verbose)
        return;
    // Every choice whose reason the lines of --fast and setup do not give,
    // then those lines.
    for (const plan_line& choice : plan_choices(m_ctx.plan))
        if (std::find(m_ctx.plan_lines.begin(), m_ctx.plan_lines.end(), choice.why) == m_ctx.plan_lines.end())
            log_info("plan: " + choice.text());
    for (const auto& line : m_ctx.plan_lines)
        log_info("plan: " + line);
}

// The sequence-filled column the input lacks goes first in the COPY's
// column list. The plan says if_possible (--fast) or required (--reserve-ids).
void copy_engine::plan_ids(connection& c, const std::vector<std::string>& loaded) {
    if (m_ctx.route && m_ctx.route->id_column.empty() && m_ctx.plan.ids.value != lever::required) // routing took none
        return add_plan_line("ids as the input has them: no sequence-filled column the input lacks takes blocks");
    std::string why_not;
    std::optional<sequence_column>& sequence = m_ctx.sequence;
    sequence = find_sequence_column(c, m_ctx.table_sql, loaded, why_not);
    const bool required = m_ctx.plan.ids.value == lever::required;
    if (!sequence && required)
        throw local_error("--reserve-ids: " + why_not + " (in " + m_o.table + ")");
    if (!sequence)
        return add_plan_line("ids as the input has them: " + why_not);
    if (!required)
        if (std::string blocker = id_block_blocker(c, *sequence); !blocker.empty()) {
            sequence.reset();
            return add_plan_line("ids as the sequence gives them: " + blocker);
        }
    std::vector<std::string> columns{sequence->name};
    columns.insert(columns.end(), loaded.begin(), loaded.end());
    m_ctx.columns_sql = " (" + quote_name_list(c, columns) + ")";
    add_plan_line("ids of " + sequence->name + " reserved from its sequence, a block per batch");
}

// Binary when pgcopy can encode every loaded column's type, and the
// connection's encoding is UTF-8 (whose bytes the encoder checks).
void copy_engine::plan_binary(connection& c, const std::vector<std::string>& loaded) {
    const table_schema schema = read_table_schema(c, m_o.table);
    std::vector<std::optional<column_type>> types;
    std::string unencodable;
    for (const auto& name : loaded) {
        auto column = std::find_if(schema.columns.begin(), schema.columns.end(),
                                   [&](const table_column& t) { return t.name == name; });
        types.push_back(column == schema.columns.end() ? std::nullopt : column->type);
        if (!types.back() && unencodable.empty())
            unencodable = name + (column == schema.columns.end() ? "" : " (" + column->type_name + ")");
    }
    text_to_binary encoder(types, m_ctx.sequence ? std::optional(m_ctx.sequence->type) : std::nullopt);
    if (std::string(pg_encoding_to_char(PQclientEncoding(c.get()))) != "UTF8") {
        add_plan_line("text sent as text: the client encoding is not UTF8");
    } else if (encoder.usable()) {
        m_ctx.encoder = std::move(encoder);
        add_plan_line("text encoded as binary by pgcopy (a batch with a value it cannot encode exactly goes as text)");
    } else {
        add_plan_line("text sent as text: pgcopy cannot encode " + (unencodable.empty() ? "every column" : unencodable));
    }
}

// ---------------------------------------------------------------- deferred indexes and constraints

// A table left without some of its indexes or constraints by a load that
// was killed gets them back first; a deferring load then takes off the rest.
void copy_engine::defer_for_load(connection& c) {
    const bool indexes = m_ctx.plan.defer_indexes.value, constraints = m_ctx.plan.defer_constraints.value;
    const bool deferring = indexes || constraints;
    if (!m_ctx.table_sql.empty() && (!deferring || m_ctx.one_tx))
        put_back_left_off(c, m_ctx.table_sql, m_o.table);
    if (m_ctx.one_tx) {
        if (!m_ctx.route) // a routed load's transactions are its destinations'
            c.exec("BEGIN");
        if (deferring) // dropped and rebuilt inside the one transaction: nothing to record
            m_restore_in_transaction = drop_for_load(c, m_ctx.table_sql, indexes, constraints);
        return;
    }
    if (m_ctx.table_sql.empty() || !deferring)
        return; // a script stream without TABLE defers nothing (refused before)
    m_deferral.emplace(c, m_ctx.table_sql, m_o.table);
    if (m_deferral->pending())
        log_info("resuming with the " + format_count(m_deferral->pending()) +
                 " indexes and constraints an interrupted load left off " + m_o.table);
    m_deferral->defer(indexes, constraints, m_ctx.key);
    m_ctx.record_batch_sql = m_deferral->record_batch_sql();
}

// Every index built at once, one per connection, then the constraints.
void copy_engine::restore_after_load() {
    if (!m_restore_in_transaction.empty()) {
        connection& c = m_loaders[0]->conn();
        c.exec("SET LOCAL maintenance_work_mem = '1GB'");
        for (const auto& sql : m_restore_in_transaction) {
            throw_if_interrupted();
            c.exec(sql);
        }
        return;
    }
    if (!m_deferral || !m_deferral->pending())
        return;
    std::vector<connection*> conns;
    for (auto& l : m_loaders)
        conns.push_back(&l->conn());
    m_deferral->restore(conns);
}

// After a failed load: the indexes and constraints go back now, unless the
// user stopped it or the server is gone (then a rerun or --restore does it).
// Returns what to add to the error's detail.
std::string copy_engine::restore_after_failure(const error& e) {
    if (!m_deferral || !m_deferral->pending() || m_ctx.one_tx)
        return {};
    // A rerun without the resume key would load the committed rows again.
    const bool resumable = !m_ctx.key.empty() && !m_ctx.implicit_key && !input_changed();
    const std::string later = "the deferred indexes and constraints of " + m_o.table + " are still off: " +
                              (resumable ? "rerun the command to finish the load, or run pgcopy --restore " + m_o.table
                                         : "run pgcopy --restore " + m_o.table) +
                              " (it keeps the committed rows, or deletes them if they break a key or constraint)";
    if (dynamic_cast<const interrupted*>(&e) || !m_loaders[0]->conn().ok())
        return later;
    try {
        restore_after_load();
        return {};
    } catch (const error& again) {
        return std::string(again.what()) + (again.detail().empty() ? "" : "\n" + again.detail()) +
               (m_deferral->pending() ? "\n" + later : "");
    }
}

} // namespace pgpipe
