// pgrec: JSON lines (ORM objects) to COPY rows of one table, as a script stream or a plain stream.
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
#include "pg/row_writer.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <unordered_map>

namespace od = simdjson::ondemand;

namespace pgpipe {
namespace {

// The 1-based column of the first byte after the top-level object that
// starts the line (strings and escapes respected), past white space; 0
// when the object never closes or nothing follows it.
size_t after_object_column(std::string_view line) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t k = 0; k < line.size(); ++k) {
        char c = line[k];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            size_t next = line.find_first_not_of(" \t\r", k + 1);
            return next == std::string_view::npos ? 0 : next + 1;
        }
    }
    return 0;
}

// Where the JSON went wrong, as a 1-based byte column in the line.
size_t error_column(od::document& doc, const char* line_start, size_t line_size) {
    const char* at = nullptr;
    if (doc.current_location().get(at) || !at)
        return line_size + 1;
    return static_cast<size_t>(at - line_start) + 1;
}

class record_loader {
public:
    explicit record_loader(const record_options& o) : m_o(o) {}
    load_summary run();

private:
    // A shape's block is written when it holds this much; all shapes
    // together hold at most held_limit bytes (the largest is written and
    // its buffer freed past that), whatever the number of shapes.
    static constexpr size_t block_bytes = 1 << 20;
    static constexpr size_t held_limit = 16 << 20;

    void setup_columns();
    void setup_map();
    void setup_output(output_stream& out);
    void list_columns();
    void log_server_filled();
    void convert_inputs(const std::vector<std::string>& inputs, output_stream& out, progress_meter& meter);
    void convert_line(const input_line& line);
    bool open_object(const input_line& line, od::document& doc, od::object& object);
    std::string json_error(const input_line& line, od::document& doc, simdjson::error_code err);
    void read_fields(od::document& doc, od::object& object, std::string_view line);
    std::string field_error(const record_error& e);
    bool fill_missing(const input_line& line);
    void write_row(const input_line& line);
    void write_shape(row_shape& s, bool release);
    void finish_output(output_stream& out);
    void summarize(std::chrono::steady_clock::time_point started);
    void reject(const input_line& line, const std::string& why, const std::string& hint = {});
    uint64_t rows() const { return m_script ? m_rows : m_writer->rows(); }

    const record_options& m_o;
    std::vector<record_column> m_columns;
    std::vector<std::string> m_keys;                      // the key of each column (--map renames)
    std::unordered_map<std::string, int> m_key_to_column; // -1: a server-filled column
    std::vector<std::string> m_server_filled;
    std::vector<char> m_defaulted; // a missing key leaves the column to its DEFAULT
    std::vector<value> m_values;
    std::vector<record_cell> m_cells;
    std::vector<char> m_seen;
    std::string m_current_key; // the key being converted, for messages
    od::parser m_parser;
    std::string m_padded;
    bool m_script = false;                     // text: a script stream, a COPY block per shape
    std::unique_ptr<row_writer> m_writer;      // csv and binary: one plain stream
    std::unique_ptr<shaped_rows> m_shapes;     // text: the rows waiting in their shapes
    std::unique_ptr<script_output> m_script_out;
    size_t m_held = 0;                         // bytes the shapes' buffers hold
    uint64_t m_rows = 0;
    std::unique_ptr<reject_sink> m_rejects; // --reject-file, or none
    load_summary m_summary;
};

void record_loader::setup_columns() {
    const bool live = !m_o.columns;
    if (live) {
        connection conn = connection::open(m_o.connection);
        m_columns = live_columns(conn, m_o.table, m_o.with_ids, {}, m_server_filled);
    } else {
        m_columns = offline_columns(*m_o.columns);
    }
    if (m_columns.empty())
        throw local_error("no columns to fill in " + m_o.table);
    if (m_o.json_null_value)
        keep_json_nulls(m_columns);
    m_script = m_o.format == copy_format::text;
    for (size_t k = 0; k < m_columns.size(); ++k) {
        m_key_to_column[m_columns[k].name] = static_cast<int>(k);
        m_keys.push_back(m_columns[k].name);
        // Offline the defaults are unknown: a script leaves every missing
        // column to the server, whose default for a column without one is
        // NULL; CSV and binary, which must write a value, write NULL.
        bool defaulted = live ? m_columns[k].has_default : m_script;
        m_defaulted.push_back(m_o.missing == missing_key::default_value && defaulted);
    }
    for (const auto& name : m_server_filled)
        m_key_to_column[name] = -1;
    setup_map();
    m_values.resize(m_columns.size());
    m_cells.resize(m_columns.size());
    m_seen.resize(m_columns.size());
}

