// transcode: COPY text rows as COPY binary tuples (against the bytes PostgreSQL wrote), the rows it refuses, and ids
// put in front of text, CSV and binary rows.
#include "pgcopy/transcode.hpp"

#include "hex.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace pgpipe;

namespace {

using pgpipe::test::hex;

// Column types by name; "mood" is an enum.
std::vector<std::optional<column_type>> types(std::initializer_list<const char*> names) {
    std::vector<std::optional<column_type>> out;
    for (const char* name : names) {
        if (std::string_view(name) == "mood") {
            column_type mood;
            mood.base = pg_type::enumeration;
            mood.name = "mood";
            out.emplace_back(mood);
        } else {
            out.emplace_back(parse_type_name(name));
        }
    }
    return out;
}

// Where the rows of whole COPY text rows start (and the end): a line feed
// ends a row unless an odd run of backslashes escapes it.
std::vector<size_t> row_starts(std::string_view text) {
    std::vector<size_t> starts{0};
    size_t backslashes = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && backslashes % 2 == 0)
            starts.push_back(i + 1);
        backslashes = text[i] == '\\' ? backslashes + 1 : 0;
    }
    return starts;
}

// The tuples of text in hex, or "refused" (checking that out was kept).
std::string encoded(text_to_binary& encoder, std::string_view text, int64_t first_id = 0) {
    const auto starts = row_starts(text);
    std::string out = "kept";
    if (!encoder.encode(text, starts.data(), starts.size() - 1, out, first_id))
        return out == "kept" ? "refused" : "refused, but out changed";
    REQUIRE(out.substr(0, 4) == "kept");
    return hex(out.substr(4));
}

std::string encoded(std::initializer_list<const char*> names, std::string_view text) {
    text_to_binary encoder(types(names));
    REQUIRE(encoder.usable());
    return encoded(encoder, text);
}

} // namespace

// The expected tuples below are PostgreSQL 15's: the rows loaded with
//   CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'très bien');
//   CREATE TABLE x (c0 <type>, c1 <type>, ...);  COPY x FROM STDIN;  <the rows>
// and dumped with COPY x TO STDOUT (FORMAT binary), header and trailer cut
// off. Where ours differ (char(n) padding), the test says why.

TEST_CASE("text_to_binary encodes integers and booleans as the server reads them", "[transcode]") {
    CHECK(encoded({"int2", "int4", "int8", "boolean"}, "-32768\t2147483647\t-9223372036854775808\tt\n"
                                                       "007\t-0\t9223372036854775807\tf\n"
                                                       "\\N\t\\N\t\\N\t\\N\n") ==
          "0004000000028000000000047fffffff0000000880000000000000000000000101"
          "00040000000200070000000400000000000000087fffffffffffffff0000000100"
          "0004ffffffffffffffffffffffffffffffff");
}

TEST_CASE("text_to_binary encodes numerics digit for digit, display scale from the text", "[transcode]") {
    CHECK(encoded({"numeric"}, "-12345.6789\n0.000\n-0\n00012.34000\n100000000\n0.00001\n"
                               "99999999999999999999.5\n-0.5\n1\n") ==
          "00010000000e0003000140000004000109291a85" // -12345.6789: 1, 2345, 6789; weight 1, negative, dscale 4
          "0001000000080000000000000003"             // 0.000: no digits, dscale 3
          "0001000000080000000000000000"             // -0 is 0
          "00010000000c0002000000000005000c0d48"     // 12.34000: 12, 3400; dscale 5
          "00010000000a00010002000000000001"         // 100000000: 1 at weight 2
          "00010000000a0001fffe0000000503e8"         // 0.00001: 1000 at weight -2
          "0001000000140006000400000001270f270f270f270f270f1388"
          "00010000000a0001ffff400000011388"         // -0.5
          "00010000000a00010000000000000001");
}

