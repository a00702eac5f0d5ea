// pgrec --child: records with nested child records to a script stream, parents first, ids pre-allocated.
#include "records.hpp"

#include "columns.hpp"
#include "convert.hpp"
#include "json_lines.hpp"
#include "shapes.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "io/input.hpp"
#include "io/output.hpp"
#include "io/reject_sink.hpp"
#include "io/sql_names.hpp"
#include "pg/identifier.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <unordered_map>

namespace od = simdjson::ondemand;

namespace pgpipe {
namespace {

// One table of a record tree: its columns, where its rows go in a block,
// and how its children hang off it.
struct tree_node {
    std::string path;                 // "" for the root, "annotations", "annotations.notes"
    std::string key;                  // the key in the parent's record ("notes")
    std::string table;                // as the user wrote it
    std::string table_sql;            // quoted
    std::vector<record_column> columns;
    std::unordered_map<std::string, int> key_to_column;
    int parent = -1;
    std::string fk_column;            // this table's column referencing the parent's key
    int fk_index = -1;
    std::vector<int> children;
    int pk_index = -1;                // the key children reference (needed when there are children)
    std::string pk_sequence;          // its sequence, for nextval
    std::vector<int64_t> id_pool;     // pre-allocated ids, used from the back
    uint64_t ids_used_in_block = 0;
    int64_t next_offline_id = 0;
    std::unique_ptr<shaped_rows> rows; // this table's rows of the current block, by shape
    std::vector<value> values;
    std::vector<record_cell> cells;
    std::vector<char> seen;
};

class tree_loader {
public:
    explicit tree_loader(const record_options& o) : m_o(o) {}
    load_summary run();

private:
    void setup();
    void add_child(const std::string& spec);
    void setup_node(tree_node& n);
    std::string primary_key(tree_node& n);
    int64_t next_id(tree_node& n);
    void convert(int node, std::string_view json, std::optional<int64_t> parent_id, int depth);
    std::optional<int64_t> fill_keys(tree_node& n, std::optional<int64_t> parent_id);
    void convert_children(int child, std::string_view raw, std::optional<int64_t> id, int depth);
    void emit_block();
    void convert_record(const input_line& line, uint64_t& in_block);
    void summarize(std::chrono::steady_clock::time_point started);