void record_loader::setup_map() {
    if (!m_o.map)
        return;
    for (const auto& pair : split_outside_parens(*m_o.map)) {
        auto eq = pair.find('=');
        if (eq == std::string::npos)
            throw local_error("--map wants key=column pairs, not \"" + pair + "\"");
        std::string key = pair.substr(0, eq);
        auto names = parse_name_list(pair.substr(eq + 1));
        auto it = m_key_to_column.find(names.at(0));
        if (it == m_key_to_column.end())
            throw local_error("--map " + pair + ": no column " + names[0] + " in " + m_o.table);
        int index = it->second;
        m_key_to_column.erase(it); // the column's own name is no longer a key
        m_key_to_column[key] = index;
        if (index >= 0)
            m_keys[static_cast<size_t>(index)] = key;
    }
}

void record_loader::reject(const input_line& line, const std::string& why, const std::string& hint) {
    if (!m_rejects)
        throw local_error(line.input + ":" + std::to_string(line.number) + ": " + why, {},
                          hint.empty() ? "nothing of this line was written; --reject-file sets bad lines aside and goes on"
                                       : hint);
    reject_line(*m_rejects, line, why);
    ++m_summary.rejected;
}

// Parses the line and opens its object; false when the line is bad (and
// reported).
bool record_loader::open_object(const input_line& line, od::document& doc, od::object& object) {
    // simdjson reads a little past the end: give it a padded copy.
    m_padded.assign(line.text);
    m_padded.append(simdjson::SIMDJSON_PADDING, '\0');
    const size_t size = line.text.size();
    if (auto err = m_parser.iterate(m_padded.data(), size, m_padded.size()).get(doc)) {
        if (err == simdjson::UNCLOSED_STRING)
            reject(line, "invalid JSON: the line ends at byte " + std::to_string(size) +
                             " inside a string (a closing \" is missing)");
        else
            reject(line, std::string("invalid JSON: ") + simdjson::error_message(err));
        return false;
    }
    auto err = doc.get_object().get(object);
    if (err)
        reject(line, json_error(line, doc, err));
    return !err;
}

// Why a line that parsed is not one JSON object.
std::string record_loader::json_error(const input_line& line, od::document& doc, simdjson::error_code err) {
    od::json_type kind;
    bool is_json = !doc.type().get(kind);
    const size_t size = line.text.size();
    if (size_t after = after_object_column(line.text); after > 0)
        return "more after the object, at byte column " + std::to_string(after);
    if (is_json && err == simdjson::INCORRECT_TYPE)
        return "not a JSON object (each line must be one object)";
    if (err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT)
        // simdjson places such an error at the start of the line; the
        // fault is at its end.
        return "invalid JSON: the line ends at byte " + std::to_string(size) +
               " inside an object or array (a closing } or ] is missing)";
    return "invalid JSON at byte column " + std::to_string(error_column(doc, m_padded.data(), size)) + ": " +
           simdjson::error_message(err);
}

// Converts the object's keys into m_values, marking m_seen. Throws
// record_error (m_current_key names the key, if any) or simdjson_error.
void record_loader::read_fields(od::document& doc, od::object& object, std::string_view line) {
    m_current_key.clear();
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            throw simdjson::simdjson_error(simdjson::TAPE_ERROR);
        m_current_key.assign(key);
        auto it = m_key_to_column.find(m_current_key);
        if (it == m_key_to_column.end() || it->second < 0) {
            if (m_o.ignore_unknown)
                continue;
            bool none = false;
            if (it != m_key_to_column.end() && !field.value().is_null().get(none) && none)
                continue; // an unflushed ORM object's "id": null: the server fills it, as it would the ORM's
            if (it != m_key_to_column.end())
                throw record_error{"fills column " + m_current_key +
                                   ", which the server fills (serial, identity or generated); pass --with-ids to "
                                   "load the records' own values"};
            throw record_error{"no column of " + m_o.table + " takes this key (--map renames, --ignore-unknown drops)"};
        }
        auto c = static_cast<size_t>(it->second);
        if (m_seen[c])
            throw record_error{"the key appears twice"};
        m_seen[c] = 1;
        od::value v;
        if (field.value().get(v))
            throw simdjson::simdjson_error(simdjson::TAPE_ERROR);
        convert_json_value(v, m_columns[c], m_values[c], m_cells[c]);
    }
    m_current_key.clear();
    // Anything but white space after the object is not one JSON value.
    const char* at = nullptr;
    if (!doc.current_location().get(at) && at) {
        const char* end = m_padded.data() + line.size();
        std::string_view rest(at, at < end ? static_cast<size_t>(end - at) : 0);
        size_t extra = rest.find_first_not_of(" \t\r");
        if (extra != std::string_view::npos)
            throw record_error{"more after the object, at byte column " +
                               std::to_string(static_cast<size_t>(at - m_padded.data()) + extra + 1)};
    }
}

