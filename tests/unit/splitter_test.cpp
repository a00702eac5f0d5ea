// The row splitters: row ends, end-of-data markers and binary framing errors,
// whatever the chunking; script headers, header lines and fingerprints.
#include "io/copy_format.hpp"
#include "core/error.hpp"
#include "pgcopy/fingerprint.hpp"
#include "io/row_splitter.hpp"
#include "pg/server_rules.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace pgpipe;

namespace {

// How 14-17 and 18 read end-of-data markers (server_rules).
const marker_rules pg15 = server_rules(150000).markers(), pg18 = server_rules(180004).markers();

struct split_result {
    std::vector<size_t> ends;
    std::vector<std::pair<size_t, uint64_t>> markers; // (stream end, line)
    std::vector<bool> refused;                         // of each marker: the server refuses its line
    std::vector<std::string> rows; // as the server reads them: a marker's data, then the marker
};

// Scans data in chunks of `chunk` bytes, as a reader would.
split_result split(copy_format format, const std::string& data, size_t chunk, const marker_rules& rules = pg15) {
    copy_format_options o;
    o.format = format;
    auto splitter = make_row_splitter(o, rules, "in");
    split_result out;
    std::vector<size_t> ends;
    for (size_t at = 0; at < data.size(); at += chunk) {
        const size_t n = std::min(chunk, data.size() - at);
        ends.clear();
        splitter->scan(data.data() + at, n, ends);
        const auto& found = splitter->end_markers();
        auto marker = found.begin();
        for (size_t e : ends) {
            const size_t start = out.ends.empty() ? 0 : out.ends.back();
            out.ends.push_back(at + e);
            if (marker == found.end() || marker->end != e) {
                out.rows.push_back(data.substr(start, at + e - start));
                continue;
            }
            const size_t marker_start = at + e - marker->size;
            out.refused.push_back(marker->refused);
            if (marker->refused)
                out.rows.push_back(data.substr(start, at + e - start)); // the whole line, refused
            else if (marker_start > start)
                out.rows.push_back(data.substr(start, marker_start - start));
            if (!marker->refused)
                out.rows.push_back(data.substr(marker_start, marker->size));
            out.markers.emplace_back(at + marker->end, marker->line);
            ++marker;
        }
    }
    splitter->finish(data.size());
    return out;
}

// The markers found, checked to be the same for every chunk size.
std::vector<std::pair<size_t, uint64_t>> markers_of(copy_format format, const std::string& data,
                                                     const marker_rules& rules = pg15) {
    const split_result whole = split(format, data, data.size(), rules);
    for (size_t chunk = 1; chunk <= 5; ++chunk) {
        INFO("chunk " << chunk);
        const split_result pieces = split(format, data, chunk, rules);
        CHECK(pieces.ends == whole.ends);
        CHECK(pieces.markers == whole.markers);
        CHECK(pieces.refused == whole.refused);
        CHECK(pieces.rows == whole.rows);
    }
    return whole.markers;
}

// The rows, checked to be the same for every chunk size.
std::vector<std::string> rows_of(copy_format format, const std::string& data, const marker_rules& rules = pg15) {
    markers_of(format, data, rules);
    return split(format, data, data.size(), rules).rows;
}

using markers = std::vector<std::pair<size_t, uint64_t>>;
using rows = std::vector<std::string>;

} // namespace

TEST_CASE("text: an unescaped \\. before a line end is a marker, wherever it stands") {
    CHECK(markers_of(copy_format::text, "1\ta\n\\.\n2\tb\n") == markers{{7, 2}});
    CHECK(markers_of(copy_format::text, "1\ta\\.\n2\n") == markers{{6, 1}});
    CHECK(markers_of(copy_format::text, "1\n\\.\r\n") == markers{{6, 2}});
    CHECK(markers_of(copy_format::text, "\\.\n") == markers{{3, 1}});
}

