// pgrec's script streams: rows grouped by shape (the columns they name), written as COPY blocks.
#pragma once

#include "convert.hpp"
#include "io/output.hpp"
#include "pg/row_writer.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgpipe {

/// A name as a script's COPY line writes it: bare when SQL reads it back
/// unchanged, else in double quotes, so that psql runs the script too.
std::string script_name(std::string_view name);
/// TABLE as the user wrote it (maybe schema-qualified), for a COPY line.
std::string script_table_name(const std::string& table);

/// The rows of one table that name the same columns: a COPY block each time
/// they are written out.
struct row_shape {
    std::vector<size_t> columns; ///< the columns its block names, in table order
    std::string header;          ///< "COPY t (a, b) FROM stdin;\n"
    std::string rows;            ///< COPY text rows not yet written, in input order
    uint64_t count = 0;          ///< how many rows that is
    size_t held = 0;             ///< rows.capacity() as last accounted for
};

/// A row added to a shape, so that it can be taken back.
struct added_row {
    row_shape* into; ///< its shape
    size_t before;   ///< into->rows.size() before the row
};

/// A table's rows grouped by shape: which columns with a DEFAULT the record
/// had keys for. The other columns are always named, as NULL when their key
/// is missing: their default is NULL anyway, and fewer shapes mean fewer
/// blocks.
class shaped_rows {
public:
    /// defaulted[k]: column k is left out of a row whose record lacks its key.
    shaped_rows(std::string table_sql, std::vector<record_column> columns, std::vector<char> defaulted)
        : m_table_sql(std::move(table_sql)), m_columns(std::move(columns)), m_defaulted(std::move(defaulted)) {}
    shaped_rows(const shaped_rows&) = delete;
    shaped_rows& operator=(const shaped_rows&) = delete;
    /// Adds the row of values to its shape; seen[k] says whether the record
    /// had column k's key. Throws record_error when no column is left to name.
    added_row add(const std::vector<value>& values, const std::vector<char>& seen);
    /// Takes a row back (the rows after it first).
    static void take_back(const added_row& row) {
        row.into->rows.resize(row.before);
        --row.into->count;
    }
    /// Every shape so far, in the order they first appeared.
    const std::vector<std::unique_ptr<row_shape>>& shapes() const noexcept { return m_shapes; }

private:
    row_shape& find(const std::vector<char>& seen);

    std::string m_table_sql;
    std::vector<record_column> m_columns;
    std::vector<char> m_defaulted;
    std::string m_key; // the record's shape: a byte per defaulted column
    std::string m_row; // the row being written, before it joins its shape
    row_writer m_writer{copy_format::text, m_row};
    std::unordered_map<std::string, size_t> m_index;
    std::vector<std::unique_ptr<row_shape>> m_shapes; // pointers stay put as shapes are added
};

/// Writes the blocks of a script stream. Until finish(), the stream stops
/// inside a block: a block's "\." goes out in one write with the next
/// block's header and rows, so that a producer that dies leaves an unended
/// block (which pgcopy refuses) rather than a shorter whole script; only a
/// pipe that took exactly the bytes up to that "\." could show one.
class script_output {
public:
    /// Writes to out, which must outlive it.
    explicit script_output(output_stream& out) : m_out(out) {}
    /// Writes rows as a block under header, or as more of the open block
    /// when that has the same header (one COPY for a run of one shape).
    void block(const std::string& header, std::string_view rows);
    /// Ends the open block: from here on the stream is a whole script
    /// (with end_line: ended by the end line \., io/end_line.hpp).
    void finish(bool end_line = false);
    /// The header of the block not yet ended, or "".
    const std::string& open_header() const noexcept { return m_open; }

private:
    output_stream& m_out;
    std::string m_open; // the header of the block not yet ended
    std::string m_buf;  // "\." + header + rows, for one write
};

} // namespace pgpipe