// A field's error with its key and column, when it has them.
std::string record_loader::field_error(const record_error& e) {
    if (m_current_key.empty())
        return e.message;
    std::string out = "key \"" + m_current_key + "\": " + e.message;
    auto it = m_key_to_column.find(m_current_key);
    if (it != m_key_to_column.end() && it->second >= 0) {
        const record_column& col = m_columns[static_cast<size_t>(it->second)];
        out += " (column " + col.name + ", type " + col.type.name + ")";
    }
    return out;
}

// Fills the columns whose keys the record lacks: NULL, or in a script a
// defaulted column is left out of the row's shape. False when the line is
// bad for it (and reported).
bool record_loader::fill_missing(const input_line& line) {
    for (size_t k = 0; k < m_columns.size(); ++k) {
        if (m_seen[k])
            continue;
        const std::string& key = m_keys[k];
        if (m_o.missing == missing_key::error) {
            reject(line, "key \"" + key + "\" is missing (--missing error)");
            return false;
        }
        if (m_defaulted[k] && !m_script) {
            reject(line,
                   "key \"" + key + "\" is missing, and -F " + copy_format_name(m_o.format) +
                       " cannot leave column " + m_columns[k].name + " to its DEFAULT",
                   "the default text output (a script stream for pgcopy) leaves missing keys to their "
                   "DEFAULT; --missing null writes NULL");
            return false;
        }
        m_values[k] = value{}; // NULL
    }
    return true;
}

void record_loader::convert_line(const input_line& line) {
    od::document doc;
    od::object object;
    if (!open_object(line, doc, object))
        return;
    std::fill(m_seen.begin(), m_seen.end(), 0);
    try {
        read_fields(doc, object, line.text);
    } catch (const record_error& e) {
        reject(line, field_error(e));
        return;
    } catch (const simdjson::simdjson_error& e) {
        reject(line, std::string("invalid JSON at byte column ") +
                         std::to_string(error_column(doc, m_padded.data(), line.text.size())) + ": " + e.what());
        return;
    }
    if (fill_missing(line))
        write_row(line);
}

void record_loader::write_row(const input_line& line) {
    if (!m_script) {
        m_writer->begin_row(static_cast<int16_t>(m_columns.size()));
        for (size_t k = 0; k < m_columns.size(); ++k)
            m_writer->field(m_values[k], m_columns[k].type);
        m_writer->end_row();
        return;
    }
    row_shape* s = nullptr;
    try {
        s = m_shapes->add(m_values, m_seen).into;
    } catch (const record_error& e) {
        reject(line, e.message);
        return;
    }
    ++m_rows;
    m_held += s->rows.capacity() - s->held;
    s->held = s->rows.capacity();
    if (s->rows.size() >= block_bytes)
        write_shape(*s, false);
    while (m_held > held_limit) {
        // Many shapes at once: write the one holding most, and free it.
        row_shape* largest = nullptr;
        for (const auto& candidate : m_shapes->shapes())
            if (!largest || candidate->held > largest->held)
                largest = candidate.get();
        write_shape(*largest, true);
    }
}

// Writes a shape's rows as a block; release frees its buffer too (a shape
// that filled its block keeps it, as it is likely to fill it again).
void record_loader::write_shape(row_shape& s, bool release) {
    m_script_out->block(s.header, s.rows);
    s.rows.clear();
    s.count = 0;
    if (release) {
        std::string().swap(s.rows);
        m_held -= s.held;
        s.held = 0;
    }
}

