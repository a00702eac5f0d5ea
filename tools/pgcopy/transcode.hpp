// pgcopy --send-binary: COPY text rows re-encoded as COPY binary tuples, and reserved ids put in front of rows.
#pragma once

#include "io/copy_format.hpp"
#include "pg/pg_types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// How text_to_binary encodes a column (text covers varchar, char(n), json and enums).
enum class binary_kind : uint8_t {
    text, jsonb, bytea, boolean, int2, int4, int8, numeric, float4, float8, date, timestamp, timestamptz, uuid,
};

/// Encodes rows of COPY text (default options: tab delimiter, \N for NULL)
/// as COPY binary tuples meaning exactly what the server's text input would
/// read, or says it cannot. It accepts only strict, unambiguous forms of each
/// value (those the server's COPY TO writes); anything else makes encode()
/// return false, and the caller sends the text, whose errors the server then
/// reports with line numbers.
///
/// Assumes the connection's client_encoding is UTF8: text must be valid
/// UTF-8 or is refused. (Under SJIS, BIG5, GBK, UHC or GB18030 a character
/// may hold a backslash or tab byte, and the server would split fields
/// differently; callers should not encode under those.) Values the server
/// checks beyond their form (varchar(n) and char(n) lengths, numeric(p,s)
/// precision, JSON syntax, enum labels) go as they are: the binary COPY then
/// fails as the text one would, its CONTEXT naming the same line number.
class text_to_binary {
public:
    /// For rows whose fields have these types, in order; an empty entry is a
    /// type this cannot encode. With id_type (int2, int4 or int8), every
    /// tuple gets a leading id field of that type, supplied by encode().
    explicit text_to_binary(std::vector<std::optional<column_type>> types,
                            std::optional<column_type> id_type = std::nullopt);

    /// Whether every column type is one this encodes; if not, callers send
    /// text and never call encode().
    bool usable() const noexcept { return m_usable; }

    /// Appends the binary tuples (no file header, no trailer) of rows
    /// [0, nrows) of buffer, row k being buffer[starts[k], starts[k+1]) and
    /// ending in '\n'. Row k gets the id first_id + k when there is an id
    /// field. Returns false, with out as it was, when some row is not in a
    /// form this encodes exactly as the server's text input would read it.
    bool encode(std::string_view buffer, const size_t* starts, size_t nrows, std::string& out,
                int64_t first_id = 0);

private:
    bool encode_row(std::string& out, const char* p, const char* end, int64_t id);
    bool encode_text(std::string& out, const char* p, const char* end, bool jsonb, const char*& field_end);

    std::vector<binary_kind> m_kinds; // per column
    std::optional<binary_kind> m_id;  // int2, int4 or int8 when rows get an id
    bool m_usable = true;
    uint64_t m_escaped_newlines = 0; // "\<LF>" pairs seen in the batch's text fields
};

/// Appends rows [0, nrows) of buffer (row k = buffer[starts[k], starts[k+1]))
/// with a leading id field, row k's id being first_id + k. Text and CSV rows
/// get "<id><delimiter>" in front; binary rows (whole tuples, no header)
/// get their field count raised by one and an id_type (int2, int4 or int8)
/// field in front. Throws local_error for an id the type cannot hold in a
/// binary row (text leaves that to the server) or a row that is no tuple.
void prepend_ids(std::string_view buffer, const size_t* starts, size_t nrows, copy_format format, char delimiter,
                 const column_type& id_type, int64_t first_id, std::string& out);

} // namespace pgpipe
