// Row boundaries of COPY text, CSV and binary data, chunk by chunk, with end markers.
#pragma once

#include "io/copy_format.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// A row that is PostgreSQL's end-of-data marker: the server stops reading
/// the COPY there and throws away whatever follows, so a loader must see it.
/// In text the marker may end a line of data ("1\tone\\.\n"): the server
/// loads that data as a row, then ends. So the row's last `size` bytes are
/// the marker, and the bytes before them, if any, a row without a line end.
struct end_marker {
    size_t end = 0;    ///< offset just past the marker's line end, as in the ends of scan()
    uint64_t line = 0; ///< the marker's line in the stream (1-based, every newline counts)
    size_t size = 0;   ///< the marker's bytes: \. and its line end (3, or 4 with \r\n)
    /// The server refuses the whole line and ends nothing: a text \. after
    /// data on 18 ("end-of-copy marker is not alone on its line").
    bool refused = false;
    /// Whether its line end is not the input's first line's (first_line_end:
    /// '\r' for \r\n, '\n', or 0 while that line is not read): the server
    /// refuses the whole line ("end-of-copy marker does not match previous
    /// newline style").
    bool off_style(char first_line_end) const { return first_line_end && (size == 4) != (first_line_end == '\r'); }
};

/// The line end of the line that ends at bytes[at) ('\r' for \r\n, else
/// '\n'): what a reader notes of an input's first line.
inline char line_end_at(std::string_view bytes, size_t at) { return at >= 2 && bytes[at - 2] == '\r' ? '\r' : '\n'; }

/// Finds where rows end in a COPY stream, chunk by chunk, the way the server
/// will read them: text rows end at a newline that is not escaped by a
/// backslash; CSV rows at a newline outside quotes; binary rows by the tuple
/// framing. State carries over between chunks, so a row may span them.
class row_splitter {
public:
    virtual ~row_splitter() = default;
    /// Scans size more bytes of the stream; appends to ends the offset, from
    /// data, just past each row that ends in them. For binary, the file
    /// header and the trailer are reported as rows of their own (see
    /// header_end and saw_trailer).
    virtual void scan(const char* data, size_t size, std::vector<size_t>& ends) = 0;
    /// At the end of the input: throws local_error (naming offset, the
    /// stream's total size) if it ends inside a binary tuple or header.
    virtual void finish(uint64_t offset) = 0;
    /// Binary: the stream offset just past the file header, once seen (else 0).
    virtual uint64_t header_end() const { return 0; }
    /// Binary: whether the trailer (field count -1) has been seen.
    virtual bool saw_trailer() const { return false; }
    /// Text and CSV: the end-of-data markers (lines of \.) among the rows the
    /// last scan() found, in order, as the server whose rules the splitter
    /// was made with reads them. Text: an unescaped \. ending a line, after
    /// the line's data if it has any (then refused on 18); CSV: a line that
    /// is exactly \. outside quotes (before 18; 18 reads it as data).
    const std::vector<end_marker>& end_markers() const { return m_markers; }

protected:
    std::vector<end_marker> m_markers;
};

/// The failure of a load whose INPUT has rows after a \. line (at LINE).
error data_after_end_marker(const std::string& input, uint64_t line);

/// The error for a \. at input:line whose line end is not the input's first
/// line's (crlf: that first line ends with \r\n): the server refuses such a line.
error marker_newline_mismatch(const std::string& input, uint64_t line, bool crlf);

/// The error for a \. after data on input:line, which the server refuses
/// (PostgreSQL 18: marker_rules::text_marker_after_data_loads).
error marker_not_alone(const std::string& input, uint64_t line);

/// How a server reads end-of-data markers. Its version decides:
/// pg/server_rules.hpp's markers() gives them for a server.
struct marker_rules {
    bool csv_marker_ends_data = true;         ///< a CSV line that is exactly `\.` ends the data (else it is a row)
    bool text_marker_after_data_loads = true; ///< `data\.` loads the data, then ends (else it is refused)
};

/// The splitter for a format and its options (CSV quote and escape), reading
/// end-of-data markers as a server of these rules does; its errors name
/// INPUT when one is given.
std::unique_ptr<row_splitter> make_row_splitter(const copy_format_options& options, const marker_rules& rules,
                                                const std::string& input = {});

/// The binary COPY header every stream starts with (signature, flags 0, no extension).
std::string binary_copy_header();
/// The binary COPY trailer.
std::string binary_copy_trailer();

} // namespace pgpipe
