// pgrec's script streams: names as a COPY line writes them, shapes of rows, and their blocks.
#include "shapes.hpp"

#include "io/end_line.hpp"

#include "io/sql_names.hpp"

#include <algorithm>
#include <array>

namespace pgpipe {
namespace {

// The keywords that cannot name a table or a column unquoted: PostgreSQL's
// reserved and type-or-function-name keywords (pg_get_keywords(), catcode
// R and T), in byte order for binary search.
constexpr std::array<std::string_view, 100> reserved_words{
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
    "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
    "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
    "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left",
    "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only",
    "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
    "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window", "with"};

} // namespace

std::string script_name(std::string_view name) {
    std::string out = quote_identifier_if_needed(name);
    if (out.size() == name.size() && std::binary_search(reserved_words.begin(), reserved_words.end(), name))
        out = "\"" + out + "\"";
    return out;
}

std::string script_table_name(const std::string& table) {
    std::string out;
    for (const auto& part : parse_qualified_name(table))
        out += (out.empty() ? "" : ".") + script_name(part);
    return out;
}

row_shape& shaped_rows::find(const std::vector<char>& seen) {
    m_key.clear();
    for (size_t k = 0; k < m_columns.size(); ++k)
        if (m_defaulted[k])
            m_key += seen[k] ? '1' : '0';
    if (auto it = m_index.find(m_key); it != m_index.end())
        return *m_shapes[it->second];
    auto s = std::make_unique<row_shape>();
    std::string names;
    for (size_t k = 0; k < m_columns.size(); ++k)
        if (!m_defaulted[k] || seen[k]) {
            s->columns.push_back(k);
            names += (names.empty() ? "" : ", ") + script_name(m_columns[k].name);
        }
    // COPY names at least one column; a row of defaults alone needs INSERT.
    if (s->columns.empty())
        throw record_error{"the record has no key for any column, and a COPY row cannot consist of defaults alone"};
    s->header = "COPY " + m_table_sql + " (" + names + ") FROM stdin;\n";
    m_index.emplace(m_key, m_shapes.size());
    m_shapes.push_back(std::move(s));
    return *m_shapes.back();
}

added_row shaped_rows::add(const std::vector<value>& values, const std::vector<char>& seen) {
    row_shape& s = find(seen);
    m_writer.begin_row(static_cast<int16_t>(s.columns.size()));
    for (size_t k : s.columns)
        m_writer.field(values[k], m_columns[k].type);
    m_writer.end_row();
    m_writer.flush();
    added_row row{&s, s.rows.size()};
    s.rows.append(m_row);
    m_row.clear();
    ++s.count;
    return row;
}

void script_output::block(const std::string& header, std::string_view rows) {
    if (rows.empty())
        return;
    if (header == m_open) {
        m_out.write(rows);
        return;
    }
    m_buf.assign(m_open.empty() ? "" : "\\.\n");
    m_buf += header;
    m_buf += rows;
    m_out.write(m_buf);
    m_open = header;
}

void script_output::finish(bool end_line) {
    // In one write: a producer that dies leaves the open block unended.
    std::string last = m_open.empty() ? "" : "\\.\n";
    if (end_line)
        last += end_line_text;
    if (!last.empty())
        m_out.write(last);
    m_open.clear();
}

} // namespace pgpipe