TEST_CASE("text: the data before a \\. that ends its line is a row, as the server reads it") {
    CHECK(rows_of(copy_format::text, "x\ty\na\tb\\.\n") == rows{"x\ty\n", "a\tb", "\\.\n"});
    CHECK(rows_of(copy_format::text, "a\tb\\.\n") == rows{"a\tb", "\\.\n"});
    CHECK(rows_of(copy_format::text, "x\ty\r\na\tb\\.\r\n") == rows{"x\ty\r\n", "a\tb", "\\.\r\n"});
    CHECK(rows_of(copy_format::text, "\\.\n") == rows{"\\.\n"});
    CHECK(rows_of(copy_format::text, "a\\\\\\.\n") == rows{"a\\\\", "\\.\n"}); // \\ then \.
    CHECK(rows_of(copy_format::text, "a\\\nb\\.\nc\n") == rows{"a\\\nb", "\\.\n", "c\n"});
    // Not markers: an escaped backslash and a dot, \. in mid-line.
    CHECK(rows_of(copy_format::text, "a\\\\.\n") == rows{"a\\\\.\n"});
    CHECK(rows_of(copy_format::text, "a\\.b\n") == rows{"a\\.b\n"});
    // CSV: only a line of its own.
    CHECK(rows_of(copy_format::csv, "1,a\n\\.\r\n") == rows{"1,a\n", "\\.\r\n"});
}

TEST_CASE("text: an escaped backslash before a dot is data") {
    CHECK(markers_of(copy_format::text, "a\\\\.\nb\n").empty());
    CHECK(markers_of(copy_format::text, "a\\\\\\.\n").size() == 1); // \\ then \.
    CHECK(markers_of(copy_format::text, ".\n\\x.\n").empty());
    // A newline escaped by a backslash is inside a row; lines still count it.
    CHECK(markers_of(copy_format::text, "a\\\n\\.\n") == markers{{6, 2}});
    std::string long_run(1001, '\\'); // odd: the last one escapes the dot
    CHECK(markers_of(copy_format::text, "x" + long_run + ".\n").size() == 1);
    CHECK(markers_of(copy_format::text, "x" + long_run + "\\.\n").empty());
}

TEST_CASE("csv: only a line that is exactly \\. outside quotes is a marker") {
    CHECK(markers_of(copy_format::csv, "1,a\n\\.\n2,b\n") == markers{{7, 2}});
    CHECK(markers_of(copy_format::csv, "1,a\n\\.\r\n").size() == 1);
    CHECK(markers_of(copy_format::csv, "1,\"\\.\"\n").empty());
    CHECK(markers_of(copy_format::csv, "1,\"a\n\\.\nb\"\n").empty());
    CHECK(markers_of(copy_format::csv, "1,x\\.\n").empty());
    CHECK(markers_of(copy_format::csv, "1,a\n\\.x\n").empty());
}

TEST_CASE("18: a csv line of \\. is data; a text \\. after data is refused with its whole line") {
    CHECK(markers_of(copy_format::csv, "1,a\n\\.\n2,b\n", pg18).empty());
    CHECK(rows_of(copy_format::csv, "a\n\\.\r\nb\n", pg18) == rows{"a\n", "\\.\r\n", "b\n"});
    // Text: a \. alone still ends the data; after data, the server refuses the line.
    CHECK(markers_of(copy_format::text, "1\ta\n\\.\n2\tb\n", pg18) == markers{{7, 2}});
    CHECK(split(copy_format::text, "1\ta\n\\.\n", 2, pg18).refused == std::vector<bool>{false});
    CHECK(rows_of(copy_format::text, "x\ty\na\tb\\.\nc\n", pg18) == rows{"x\ty\n", "a\tb\\.\n", "c\n"});
    CHECK(split(copy_format::text, "x\ty\na\tb\\.\r\n", 3, pg18).refused == std::vector<bool>{true});
    CHECK(split(copy_format::text, "a\\\nb\\.\n", 1, pg18).refused == std::vector<bool>{true});
    CHECK(split(copy_format::text, "a\tb\\.\n", 1, pg15).refused == std::vector<bool>{false});
}