TEST_CASE("text_to_binary numerics match pg_types' numeric encoder", "[transcode]") {
    std::mt19937 rng(42);
    text_to_binary encoder(types({"numeric"}));
    for (int k = 0; k < 2000; ++k) {
        auto digits = [&](int n) {
            std::string s;
            for (int i = 0; i < n; ++i)
                s += static_cast<char>('0' + rng() % 10);
            return s;
        };
        const bool negative = rng() % 2;
        const std::string int_part = digits(1 + static_cast<int>(rng() % 30));
        const std::string frac = rng() % 3 ? digits(1 + static_cast<int>(rng() % 30)) : "";
        const std::string row = (negative ? "-" : "") + int_part + (frac.empty() ? "" : "." + frac) + "\n";
        std::string_view stripped = int_part;
        while (!stripped.empty() && stripped[0] == '0')
            stripped.remove_prefix(1);
        std::string expected;
        append_numeric_binary_digits(expected, negative, stripped, frac, static_cast<int32_t>(frac.size()));
        const size_t starts[] = {0, row.size()};
        std::string out;
        REQUIRE(encoder.encode(row, starts, 1, out));
        CHECK(hex(out.substr(6)) == hex(expected)); // past the field count and the length
    }
}

TEST_CASE("text_to_binary encodes floats as strtof and strtod read them", "[transcode]") {
    CHECK(encoded({"float4", "float8"}, "1.5\t-0.1\n-0\tInfinity\nNaN\t-Infinity\n3.4028235e+38\t1e+100\n"
                                        "1.1754944e-38\t2.2250738585072014e-308\n0.1\t0.30000000000000004\n"
                                        "16777217\t9007199254740993\n") ==
          "0002000000043fc0000000000008bfb999999999999a"
          "00020000000480000000000000087ff0000000000000"
          "0002000000047fc0000000000008fff0000000000000"
          "0002000000047f7fffff0000000854b249ad2594c37d"
          "00020000000400800000000000080010000000000000" // the smallest normal ones
          "0002000000043dcccccd000000083fd3333333333334"
          "0002000000044b800000000000084340000000000000"); // halfway cases round to even
}

TEST_CASE("text_to_binary encodes dates and timestamps, offsets applied", "[transcode]") {
    CHECK(encoded({"date", "timestamp", "timestamptz"},
                  "2024-02-29\t2024-01-02 03:04:05.123456\t2024-01-02 03:04:05.5+05:30\n"
                  "0001-01-01\t9999-12-31 23:59:59.999999\t2000-01-01 00:00:00-00:44:30\n"
                  "infinity\t-infinity\tinfinity\n"
                  "1999-12-31\t2000-01-01 00:00:00\t1999-12-31 19:00:00-05\n"
                  "0099-03-04\t0001-01-01 00:00:00.5\t0001-01-01 00:00:00+15:59:59\n") ==
          "00030000000400002279000000080002b0ec8517d580000000080002b0e7e8f18e60"
          "000300000004fff4dbf9000000080380e70b913b7fff00000008000000009f24f780"
          "0003000000047fffffff000000088000000000000000000000087fffffffffffffff"
          "000300000004ffffffff000000080000000000000000000000080000000000000000"
          "000300000004fff5680900000008ff1fe2ffc5a4012000000008ff1fe2f25c716240");
}

TEST_CASE("text_to_binary encodes UUIDs, bytea and enum labels", "[transcode]") {
    CHECK(encoded({"uuid", "bytea", "mood"}, "01234567-89AB-cdef-0123-456789abcdef\t\\\\x00ff\tok\n"
                                             "ffffffff-0000-0000-0000-000000000001\t\\\\x\ttr\xc3\xa8s bien\n"
                                             "\\N\t\\\\xDEADbeef\t\\N\n") ==
          "0003000000100123456789abcdef0123456789abcdef0000000200ff000000026f6b"
          "000300000010ffffffff000000000000000000000001000000000000000a7472c3a873206269656e"
          "0003ffffffff00000004deadbeefffffffff");
}