void record_loader::setup_output(output_stream& out) {
    if (!m_script) {
        m_writer = std::make_unique<row_writer>(m_o.format, out);
        m_writer->begin();
        return;
    }
    std::vector<record_column> columns = m_columns;
    m_shapes = std::make_unique<shaped_rows>(script_table_name(m_o.table), std::move(columns), m_defaulted);
    m_script_out = std::make_unique<script_output>(out);
}

void record_loader::finish_output(output_stream& out) {
    if (!m_script) {
        m_writer->finish(m_o.end_line);
        return;
    }
    // The open block's shape first: its rows continue that block.
    const auto& shapes = m_shapes->shapes();
    for (const auto& s : shapes)
        if (s->header == m_script_out->open_header())
            write_shape(*s, false);
    for (const auto& s : shapes)
        write_shape(*s, false);
    m_script_out->finish(m_o.end_line);
    out.close();
}

void record_loader::list_columns() {
    std::string names;
    for (const auto& c : m_columns)
        names += (names.empty() ? "" : ",") + quote_identifier_if_needed(c.name);
    output_stream out(m_o.output, 0, false);
    out.write(names + "\n");
    out.close();
}

void record_loader::summarize(std::chrono::steady_clock::time_point started) {
    m_summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string line = summary_line(m_summary);
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + " lines rejected (see " + m_o.reject_file + ".log)";
    log_info(line);
    write_stats_file(m_o.stats_file, m_summary);
}

// Says which columns the server fills, and for a plain stream how to load it.
void record_loader::log_server_filled() {
    if (m_server_filled.empty())
        return;
    std::string names;
    for (const auto& n : m_server_filled)
        names += (names.empty() ? "" : ", ") + n;
    // A script names its columns; a plain stream needs pgcopy -c.
    log_info("leaving " + names + " to the server" +
             (m_script ? "" : "; load with: pgcopy -c \"$(pgrec --list-columns " + m_o.table + ")\" " + m_o.table));
}

void record_loader::convert_inputs(const std::vector<std::string>& inputs, output_stream& out,
                                   progress_meter& meter) {
    progress_state state;
    for (const auto& path : inputs) {
        input_stream in(path);
        for_each_line(
            in, m_o.require_end, [&](const input_line& line) { convert_line(line); },
            [&] {
                state.rows = rows();
                state.bytes = out.bytes_in();
                meter.update(state);
            });
        m_summary.input_bytes += in.raw_bytes_read();
    }
}

load_summary record_loader::run() {
    auto started = std::chrono::steady_clock::now();
    m_summary.program = std::string(program_name());
    m_summary.target = m_o.table;
    m_summary.verb = "converted";
    m_summary.preposition = "for";
    std::vector<std::string> inputs = inputs_or_stdin(m_o.inputs);
    setup_columns();
    if (m_o.list_columns) {
        list_columns();
        return m_summary;
    }
    log_server_filled();
    check_inputs_readable(inputs);
    if (!m_o.reject_file.empty())
        m_rejects = std::make_unique<reject_sink>(m_o.reject_file);
    output_stream out(m_o.output, m_o.zstd_level, m_o.format == copy_format::binary);
    progress_meter meter(m_o.show_progress);
    try {
        setup_output(out);
        convert_inputs(inputs, out, meter);
        finish_output(out);
    } catch (const broken_pipe&) {
        meter.finish();
        m_summary.rows = rows();
        return m_summary;
    } catch (const error&) {
        // A plain stream gets its whole rows (binary, no trailer); a script
        // stays inside its open block: either way the reader can tell.
        meter.finish();
        if (m_writer)
            m_writer->abandon();
        throw;
    }
    meter.finish();
    m_summary.rows = rows();
    m_summary.bytes = out.bytes_in();
    summarize(started);
    return m_summary;
}

} // namespace

void validate_record_options(const record_options& o) {
    if (o.table.empty())
        throw usage_failure("no table given");
    if (o.block == 0)
        throw usage_failure("--block must be at least 1");
}

load_summary run_records(const record_options& options) {
    validate_record_options(options);
    record_loader loader(options);
    return loader.run();
}

} // namespace pgpipe
