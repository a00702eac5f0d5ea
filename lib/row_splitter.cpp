#include "pgpipe/row_splitter.hpp"

#include "pgpipe/error.hpp"

#include <cstring>

namespace pgpipe {
namespace {

class text_splitter final : public row_splitter {
public:
    void scan(const char* data, size_t size, std::vector<size_t>& ends) override {
        const char* p = data;
        const char* end = data + size;
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
            if (!nl) {
                track_backslashes(p, end);
                return;
            }
            // The newline is data when an odd run of backslashes escapes it;
            // the run may have begun in an earlier chunk.
            track_backslashes(p, nl);
            if (m_backslashes % 2 == 0)
                ends.push_back(static_cast<size_t>(nl - data) + 1);
            m_backslashes = 0;
            p = nl + 1;
        }
    }
    void finish(uint64_t) override {}

private:
    void track_backslashes(const char* from, const char* to) {
        // Only the run just before `to` matters.
        const char* q = to;
        while (q > from && q[-1] == '\\')
            --q;
        m_backslashes = q == from ? m_backslashes + static_cast<size_t>(to - from) : static_cast<size_t>(to - q);
    }
    size_t m_backslashes = 0;
};

class csv_splitter final : public row_splitter {
public:
    csv_splitter(char quote, char escape) : m_quote(quote), m_escape(escape) {}
    void scan(const char* data, size_t size, std::vector<size_t>& ends) override {
        for (size_t k = 0; k < size; ++k) {
            char c = data[k];
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
            }
        }
    }
    void finish(uint64_t) override {}

private:
    char m_quote, m_escape;
    bool m_in_quotes = false;
    bool m_escaping = false;
};

constexpr char signature[] = "PGCOPY\n\377\r\n";

class binary_splitter final : public row_splitter {
public:
    void scan(const char* data, size_t size, std::vector<size_t>& ends) override {
        size_t k = 0;
        while (k < size) {
            if (m_trailer) {
                // Bytes after the trailer: the server ignores them only if
                // there are none; report it as the server would.
                throw local_error("binary COPY data continues after its trailer at byte offset " +
                                  std::to_string(m_offset + k));
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
        if (m_state == state::header && m_have == 0 && offset == 0)
            return; // empty input: the server's error is clearer
        if (!m_trailer)
            throw local_error("binary COPY data ends at byte offset " + std::to_string(offset) +
                                  (m_state == state::header || m_state == state::header_ext
                                       ? " inside its header"
                                       : m_state == state::tuple ? " without its trailer" : " inside a row"),
                              "the stream is truncated");
    }
    uint64_t header_end() const override { return m_header_end; }
    bool saw_trailer() const override { return m_trailer; }

private:
    enum class state { header, header_ext, tuple, field_length, field_data };

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
                throw local_error("not binary COPY data: the signature at byte offset 0 is missing",
                                  {}, "is the input text or CSV? then drop -F binary");
            int32_t ext = be32(m_small + 15);
            if (ext < 0)
                throw local_error("invalid binary COPY header extension length at byte offset 15");
            m_state = state::header_ext;
            expect(static_cast<size_t>(ext), state::header_ext);
            if (ext == 0)
                header_done(ends, k);
            return;
        }
        case state::header_ext: header_done(ends, k); return;
        case state::tuple: {
            int16_t n = static_cast<int16_t>((static_cast<unsigned char>(m_small[0]) << 8) |
                                             static_cast<unsigned char>(m_small[1]));
            if (n == -1) {
                m_trailer = true;
                ends.push_back(k);
                return;
            }
            if (n < 0)
                throw local_error("invalid field count " + std::to_string(n) + " at byte offset " +
                                  std::to_string(m_offset + k - 2));
            m_fields_left = n;
            next_field(ends, k);
            return;
        }
        case state::field_length: {
            int32_t len = be32(m_small);
            if (len < -1)
                throw local_error("invalid field length " + std::to_string(len) + " at byte offset " +
                                  std::to_string(m_offset + k - 4));
            --m_fields_left;
            if (len > 0) {
                expect(static_cast<size_t>(len), state::field_data);
                return;
            }
            next_field(ends, k);
            return;
        }
        case state::field_data: next_field(ends, k); return;
        }
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

    state m_state = state::header;
    size_t m_need = 19; // signature, flags, extension length
    size_t m_have = 0;
    char m_small[19];
    int m_fields_left = 0;
    bool m_trailer = false;
    uint64_t m_offset = 0; // stream offset of the current chunk
    uint64_t m_header_end = 0;
};

} // namespace

std::unique_ptr<row_splitter> make_row_splitter(const copy_format_options& o) {
    switch (o.format) {
    case copy_format::text: return std::make_unique<text_splitter>();
    case copy_format::csv: {
        char quote = o.quote ? (*o.quote)[0] : '"';
        char escape = o.escape ? (*o.escape)[0] : quote;
        return std::make_unique<csv_splitter>(quote, escape);
    }
    case copy_format::binary: return std::make_unique<binary_splitter>();
    }
    return nullptr;
}

std::string binary_copy_header() { return std::string(signature, 11) + std::string(8, '\0'); }

std::string binary_copy_trailer() { return std::string("\xff\xff", 2); }

} // namespace pgpipe
