// COPY formats and their options: parsing, validation, header names, script headers, escapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// The COPY stream formats of docs/design.md.
enum class copy_format { text, csv, binary };

/// Parses "text", "csv" or "binary"; throws local_error otherwise.
copy_format parse_copy_format(std::string_view name);
/// The format's name as COPY spells it.
const char* copy_format_name(copy_format format);

/// COPY's format options, as given on the command line.
struct copy_format_options {
    copy_format format = copy_format::text;  ///< -F
    bool header = false;                     ///< --header: the first line names the columns
    bool header_match = false;               ///< the server checks the header's names (PostgreSQL 15+)
    std::optional<std::string> delimiter;    ///< --delimiter
    std::optional<std::string> quote;        ///< --quote (csv)
    std::optional<std::string> escape;       ///< --escape (csv)
    std::optional<std::string> null_string;  ///< --null
    std::optional<std::string> encoding;     ///< --encoding of the input
};

/// The delimiter COPY uses when none is given: a tab in text, a comma in CSV.
char default_delimiter(copy_format format);
/// The delimiter of options: --delimiter's, else the format's default.
char delimiter_of(const copy_format_options& options);

/// COPY's field syntax with the server's defaults filled in, worked out once
/// from copy_format_options: the one place that knows them.
struct copy_syntax {
    bool csv = false;                ///< CSV's quoting rules, else text's backslash escapes
    char delimiter = '\t';           ///< between fields
    char quote = '"';                ///< CSV only
    char escape = '"';               ///< CSV only: before a quote (or itself) inside quotes
    std::string null_text = "\\N";  ///< a field written so (unquoted, in CSV) is NULL
};

/// The syntax options give: text defaults to tab and \N, CSV to comma, an
/// empty NULL string, the quote " and the escape equal to the quote.
copy_syntax copy_syntax_of(const copy_format_options& options);

/// Refuses combinations COPY would refuse, with a message naming the flag;
/// throws local_error.
void validate_copy_format(const copy_format_options& options);

/// The line number in a server CONTEXT such as `COPY t, line 3, column a: "x"`.
std::optional<uint64_t> copy_context_line(std::string_view context);

/// The column names of a header line (its line end may be included), read
/// as the server's HEADER MATCH reads them: CSV fields with their quotes and
/// escapes undone, text fields with their backslash escapes undone.
std::vector<std::string> header_names(std::string_view line, const copy_format_options& options);

/// Whether text starts with word (upper case), ignoring ASCII case.
bool starts_with_word(std::string_view text, std::string_view word);

/// What a script stream's "COPY name [(columns)] FROM stdin;" line names.
struct script_header {
    std::vector<std::string> table;   ///< the name's parts, unquoted
    std::vector<std::string> columns; ///< unquoted; empty: every column
};

/// Parses a script stream's COPY line (its line end may be included);
/// nullopt when the line is not one. The stream names tables and columns,
/// it never supplies SQL.
std::optional<script_header> parse_script_header(std::string_view line);

/// One escape of COPY text, as the server's text input reads it: c is the
/// byte after the backslash, p points just past c and moves past the octal
/// (up to three) or hex (up to two) digits the escape takes. \b \f \n \r
/// \t \v are control bytes, \NNN octal, \xHH hex (a bare \x is "x"), any
/// other byte stands for itself. Returns the byte (0-255); numeric is set
/// when it came from digits.
int copy_text_unescape(char c, const char*& p, const char* end, bool& numeric);

/// Counts newline bytes, for progress on line-oriented formats.
uint64_t count_newlines(const char* data, size_t size);

/// The server's "line N" in a COPY's CONTEXT, counted over the rows of one
/// COPY in the order sent: one per row, and in CSV the newlines inside
/// quotes too, as CopyReadLineText counts them (\n once the first row has
/// shown the line end to be \n, else \r). So N is not the input's line:
/// this finds the row N names.
class copy_line_counter {
public:
    explicit copy_line_counter(bool csv) : m_csv(csv) {}
    /// Counts a row (its bytes and line end); returns the server's line number of it.
    uint64_t add(std::string_view row);
    /// The newlines of the last row added beyond its line end (the input's lines it spans, less one).
    uint64_t extra_newlines() const { return m_extra_newlines; }

private:
    bool m_csv;
    char m_eol = 0; // the first row's line end: '\n', '\r' (\r\n), or 0 before it
    uint64_t m_line = 0;
    uint64_t m_extra_newlines = 0;
};

/// Which of count rows sent in one COPY (row_at(k) gives row k's bytes and
/// line end) the server's CONTEXT "line N" names: its index, or count when
/// none does (line 0: unknown). CSV rows may span several lines it counts.
template <class RowAt>
size_t row_at_copy_line(bool csv, size_t count, uint64_t line, RowAt row_at) {
    copy_line_counter counter(csv);
    for (size_t k = 0; line && k < count; ++k)
        if (counter.add(row_at(k)) >= line)
            return k;
    return count;
}

} // namespace pgpipe