    const record_options& m_o;
    std::optional<connection> m_conn;
    std::vector<tree_node> m_nodes;
    // One parser (and padded buffer) per nesting depth, for the records and
    // for their child arrays: a document at one depth stays alive while the
    // next depth is parsed. Sized once: a parser must not move while in use.
    std::vector<od::parser> m_parsers, m_array_parsers;
    std::vector<std::string> m_padded, m_array_padded;
    std::vector<added_row> m_added; // the rows of the record being converted, to take back
    std::unique_ptr<script_output> m_script;
    load_summary m_summary;
    uint64_t m_allocations = 0;
    std::unique_ptr<reject_sink> m_rejects; // --reject-file, or none
};

void tree_loader::setup() {
    if (m_o.format != copy_format::text)
        throw local_error("--child writes a script stream, which is COPY text", {}, "drop -F");
    if (m_o.columns || m_o.map)
        throw local_error("--child reads every table's columns from the database; --columns and --map are for one table");
    m_conn.emplace(connection::open(m_o.connection));
    tree_node root;
    root.table = m_o.table;
    m_nodes.push_back(std::move(root));
    for (const auto& spec : m_o.children)
        add_child(spec);
    for (auto& n : m_nodes)
        setup_node(n);
    m_parsers.resize(m_nodes.size() + 1);
    m_array_parsers.resize(m_nodes.size() + 1);
    m_padded.resize(m_nodes.size() + 1);
    m_array_padded.resize(m_nodes.size() + 1);
}

// A node for --child KEY=TABLE.COLUMN (the last dot splitting table from
// column), under the node of KEY's path without its last part.
void tree_loader::add_child(const std::string& spec) {
    auto eq = spec.find('=');
    auto dot = spec.rfind('.');
    if (eq == std::string::npos || dot == std::string::npos || dot < eq)
        throw local_error("--child wants KEY=TABLE.COLUMN, not \"" + spec + "\"", {},
                          "for example --child annotations=annotation.sequence_id");
    tree_node n;
    n.path = spec.substr(0, eq);
    n.table = spec.substr(eq + 1, dot - eq - 1);
    n.fk_column = parse_name_list(spec.substr(dot + 1)).at(0);
    auto parent_dot = n.path.rfind('.');
    n.key = parent_dot == std::string::npos ? n.path : n.path.substr(parent_dot + 1);
    std::string parent_path = parent_dot == std::string::npos ? "" : n.path.substr(0, parent_dot);
    for (size_t k = 0; k < m_nodes.size(); ++k)
        if (m_nodes[k].path == parent_path)
            n.parent = static_cast<int>(k);
    if (n.parent < 0)
        throw local_error("--child " + spec + ": no --child for \"" + parent_path + "\" comes before it");
    m_nodes[static_cast<size_t>(n.parent)].children.push_back(static_cast<int>(m_nodes.size()));
    m_nodes.push_back(std::move(n));
}

// The one-column primary key of a node with children, and its sequence
// into n.pk_sequence; "" for a node without children.
std::string tree_loader::primary_key(tree_node& n) {
    if (n.children.empty())
        return "";
    connection& c = *m_conn;
    result_ptr r = c.query("SELECT a.attname, coalesce(pg_get_serial_sequence(" + c.quote_literal(n.table_sql) +
                           ", a.attname), '') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                           " AND a.attnum = i.indkey[0] WHERE i.indrelid = " + c.quote_literal(n.table_sql) +
                           "::regclass AND i.indisprimary AND i.indnatts = 1");
    if (PQntuples(r.get()) != 1)
        throw local_error(n.table + " has children, so it needs a one-column primary key for them to reference");
    std::string pk = PQgetvalue(r.get(), 0, 0);
    n.pk_sequence = PQgetvalue(r.get(), 0, 1);
    if (n.pk_sequence.empty() && !m_o.id_start)
        throw local_error("the key " + pk + " of " + n.table + " has no sequence to pre-allocate ids from", {},
                          "give --id-start N, or make it serial or an identity column");
    return pk;
}

// A node's columns, keys and shapes, from the live table.
void tree_loader::setup_node(tree_node& n) {
    connection& c = *m_conn;
    n.table_sql = quote_qualified_name(c, parse_qualified_name(n.table));
    // A parent's key is written by pgrec (pre-allocated), so it is kept
    // even when it is serial; a child's reference too.
    std::string pk = primary_key(n);
    std::vector<std::string> keep{pk};
    if (!n.fk_column.empty())
        keep.push_back(n.fk_column);
    std::vector<std::string> server_filled;
    n.columns = live_columns(c, n.table, m_o.with_ids, keep, server_filled);
    if (m_o.json_null_value)
        keep_json_nulls(n.columns);
    for (size_t k = 0; k < n.columns.size(); ++k) {
        n.key_to_column[n.columns[k].name] = static_cast<int>(k);
        if (n.columns[k].name == pk)
            n.pk_index = static_cast<int>(k);
        if (!n.fk_column.empty() && n.columns[k].name == n.fk_column)
            n.fk_index = static_cast<int>(k);
    }
    if (!n.fk_column.empty() && n.fk_index < 0)
        throw local_error("--child: " + n.table + " has no column " + n.fk_column);
    for (int child : n.children)
        n.key_to_column[m_nodes[static_cast<size_t>(child)].key] = -2 - child;
    n.values.resize(n.columns.size());
    n.cells.resize(n.columns.size());
    n.seen.resize(n.columns.size());
    // The keys are always written: pre-allocated or the parent's.
    std::vector<char> defaulted(n.columns.size());
    for (size_t k = 0; k < n.columns.size(); ++k)
        defaulted[k] = m_o.missing == missing_key::default_value && n.columns[k].has_default &&
                       static_cast<int>(k) != n.pk_index && static_cast<int>(k) != n.fk_index;
    n.rows = std::make_unique<shaped_rows>(script_table_name(n.table), n.columns, std::move(defaulted));
    n.next_offline_id = m_o.id_start.value_or(1);
}

int64_t tree_loader::next_id(tree_node& n) {
    ++n.ids_used_in_block;
    if (m_o.id_start)
        return n.next_offline_id++;
    if (n.id_pool.empty()) {
        // As many as the last block used (at least a block's worth): about
        // one round trip per table and block. Safe beside other writers:
        // each nextval is this session's own.
        uint64_t want = std::max<uint64_t>(m_o.block, n.ids_used_in_block * 2);
        result_ptr r = m_conn->query("SELECT nextval(" + m_conn->quote_literal(n.pk_sequence) +
                                     ") FROM generate_series(1, " + std::to_string(want) + ")");
        ++m_allocations;
        for (int k = PQntuples(r.get()) - 1; k >= 0; --k)
            n.id_pool.push_back(std::stoll(PQgetvalue(r.get(), k, 0)));
    }
    int64_t id = n.id_pool.back();
    n.id_pool.pop_back();
    return id;
}

void tree_loader::convert(int index, std::string_view json, std::optional<int64_t> parent_id, int depth) {
    tree_node& n = m_nodes[static_cast<size_t>(index)];
    std::string& padded = m_padded[static_cast<size_t>(depth)];
    padded.assign(json);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document doc;
    od::object object;
    if (m_parsers[static_cast<size_t>(depth)].iterate(padded.data(), json.size(), padded.size()).get(doc) ||
        doc.get_object().get(object))
        throw record_error{depth == 0 ? "not a valid JSON object" : "a child of " + n.path + " is not a JSON object"};
    std::fill(n.seen.begin(), n.seen.end(), 0);
    std::vector<std::pair<int, std::string>> child_arrays;
    std::string key_name;
    for (auto field : object) {
        std::string_view key;
        od::value v;
        if (field.unescaped_key().get(key) || field.value().get(v))
            throw record_error{"invalid JSON"};
        key_name = key;
        auto it = n.key_to_column.find(key_name);
        if (it == n.key_to_column.end()) {
            if (m_o.ignore_unknown)
                continue;
            throw record_error{"key \"" + key_name + "\": no column of " + n.table + " takes it"};
        }
        if (it->second <= -2) {
            od::array a;
            std::string_view raw;
            bool none = false;
            if (!v.is_null().get(none) && none)
                continue; // "children": null, as an ORM writes an unset relationship: no children
            if (v.get_array().get(a) || a.raw_json().get(raw))
                throw record_error{"key \"" + key_name + "\": the children must be a JSON array"};
            child_arrays.emplace_back(-2 - it->second, std::string(trim_json_space(raw)));
            continue;
        }
        auto c = static_cast<size_t>(it->second);
        n.seen[c] = 1;
        try {
            convert_json_value(v, n.columns[c], n.values[c], n.cells[c]);
        } catch (const record_error& e) {
            throw record_error{"key \"" + key_name + "\": " + e.message + " (" + n.table + "." + n.columns[c].name +
                              ", type " + n.columns[c].type.name + ")"};
        }
    }
    std::optional<int64_t> id = fill_keys(n, parent_id);
    m_added.push_back(n.rows->add(n.values, n.seen));
    // Children after the row: their reference is this row's key.
    for (const auto& [child, raw] : child_arrays)
        convert_children(child, raw, id, depth);
}

// Fills the columns whose keys are missing, the key (pre-allocated when
// missing) and the reference to the parent; returns the row's key.
std::optional<int64_t> tree_loader::fill_keys(tree_node& n, std::optional<int64_t> parent_id) {
    for (size_t k = 0; k < n.columns.size(); ++k)
        if (!n.seen[k]) {
            if (m_o.missing == missing_key::error && static_cast<int>(k) != n.pk_index &&
                static_cast<int>(k) != n.fk_index)
                throw record_error{"key \"" + n.columns[k].name + "\" is missing in " + n.table + " (--missing error)"};
            n.values[k] = value{}; // NULL, unless its shape leaves the column to its DEFAULT
        }
    std::optional<int64_t> id;
    if (n.pk_index >= 0) {
        value& pk = n.values[static_cast<size_t>(n.pk_index)];
        if (pk.kind == value_kind::null) {
            pk.kind = value_kind::integer;
            pk.i = next_id(n);
            n.seen[static_cast<size_t>(n.pk_index)] = 1;
        } else if (pk.kind != value_kind::integer) {
            throw record_error{"the key of " + n.table + " must be an integer to be referenced"};
        }
        id = pk.i;
    }
    if (n.fk_index >= 0) {
        value& fk = n.values[static_cast<size_t>(n.fk_index)];
        fk = value{};
        fk.kind = value_kind::integer;
        fk.i = *parent_id;
        n.seen[static_cast<size_t>(n.fk_index)] = 1;
    }
    return id;
}

// Converts the child records in the JSON array raw, referencing id.
void tree_loader::convert_children(int child, std::string_view raw, std::optional<int64_t> id, int depth) {
    std::string& array_padded = m_array_padded[static_cast<size_t>(depth)];
    array_padded.assign(raw);
    array_padded.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document array_doc;
    od::array elements;
    if (m_array_parsers[static_cast<size_t>(depth)].iterate(array_padded.data(), raw.size(), array_padded.size())
            .get(array_doc) ||
        array_doc.get_array().get(elements))
        throw record_error{"the children under \"" + m_nodes[static_cast<size_t>(child)].key + "\" are not an array"};
    for (auto element : elements) {
        od::object o;
        std::string_view text;
        if (element.get_object().get(o) || o.raw_json().get(text))
            throw record_error{"a child under \"" + m_nodes[static_cast<size_t>(child)].key + "\" is not an object"};
        convert(child, trim_json_space(text), id, depth + 1);
    }
}

void tree_loader::emit_block() {
    // Parents before children: the nodes are in the order of their --child.
    for (auto& n : m_nodes) {
        for (const auto& s : n.rows->shapes()) {
            m_script->block(s->header, s->rows);
            m_summary.rows += s->count;
            s->rows.clear();
            s->count = 0;
        }
        n.ids_used_in_block = 0;
    }
}

// Converts one record into the block, or takes it back whole, children
// and all, when it is bad; a full block is written.
void tree_loader::convert_record(const input_line& line, uint64_t& in_block) {
    m_added.clear();
    try {
        convert(0, line.text, std::nullopt, 0);
    } catch (const record_error& e) {
        for (auto row = m_added.rbegin(); row != m_added.rend(); ++row)
            shaped_rows::take_back(*row);
        if (!m_rejects)
            throw local_error(line.input + ":" + std::to_string(line.number) + ": " + e.message, {},
                              "nothing of this record (or of its block) was written");
        reject_line(*m_rejects, line, e.message);
        ++m_summary.rejected;
        return;
    }
    if (++in_block == m_o.block) {
        emit_block();
        in_block = 0;
    }
}

void tree_loader::summarize(std::chrono::steady_clock::time_point started) {
    m_summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string line = summary_line(m_summary) + " and its children (" + std::to_string(m_allocations) +
                       " id allocation" + (m_allocations == 1 ? "" : "s") + ")";
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + " records rejected (see " + m_o.reject_file + ".log)";
    log_info(line);
    write_stats_file(m_o.stats_file, m_summary);
}

load_summary tree_loader::run() {
    auto started = std::chrono::steady_clock::now();
    m_summary.program = std::string(program_name());
    m_summary.target = m_o.table;
    m_summary.verb = "converted";
    m_summary.preposition = "for";
    setup();
    std::vector<std::string> inputs = inputs_or_stdin(m_o.inputs);
    check_inputs_readable(inputs);
    if (!m_o.reject_file.empty())
        m_rejects = std::make_unique<reject_sink>(m_o.reject_file);
    output_stream out(m_o.output, m_o.zstd_level, false);
    m_script = std::make_unique<script_output>(out);
    uint64_t in_block = 0;
    try {
        for (const auto& path : inputs) {
            input_stream in(path);
            for_each_line(in, m_o.require_end, [&](const input_line& line) { convert_record(line, in_block); }, [] {});
        }
        emit_block();
        m_script->finish(m_o.end_line);
        out.close();
    } catch (const broken_pipe&) {
        return m_summary;
    }
    m_summary.bytes = out.bytes_in();
    summarize(started);
    return m_summary;
}

} // namespace

load_summary run_record_tree(const record_options& options) {
    validate_record_options(options);
    tree_loader loader(options);
    return loader.run();
}

} // namespace pgpipe