TEST_CASE("csv: an input that ends inside quotes names the row's line") {
    try {
        split(copy_format::csv, "1,a\n2,\"b\n", 3);
        FAIL("accepted");
    } catch (const error& e) {
        CHECK(std::string(e.what()) == "in:2: unterminated CSV quoted field");
    }
}

TEST_CASE("binary: impossible lengths and counts are named with their byte offset") {
    const std::string header = binary_copy_header();
    auto message = [&](const std::string& body) {
        try {
            split(copy_format::binary, header + body, 7);
        } catch (const error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(message(std::string("\0\2\x7f\xff\xff\xff", 6)) == "\"in\": invalid field length 2147483647 at byte offset 21");
    CHECK(message(std::string("\0\2\xff\xff\xff\xfe", 6)) == "\"in\": invalid field length -2 at byte offset 21");
    CHECK(message(std::string("\x7f\xff", 2)) == "\"in\": invalid field count 32767 at byte offset 19");
    CHECK(message(std::string("\0\1\0\0\0\5ab", 8)) ==
          "\"in\": binary COPY data ends at byte offset 27 inside field 1 of 1 of the row that starts at byte offset "
          "19, whose length (at byte offset 21) says 5 bytes, 3 more than are left");
    CHECK(message(std::string("\0\1\0\0\0\0", 6)) == "\"in\": binary COPY data ends at byte offset 25 without its trailer");
}

TEST_CASE("script headers are parsed, never taken as SQL") {
    auto h = parse_script_header("COPY public.\"T\" (a, \"B c\") FROM stdin;\n");
    REQUIRE(h);
    CHECK(h->table == std::vector<std::string>{"public", "T"});
    CHECK(h->columns == std::vector<std::string>{"a", "B c"});
    CHECK(parse_script_header("copy t from STDIN;"));
    CHECK_FALSE(parse_script_header("COPY t FROM stdin; DROP TABLE t;"));
    CHECK_FALSE(parse_script_header("COPY t TO stdout;"));
    CHECK_FALSE(parse_script_header("COPY 1\t2"));
    CHECK_FALSE(parse_script_header("COPY t (a FROM stdin;"));
}

TEST_CASE("header lines split like their format") {
    copy_format_options csv;
    csv.format = copy_format::csv;
    CHECK(header_names("a,\"b,c\",\"d\"\"e\"\r\n", csv) == std::vector<std::string>{"a", "b,c", "d\"e"});
    copy_format_options text;
    CHECK(header_names("a\tb\n", text) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("header names are unescaped as the server's HEADER MATCH reads them") {
    using names = std::vector<std::string>;
    copy_format_options text;
    // As COPY ... TO STDOUT (HEADER) writes a tab, a backslash, a newline.
    CHECK(header_names("id\ttab\\there\tback\\\\slash\tnl\\n\r\n", text) ==
          names{"id", "tab\there", "back\\slash", "nl\n"});
    CHECK(header_names("a\\\tb\t\\x41\\101\n", text) == names{"a\tb", "AA"}); // an escaped delimiter is data
    CHECK(header_names("a\t\\N\n", text) == names{"a", "\\N"}); // NULL names no column
    copy_format_options csv;
    csv.format = copy_format::csv;
    csv.escape = "\\";
    CHECK(header_names("\"a\\\"b\",\"c\\\\d\",e\\f\n", csv) == names{"a\"b", "c\\d", "e\\f"});
}

TEST_CASE("a fingerprint does not depend on how the bytes were cut") {
    const std::string data = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox.";
    const std::string whole = fingerprint_of(data.data(), data.size());
    for (size_t cut = 1; cut < 20; ++cut) {
        fingerprint f;
        for (size_t at = 0; at < data.size(); at += cut)
            f.update(data.data() + at, std::min(cut, data.size() - at));
        CHECK(f.hex() == whole);
    }
    CHECK(fingerprint_of(data.data(), data.size() - 1) != whole);
    CHECK(fingerprint_of("a\0", 2) != fingerprint_of("a", 1));
}
