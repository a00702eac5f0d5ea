// Row boundaries of COPY text, CSV and binary data, chunk by chunk, with end markers.
#include "io/row_splitter.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace pgpipe {
namespace {

// The last bytes of the stream before the current chunk, so that a line end
// at the start of a chunk can still be matched against "\\." before it.
class stream_tail {
public:
    /// Byte i of the chunk data, where i may be negative (before the chunk); -1 past what is kept.
    int at(const char* data, ptrdiff_t i) const {
        if (i >= 0)
            return static_cast<unsigned char>(data[i]);
        ptrdiff_t t = static_cast<ptrdiff_t>(m_len) + i;
        return t >= 0 ? static_cast<unsigned char>(m_bytes[t]) : -1;
    }
    /// How many backslashes stand right before byte i (the run may reach into earlier chunks).
    uint64_t backslashes_before(const char* data, ptrdiff_t i) const {
        uint64_t n = 0;
        for (;;) {
            int c = at(data, i - 1 - static_cast<ptrdiff_t>(n));
            if (c == '\\')
                ++n;
            else
                return c == -1 ? n + m_run : n;
        }
    }
    /// Keeps the chunk's last bytes once it has been scanned.
    void keep(const char* data, size_t size) {
        const size_t len = std::min<size_t>(kept, m_len + size);
        const ptrdiff_t from = static_cast<ptrdiff_t>(size) - static_cast<ptrdiff_t>(len);
        uint64_t run = backslashes_before(data, from);
        char bytes[kept];
        for (size_t k = 0; k < len; ++k)
            bytes[k] = static_cast<char>(at(data, from + static_cast<ptrdiff_t>(k)));
        std::memcpy(m_bytes, bytes, len);
        m_len = len;
        m_run = run;
    }

private:
    static constexpr size_t kept = 3; // "\\.\r" before a "\n"
    char m_bytes[kept] = {};
    size_t m_len = 0;
    uint64_t m_run = 0; // backslashes just before m_bytes
};

class text_splitter final : public row_splitter {
public:
    explicit text_splitter(bool marker_after_data_loads) : m_marker_after_data_loads(marker_after_data_loads) {}
    void scan(const char* data, size_t size, std::vector<size_t>& ends) override {
        m_markers.clear();
        const char* p = data;
        const char* end = data + size;
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
            if (!nl) {
                track_backslashes(p, end);
                break;
            }
            ++m_newlines;
            // The newline is data when an odd run of backslashes escapes it;
            // the run may have begun in an earlier chunk.
            track_backslashes(p, nl);
            if (m_backslashes % 2 == 0) {
                ends.push_back(static_cast<size_t>(nl - data) + 1);
                const uint64_t row_start = m_row_start;
                m_row_start = m_offset + ends.back();
                if (const size_t marker_bytes = marker_size(data, nl - data)) {
                    const bool after_data = m_row_start - marker_bytes > row_start;
                    m_markers.push_back({ends.back(), m_newlines, marker_bytes, after_data && !m_marker_after_data_loads});
                }
            }
            m_backslashes = 0;
            p = nl + 1;
        }
        m_offset += size;
        m_tail.keep(data, size);
    }
    void finish(uint64_t) override {}

private:
    // PostgreSQL 15 ends the data at an unescaped "\\." followed by a line end,
    // wherever it stands in the line. Returns the marker's size with its line
    // end, or 0 when the line ends in no marker.
    size_t marker_size(const char* data, ptrdiff_t nl) const {
        ptrdiff_t i = nl;
        if (m_tail.at(data, i - 1) == '\r')
            --i;
        const bool marker = m_tail.at(data, i - 1) == '.' && m_tail.at(data, i - 2) == '\\' &&
                            m_tail.backslashes_before(data, i - 1) % 2 == 1;
        return marker ? static_cast<size_t>(nl - i) + 3 : 0;
    }
    void track_backslashes(const char* from, const char* to) {
        // Only the run just before `to` matters.
        const char* q = to;
        while (q > from && q[-1] == '\\')
            --q;
        m_backslashes = q == from ? m_backslashes + static_cast<size_t>(to - from) : static_cast<size_t>(to - q);
    }
    bool m_marker_after_data_loads; // marker_rules::text_marker_after_data_loads
    size_t m_backslashes = 0;
    uint64_t m_newlines = 0;
    uint64_t m_offset = 0;    // stream offset of the current chunk
    uint64_t m_row_start = 0; // stream offset where the current row starts
    stream_tail m_tail;
};