TEST_CASE("text_to_binary undoes COPY escapes in text, varchar, char(n), json and jsonb", "[transcode]") {
    // char(3) goes unpadded: bpcharrecv pads it, as bpcharin does (the
    // server's own dump shows "a  " and "   ").
    CHECK(encoded({"text", "varchar(5)", "char(3)", "json", "jsonb"},
                  "tab\\there\\nnew \\\\ back \xc3\xa9"
                  "\tab\ta\t{\"a\": 1}\t{\"a\": 1}\n"
                  "\\b\\f\\r\\v\\101\\x41\\x4g\\xg\\q\\N\\\\N\\\xc3\xa9"
                  "\t\\\tx\\\n\t\\N\t[1, \"x\"]\t[1, \"x\"]\n"
                  "\t\t\t\"\"\t\"\"\n"
                  "\\\\N\t\\N\tabc\t\\N\tnull\n") ==
          "00050000001674616209686572650a6e6577205c206261636b20c3a900000002616200000001"
          "61000000087b2261223a20317d00000009017b2261223a20317d"
          // \b \f \r \v, \101 and \x41 are A, \x4g is 04 g, \xg is x g, \q is q, \N inside is N,
          // \\N is text; then an escaped tab and an escaped line feed inside the varchar
          "000500000010080c0d0b414104677867714e5c4ec3a90000000309780affffffff000000085b312c202278225d"
          "00000009015b312c202278225d"
          "000500000000000000000000000000000002222200000003012222"
          "0005000000025c4effffffff00000003616263ffffffff00000005016e756c6c");
}

TEST_CASE("text_to_binary refuses values whose text form it does not take, and keeps out as it was", "[transcode]") {
    struct refusals {
        const char* type;
        const char* valid;
        std::vector<const char*> refused;
    };
    const refusals cases[] = {
        {"int2", "1", {"32768", "-32769", "+1", " 1", "1 ", "", "-", "1.0", "1e3", "0x10", "1_000", "\\\\N", "1\\t"}},
        {"int4", "1", {"2147483648", "-2147483649", "+0", "12a"}},
        {"int8", "1", {"9223372036854775808", "-9223372036854775809", "99999999999999999999"}},
        {"boolean", "t", {"true", "false", "T", "1", "yes", "", " t"}},
        {"numeric", "1.5", {".5", "5.", "+1", "1e5", "NaN", "Infinity", " 1", "1 ", "", "-", "1.2.3", "1,5"}},
        {"float4", "1.5", {"inf", "nan", "infinity", "+1", ".5", "1.", "1e", "1e+", "1e39", "1e-50", "1e-40", " 1"}},
        {"float8", "1.5", {"1e400", "1e-400", "4.9e-324", "-Inf", "+Infinity", "0x1p3", "1.5 ", "1_0",
                           "1.00000000000000000000000000000000000000001"}},
        {"date", "2024-01-02", {"0000-01-01", "2023-02-29", "2024-13-01", "2024-04-31", "2024-1-2", "10000-01-01",
                                "2024-01-02 BC", "epoch", "Infinity", "2024-01-02 ", "02/01/2024", "20240102"}},
        {"timestamp", "2024-01-02 03:04:05", {"2024-01-02 24:00:00", "2024-01-02 23:59:60",
                                              "2024-01-02 03:04:05.1234567", "2024-01-02T03:04:05",
                                              "2024-01-02 03:04", "2024-01-02 03:04:05+00", "2024-01-02",
                                              "2024-01-02 03:04:05.", "2024-01-02  03:04:05", "epoch"}},
        {"timestamptz", "2024-01-02 03:04:05+00", {"2024-01-02 03:04:05", "2024-01-02 03:04:05+16",
                                                   "2024-01-02 03:04:05+0530", "2024-01-02 03:04:05Z",
                                                   "2024-01-02 03:04:05 UTC", "2024-01-02 03:04:05+05:3",
                                                   "2024-01-02 03:04:05+05:60", "2024-01-02 03:04:05+5"}},
        {"uuid", "01234567-89ab-cdef-0123-456789abcdef", {"{01234567-89ab-cdef-0123-456789abcdef}",
                                                          "0123456789abcdef0123456789abcdef",
                                                          "01234567-89ab-cdef-0123-456789abcdeg",
                                                          "01234567-89ab-cdef-0123-456789abcdef "}},
        {"bytea", "\\\\x00", {"\\\\X00", "\\\\x0", "\\\\x0g", "\\\\x 00", "abc", "\\\\000", "\\x00"}},
        // \. ends the data; escapes making a NUL or a byte of 0x80 and up;
        // bytes that are not UTF-8 (a lone lead byte, an overlong form, a surrogate).
        {"text", "a", {"a\\.", "\\x80", "\\xe9", "\\0", "\\000", "\\777", "\\400", "\xff", "\xc3", "\xc0\xaf",
                       "\xed\xa0\x80"}},
        {"jsonb", "{}", {"\\.", "\xfe"}},
    };
    for (const auto& c : cases) {
        for (const char* bad : c.refused) {
            INFO(c.type << " [" << bad << "]");
            // A good row first, so that there is something to take back.
            const std::string text = std::string(c.valid) + "\t" + c.valid + "\n" + c.valid + "\t" + bad + "\n";
            text_to_binary encoder(types({c.type, c.type}));
            CHECK(encoded(encoder, text) == "refused");
            CHECK(encoded(encoder, std::string(c.valid) + "\t" + c.valid + "\n") != "refused");
        }
    }
}

