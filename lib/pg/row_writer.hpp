// row_writer: values to COPY rows (text, CSV or binary) in one reused buffer.
#pragma once

#include "io/copy_format.hpp"
#include "io/output.hpp"
#include "pg/pg_types.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgpipe {

/// What a value is, before it is encoded for a column.
enum class value_kind : uint8_t {
    null, integer, decimal, real, boolean, string, bytes, date, time, timestamp, interval, uuid, json, array,
    numeric_text, ///< an exact decimal of any length as plain text ("-12.3400"), for numeric columns
};

/// One field's value, as generators (and record readers) produce it. Views
/// point into buffers their producer owns and reuses; nothing is allocated.
struct value {
    value_kind kind = value_kind::null; ///< what the fields below hold
    int64_t i = 0;          ///< integer; decimal mantissa; days (date); microseconds (time, timestamp, interval)
    int32_t scale = 0;      ///< decimal: digits after the point
    int32_t days = 0;       ///< interval: days
    int32_t months = 0;     ///< interval: months
    double d = 0;           ///< real
    std::string_view s;     ///< string, bytes, json
    std::array<uint8_t, 16> uuid{}; ///< uuid
    const value* elements = nullptr; ///< array: the elements
    uint32_t count = 0;     ///< array: how many
    bool plain = false;     ///< string known to need no escaping or quoting (see is_plain_text)
};

/// Writes rows of COPY data (text, CSV or binary) into one reused buffer and
/// hands it to an output_stream in large chunks.
class row_writer {
public:
    /// Writes to out; for CSV, delimiter separates fields.
    row_writer(copy_format format, output_stream& out, char delimiter = 0);
    /// Writes into memory instead (the rows of one table of a script
    /// block); memory is appended to and never flushed elsewhere.
    row_writer(copy_format format, std::string& memory);
    /// The end of what was written so far, to rewind to (memory mode).
    std::pair<size_t, uint64_t> mark() const noexcept { return {m_memory->size() + m_buf.size(), m_rows}; }
    /// Takes back everything written after mark (memory mode).
    void rewind(std::pair<size_t, uint64_t> to) {
        if (to.first >= m_memory->size()) {
            m_buf.resize(to.first - m_memory->size());
        } else {
            m_memory->resize(to.first);
            m_buf.clear();
        }
        m_rows = to.second;
    }
    /// Hands the rows written so far to the output (or the memory).
    void flush();
    /// Writes the binary header (nothing for text and CSV).
    void begin();
    /// Starts a row of nfields fields.
    void begin_row(int16_t nfields) {
        m_first_field = true;
        if (m_format == copy_format::binary)
            put_be16(nfields);
    }
    /// Ends the row; flushes when the buffer is large.
    void end_row() {
        if (m_format != copy_format::binary)
            m_buf += '\n';
        ++m_rows;
        if (m_buf.size() >= flush_threshold)
            flush();
    }
    /// Encodes v as a value of type into the next field.
    void field(const value& v, const column_type& type);
    /// Writes the binary trailer (text and CSV with end_line: the end line
    /// \., io/end_line.hpp), flushes and closes the output.
    void finish(bool end_line = false);
    /// After an error: hands over the complete rows written so far, without
    /// the binary trailer, so that a binary stream stays visibly unfinished.
    void abandon() {
        try {
            flush();
        } catch (...) {
        }
    }
    /// Rows written so far.
    uint64_t rows() const noexcept { return m_rows; }
    /// The format being written.
    copy_format format() const noexcept { return m_format; }

private:
    static constexpr size_t flush_threshold = 1 << 20;
    void separator() {
        if (!m_first_field)
            m_buf += m_delimiter;
        m_first_field = false;
    }
    void put_be16(int v) {
        m_buf += static_cast<char>((v >> 8) & 0xff);
        m_buf += static_cast<char>(v & 0xff);
    }
    void put_be32(uint32_t v);
    void put_be64(uint64_t v);
    void text_field(const value& v, const column_type& type);
    void binary_field(const value& v, const column_type& type);
    void binary_scalar(const value& v, const column_type& type);
    void render_text(std::string& out, const value& v, const column_type& type, bool in_array);

    copy_format m_format;
    output_stream* m_out = nullptr;
    std::string* m_memory = nullptr;
    char m_delimiter;
    bool m_first_field = true;
    uint64_t m_rows = 0;
    std::string m_buf;     // the rows not yet handed to the output
    std::string m_scratch; // one field's text, before escaping
};

} // namespace pgpipe