class csv_splitter final : public row_splitter {
public:
    csv_splitter(char quote, char escape, bool marker_ends_data, const std::string& input)
        : m_quote(quote), m_escape(escape), m_marker_ends_data(marker_ends_data),
          m_input(input.empty() ? "the input" : input) {}
    void scan(const char* data, size_t size, std::vector<size_t>& ends) override {
        m_markers.clear();
        for (size_t k = 0; k < size; ++k) {
            char c = data[k];
            if (c == '\n')
                ++m_newlines;
            if (m_in_quotes) {
                if (m_escaping) {
                    m_escaping = false;
                    continue;
                }
                if (c == m_escape && m_escape != m_quote) {
                    m_escaping = true;
                } else if (c == m_quote) {
                    // With escape == quote, "" inside quotes toggles out and
                    // straight back in: the same as the server's reading.
                    m_in_quotes = false;
                }
            } else if (c == m_quote) {
                m_in_quotes = true;
            } else if (c == '\n') {
                ends.push_back(k + 1);
                row_ended(data, k);
            }
        }
        m_offset += size;
        m_tail.keep(data, size);
    }
    // The server would name the line after the last one: name the row's own.
    void finish(uint64_t) override {
        if (m_in_quotes)
            throw local_error(m_input + ":" + std::to_string(m_row_line) + ": unterminated CSV quoted field",
                              "the row that starts at line " + std::to_string(m_row_line) + " (byte offset " +
                                  std::to_string(m_row_start) + ") opens a quote that the input never closes",
                              "the input is truncated, or a quote in it is not doubled");
    }

private:
    // A row that is "\\." alone (then "\r\n" or "\n") ends the data before
    // 18; a quoted "\\." is a value.
    void row_ended(const char* data, size_t nl) {
        const uint64_t length = m_offset + nl + 1 - m_row_start;
        m_row_start = m_offset + nl + 1;
        m_row_line = m_newlines + 1;
        const ptrdiff_t i = static_cast<ptrdiff_t>(nl);
        const bool cr = length == 4 && m_tail.at(data, i - 1) == '\r';
        if (m_marker_ends_data && (length == 3 || cr) && m_tail.at(data, i - 1 - cr) == '.' && m_tail.at(data, i - 2 - cr) == '\\')
            m_markers.push_back({nl + 1, m_newlines, static_cast<size_t>(length)});
    }
    char m_quote, m_escape;
    bool m_marker_ends_data; // marker_rules::csv_marker_ends_data
    bool m_in_quotes = false;
    bool m_escaping = false;
    uint64_t m_offset = 0;    // stream offset of the current chunk
    std::string m_input;      // for messages
    uint64_t m_row_start = 0; // stream offset where the current row starts
    uint64_t m_row_line = 1;  // and its line
    uint64_t m_newlines = 0;
    stream_tail m_tail;
};

constexpr char signature[] = "PGCOPY\n\377\r\n";

// A value PostgreSQL can hold is at most 1 GB; a row has at most 1,600 columns.
constexpr int32_t max_field_length = 0x3FFFFFFF;
constexpr int16_t max_field_count = 1600;

class binary_splitter final : public row_splitter {
public:
    explicit binary_splitter(const std::string& input) : m_input(input.empty() ? std::string() : "\"" + input + "\": ") {}