TEST_CASE("text_to_binary refuses rows the server would read differently", "[transcode]") {
    text_to_binary two(types({"text", "int4"}));
    CHECK(encoded(two, "a\t1\n") == "0002000000016100000004" "00000001");
    CHECK(encoded(two, "a\n") == "refused");         // missing data
    CHECK(encoded(two, "a\t1\t2\n") == "refused");   // extra data
    CHECK(encoded(two, "a\\\t1\n") == "refused");    // the tab is data: one field
    CHECK(encoded(two, "a\t1\r\n") == "refused");    // a carriage return ends a line, or is an error
    CHECK(encoded(two, "a\rb\t1\n") == "refused");
    CHECK(encoded(two, std::string("a\0b\t1\n", 6)) == "refused");
    CHECK(encoded(two, "\\.\n") == "refused");       // the end-of-data marker
    CHECK(encoded(two, "\n") == "refused");

    // Rows as the caller cuts them: one without its line feed, one with a
    // line feed inside that no backslash escapes, one ending in "\<LF>".
    const std::string text = "a\t1\nb\t2";
    const size_t unfinished[] = {0, 4, text.size()};
    std::string out = "kept";
    CHECK_FALSE(two.encode(text, unfinished, 2, out));
    const std::string two_lines = "a\nb\t1\n";
    const size_t as_one[] = {0, two_lines.size()};
    CHECK_FALSE(two.encode(two_lines, as_one, 1, out));
    text_to_binary one(types({"text"}));
    const std::string escaped_end = "a\\\n";
    const size_t whole[] = {0, escaped_end.size()};
    CHECK_FALSE(one.encode(escaped_end, whole, 1, out));
    CHECK(out == "kept");
}

TEST_CASE("text_to_binary reads a table of no columns from empty lines", "[transcode]") {
    text_to_binary none(types({}));
    CHECK(none.usable());
    CHECK(encoded(none, "\n\n") == "00000000");
    CHECK(encoded(none, "x\n") == "refused");
    text_to_binary ids({}, parse_type_name("bigint"));
    CHECK(encoded(ids, "\n", 9) == "0001000000080000000000000009");
}

TEST_CASE("text_to_binary puts the caller's ids in front, in the id column's type", "[transcode]") {
    text_to_binary int8_ids(types({"text"}), parse_type_name("bigint"));
    CHECK(encoded(int8_ids, "a\n\\N\n", 41) ==
          "0002000000080000000000000029000000016100020000000800000000000000" "2affffffff");
    text_to_binary int4_ids(types({"text"}), parse_type_name("integer"));
    CHECK(encoded(int4_ids, "a\n", -2) == "00020000000" "4fffffffe0000000161");
    text_to_binary int2_ids(types({"text"}), parse_type_name("smallint"));
    CHECK(encoded(int2_ids, "a\nb\n", 32766) == "000200000002" "7ffe0000000161" "000200000002" "7fff0000000162");
    CHECK(encoded(int2_ids, "a\nb\n", 32767) == "refused"); // the second id does not fit
    CHECK(encoded(int8_ids, "a\nb\n", INT64_MAX) == "refused");
}

TEST_CASE("text_to_binary is usable only when it encodes every column and the id", "[transcode]") {
    CHECK(text_to_binary(types({"int4", "text", "numeric(10,2)", "timestamptz", "bytea", "mood"})).usable());
    CHECK_FALSE(text_to_binary(types({"int4", "text[]"})).usable());
    CHECK_FALSE(text_to_binary(types({"time"})).usable());
    CHECK_FALSE(text_to_binary(types({"interval"})).usable());
    CHECK_FALSE(text_to_binary({std::nullopt}).usable());
    CHECK_FALSE(text_to_binary(types({"int4"}), parse_type_name("text")).usable());
    text_to_binary unusable(types({"time"}));
    const std::string row = "01:02:03\n";
    const size_t starts[] = {0, row.size()};
    std::string out;
    CHECK_FALSE(unusable.encode(row, starts, 1, out));
    CHECK(out.empty());
}

TEST_CASE("prepend_ids puts ids in front of text and CSV rows", "[transcode]") {
    const column_type id = parse_type_name("bigint");
    const std::string text = "a\tb\nc\\\nd\te\n";
    const size_t text_rows[] = {0, 4, text.size()};
    std::string out = ">";
    prepend_ids(text, text_rows, 2, copy_format::text, '\t', id, -1, out);
    CHECK(out == ">-1\ta\tb\n0\tc\\\nd\te\n");

    const std::string csv = "\"x\ny\",1\nz,2\n";
    const size_t csv_rows[] = {0, 8, csv.size()};
    out.clear();
    prepend_ids(csv, csv_rows, 2, copy_format::csv, ';', id, 7, out);
    CHECK(out == "7;\"x\ny\",1\n8;z,2\n");
}

TEST_CASE("prepend_ids adds an id field to binary tuples", "[transcode]") {
    const std::string tuples = std::string("\x00\x01\x00\x00\x00\x01" "a", 7) + std::string("\x00\x00", 2);
    const size_t rows[] = {0, 7, 9};
    std::string out;
    prepend_ids(tuples, rows, 2, copy_format::binary, 0, parse_type_name("integer"), 5, out);
    CHECK(hex(out) == "00020000000400000005000000016100010000000400000006");
    out.clear();
    prepend_ids(tuples, rows, 1, copy_format::binary, 0, parse_type_name("bigint"), 5, out);
    CHECK(hex(out) == "0002000000080000000000000005000000016" "1");
    out.clear();
    prepend_ids(tuples, rows, 1, copy_format::binary, 0, parse_type_name("smallint"), -5, out);
    CHECK(hex(out) == "000200000002fffb0000000161");

    CHECK_THROWS(prepend_ids(tuples, rows, 1, copy_format::binary, 0, parse_type_name("smallint"), 32768, out));
    const std::string trailer("\xff\xff", 2);
    const size_t one[] = {0, 2};
    CHECK_THROWS(prepend_ids(trailer, one, 1, copy_format::binary, 0, parse_type_name("bigint"), 1, out));
}