    void scan(const char* data, size_t size, std::vector<size_t>& ends) override {
        size_t k = 0;
        while (k < size) {
            if (m_trailer) {
                // Bytes after the trailer: the server ignores them only if
                // there are none; report it as the server would.
                fail("binary COPY data continues after its trailer at byte offset " + std::to_string(m_offset + k));
            }
            size_t need = m_need - m_have;
            size_t take = std::min(need, size - k);
            if (m_state == state::field_data || m_state == state::header_ext) {
                k += take; // payload or header extension: skip, nothing to decode
                m_have += take;
            } else {
                std::memcpy(m_small + m_have, data + k, take);
                m_have += take;
                k += take;
            }
            if (m_have < m_need)
                break;
            advance(ends, k);
        }
        m_offset += size;
    }

    void finish(uint64_t offset) override {
        if ((m_state == state::header && m_have == 0 && offset == 0) || m_trailer)
            return; // empty input: the server's error is clearer
        const std::string where = "binary COPY data ends at byte offset " + std::to_string(offset);
        if (m_state == state::header || m_state == state::header_ext)
            fail(where + " inside its header", "the stream is truncated");
        if (m_state == state::tuple)
            fail(where + " without its trailer", "the stream is truncated: its producer stopped early");
        const std::string field = "field " + std::to_string(m_field_count - m_fields_left + (m_state == state::field_length)) +
                                  " of " + std::to_string(m_field_count) + " of the row that starts at byte offset " +
                                  std::to_string(m_row_start);
        if (m_state == state::field_length)
            fail(where + " inside the length of " + field, "the stream is truncated, or the row's field count is wrong");
        fail(where + " inside " + field + ", whose length (at byte offset " + std::to_string(m_length_at) + ") says " +
                 std::to_string(m_need) + " bytes, " + std::to_string(m_need - m_have) + " more than are left",
             "the stream is truncated, or that length is wrong");
    }
    uint64_t header_end() const override { return m_header_end; }
    bool saw_trailer() const override { return m_trailer; }

private:
    enum class state { header, header_ext, tuple, field_length, field_data };

    [[noreturn]] void fail(const std::string& message, const std::string& detail = {},
                           const std::string& hint = {}) const {
        throw local_error(m_input + message, detail, hint);
    }

    static int32_t be32(const char* p) {
        return static_cast<int32_t>((static_cast<uint32_t>(static_cast<unsigned char>(p[0])) << 24) |
                                    (static_cast<uint32_t>(static_cast<unsigned char>(p[1])) << 16) |
                                    (static_cast<uint32_t>(static_cast<unsigned char>(p[2])) << 8) |
                                    static_cast<uint32_t>(static_cast<unsigned char>(p[3])));
    }

    // A unit (header, count, length or payload) is complete at k, the offset
    // in the current chunk.
    void advance(std::vector<size_t>& ends, size_t k) {
        switch (m_state) {
        case state::header: {
            if (std::memcmp(m_small, signature, 11) != 0)
                fail("not binary COPY data: the signature at byte offset 0 is missing", {},
                     "is the input text or CSV? then drop -F binary");
            int32_t ext = be32(m_small + 15);
            if (ext < 0)
                fail("invalid binary COPY header extension length at byte offset 15");
            m_state = state::header_ext;
            expect(static_cast<size_t>(ext), state::header_ext);
            if (ext == 0)
                header_done(ends, k);
            return;
        }
        case state::header_ext: header_done(ends, k); return;
        case state::tuple: start_row(ends, k); return;
        case state::field_length: field_length(ends, k); return;
        case state::field_data: next_field(ends, k); return;
        }
    }
    void start_row(std::vector<size_t>& ends, size_t k) {
        int16_t n = static_cast<int16_t>((static_cast<unsigned char>(m_small[0]) << 8) |
                                         static_cast<unsigned char>(m_small[1]));
        m_row_start = m_offset + k - 2;
        if (n == -1) {
            m_trailer = true;
            ends.push_back(k);
            return;
        }
        if (n < 0 || n > max_field_count)
            fail("invalid field count " + std::to_string(n) + " at byte offset " + std::to_string(m_row_start),
                 "a row has 0 to 1,600 fields; -1 marks the trailer");
        m_fields_left = n;
        m_field_count = n;
        next_field(ends, k);
    }
    void field_length(std::vector<size_t>& ends, size_t k) {
        int32_t len = be32(m_small);
        m_length_at = m_offset + k - 4;
        if (len < -1 || len > max_field_length)
            fail("invalid field length " + std::to_string(len) + " at byte offset " + std::to_string(m_length_at),
                 len < -1 ? "a length is -1 (NULL), 0 or more" : "a value is at most 1 GB");
        --m_fields_left;
        if (len > 0)
            expect(static_cast<size_t>(len), state::field_data);
        else
            next_field(ends, k);
    }
    void header_done(std::vector<size_t>& ends, size_t k) {
        m_header_end = m_offset + k;
        ends.push_back(k);
        expect(2, state::tuple);
    }
    void next_field(std::vector<size_t>& ends, size_t k) {
        if (m_fields_left == 0) {
            ends.push_back(k);
            expect(2, state::tuple);
        } else {
            expect(4, state::field_length);
        }
    }
    void expect(size_t n, state s) {
        m_need = n;
        m_have = 0;
        m_state = s;
    }

    std::string m_input; // "\"NAME\": " for messages, or empty
    state m_state = state::header;
    size_t m_need = 19; // signature, flags, extension length
    size_t m_have = 0;
    char m_small[19];
    int m_fields_left = 0;
    int m_field_count = 0;
    bool m_trailer = false;
    uint64_t m_offset = 0;    // stream offset of the current chunk
    uint64_t m_header_end = 0;
    uint64_t m_row_start = 0; // of the current row
    uint64_t m_length_at = 0; // of the current field's length
};

} // namespace

std::unique_ptr<row_splitter> make_row_splitter(const copy_format_options& o, const marker_rules& rules,
                                                const std::string& input) {
    switch (o.format) {
    case copy_format::text: return std::make_unique<text_splitter>(rules.text_marker_after_data_loads);
    case copy_format::csv: {
        char quote = o.quote ? (*o.quote)[0] : '"';
        char escape = o.escape ? (*o.escape)[0] : quote;
        return std::make_unique<csv_splitter>(quote, escape, rules.csv_marker_ends_data, input);
    }
    case copy_format::binary: return std::make_unique<binary_splitter>(input);
    }
    return nullptr;
}

error data_after_end_marker(const std::string& input, uint64_t line) {
    return local_error(input + ":" + std::to_string(line) + ": end-of-data marker \\. before the end of the input",
                       "the server stops reading at a \\. line: the rows after it would be lost",
                       "remove the line (several inputs may each end with one), or load with --reject-file "
                       "to reject it and go on");
}

error marker_newline_mismatch(const std::string& input, uint64_t line, bool crlf) {
    return local_error(input + ":" + std::to_string(line) + ": end-of-copy marker does not match previous newline style",
                       std::string("the input's first line ends with ") + (crlf ? "\\r\\n" : "\\n") +
                           ", this \\. line otherwise: the server refuses it",
                       "end every line of the input alike, or load with --reject-file to reject it and go on");
}

error marker_not_alone(const std::string& input, uint64_t line) {
    return local_error(input + ":" + std::to_string(line) + ": end-of-copy marker is not alone on its line",
                       "this server (PostgreSQL 18 on) refuses a \\. after data on its line",
                       "end the data with a line of \\. alone, or load with --reject-file to reject the line "
                       "and go on");
}

std::string binary_copy_header() { return std::string(signature, 11) + std::string(8, '\0'); }

std::string binary_copy_trailer() { return std::string("\xff\xff", 2); }

} // namespace pgpipe
