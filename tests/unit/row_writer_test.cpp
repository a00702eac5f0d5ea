// row_writer: the text, CSV and binary COPY bytes of a few rows, against what the server writes.
#include "io/output.hpp"
#include "pg/row_writer.hpp"

#include "hex.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <vector>

using namespace pgpipe;

namespace {

using pgpipe::test::hex;

// The makers below name only the fields their kind uses; GCC 12 would warn
// about value::s, left empty as intended.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

value integer(int64_t i) { return {.kind = value_kind::integer, .i = i}; }
value boolean(bool b) { return {.kind = value_kind::boolean, .i = b}; }
value day(int64_t days) { return {.kind = value_kind::date, .i = days}; }
value timestamp(int64_t us) { return {.kind = value_kind::timestamp, .i = us}; }
value decimal(int64_t mantissa, int32_t scale) { return {.kind = value_kind::decimal, .i = mantissa, .scale = scale}; }
value real(double d) { return {.kind = value_kind::real, .d = d}; }
value viewing(value_kind kind, std::string_view s) { return {.kind = kind, .s = s}; }
value string(std::string_view s) { return viewing(value_kind::string, s); }
value interval(int32_t months, int32_t days, int64_t us) {
    return {.kind = value_kind::interval, .i = us, .days = days, .months = months};
}
value uuid(std::array<uint8_t, 16> bytes) { return {.kind = value_kind::uuid, .uuid = bytes}; }
value array(const std::vector<value>& elements) {
    return {.kind = value_kind::array, .elements = elements.data(), .count = static_cast<uint32_t>(elements.size())};
}

// Four rows of sixteen columns: escapes and quotes, every NULL, empty
// strings and arrays, negative numbers and times, char(n) padding.
struct sample {
    std::vector<column_type> columns;
    std::vector<value> texts1{string("a\"b"), value{}, string("c,d")};
    std::vector<value> ints1{integer(1), value{}, integer(3)};
    std::vector<value> none;
    std::vector<std::vector<value>> rows;

    sample() {
        for (const char* name : {"int4", "text", "numeric(10,2)", "float8", "boolean", "date", "timestamptz",
                                 "bytea", "text[]", "int4[]", "uuid", "jsonb", "interval", "char(5)", "int8",
                                 "int2"})
            columns.push_back(parse_type_name(name));
        rows.push_back({integer(1), string("tab\there\nnew \\ back"), decimal(12345, 2), real(1.5), boolean(true),
                        day(0), timestamp((86400 + 3723) * 1000000LL),
                        viewing(value_kind::bytes, std::string_view("\x00\xff", 2)), array(texts1), array(ints1),
                        uuid({0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
                              0xef}),
                        viewing(value_kind::json, "{\"a\": 1}"), interval(1, 2, 3723500000), string("ab"),
                        integer(-9000000000), integer(-7)});
        rows.push_back(std::vector<value>(16));
        rows.push_back({integer(3), string("say \"hi\", ok"), viewing(value_kind::numeric_text, "-0.50"),
                        real(-0.25), boolean(false), day(-1), timestamp(0), viewing(value_kind::bytes, ""),
                        array(none), array(none),
                        uuid({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
                        viewing(value_kind::json, "[1, \"x\"]"), interval(0, 0, -1000000), string("abcde"),
                        integer(0), integer(32767)});
        std::vector<value> last(16);
        last[0] = integer(4);
        last[1] = string("");
        last[2] = decimal(0, 2);
        last[3] = real(0);
        rows.push_back(last);
    }

    std::string encode(copy_format format) const {
        std::string memory;
        row_writer writer(format, memory);
        writer.begin();
        for (const auto& row : rows) {
            writer.begin_row(static_cast<int16_t>(row.size()));
            for (size_t k = 0; k < row.size(); ++k)
                writer.field(row[k], columns[k]);
            writer.end_row();
        }
        writer.finish();
        return memory;
    }
};

// The expected bytes below were made by PostgreSQL 15 (a pgsandbox cluster):
//   CREATE TABLE rw (k int, id int4, s text, n numeric(10,2), f float8, b boolean, d date,
//                    ts timestamptz, by bytea, arr text[], ia int4[], u uuid, j jsonb,
//                    iv interval, c char(5), big int8, small int2);
//   INSERT INTO rw VALUES
//    (1, 1, E'tab\there\nnew \\ back', 123.45, 1.5, true, '2000-01-01', '2000-01-02 01:02:03+00',
//     '\x00ff', ARRAY['a"b', NULL, 'c,d'], ARRAY[1, NULL, 3], '01234567-89ab-cdef-0123-456789abcdef',
//     '{"a": 1}', '1 mon 2 days 01:02:03.5', 'ab', -9000000000, -7),
//    (2, NULL, NULL, ... NULL),
//    (3, 3, 'say "hi", ok', -0.50, -0.25, false, '1999-12-31', '2000-01-01 00:00:00+00', '',
//     '{}', '{}', 'ffffffff-0000-0000-0000-000000000001', '[1, "x"]', '-00:00:01', 'abcde', 0, 32767),
//    (4, 4, '', 0, 0, NULL, ... NULL);
//   PGOPTIONS='-c TimeZone=UTC' psql -c "COPY (SELECT id, s, n, f, b, d, ts, by, arr, ia, u, j, iv, c,
//       big, small FROM rw ORDER BY k) TO STDOUT [(FORMAT csv) | (FORMAT binary)]"

const char* const server_text =
    "1\ttab\\there\\nnew \\\\ back\t123.45\t1.5\tt\t2000-01-01\t2000-01-02 01:02:03+00\t\\\\x00ff\t"
    "{\"a\\\\\"b\",NULL,\"c,d\"}\t{1,NULL,3}\t01234567-89ab-cdef-0123-456789abcdef\t{\"a\": 1}\t"
    "1 mon 2 days 01:02:03.5\tab   \t-9000000000\t-7\n"
    "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
    "3\tsay \"hi\", ok\t-0.50\t-0.25\tf\t1999-12-31\t2000-01-01 00:00:00+00\t\\\\x\t{}\t{}\t"
    "ffffffff-0000-0000-0000-000000000001\t[1, \"x\"]\t-00:00:01\tabcde\t0\t32767\n"
    "4\t\t0.00\t0\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";

const char* const server_csv =
    "1,\"tab\there\nnew \\ back\",123.45,1.5,t,2000-01-01,2000-01-02 01:02:03+00,\\x00ff,"
    "\"{\"\"a\\\"\"b\"\",NULL,\"\"c,d\"\"}\",\"{1,NULL,3}\",01234567-89ab-cdef-0123-456789abcdef,"
    "\"{\"\"a\"\": 1}\",1 mon 2 days 01:02:03.5,ab   ,-9000000000,-7\n"
    ",,,,,,,,,,,,,,,\n"
    "3,\"say \"\"hi\"\", ok\",-0.50,-0.25,f,1999-12-31,2000-01-01 00:00:00+00,\\x,{},{},"
    "ffffffff-0000-0000-0000-000000000001,\"[1, \"\"x\"\"]\",-00:00:01,abcde,0,32767\n"
    "4,\"\",0.00,0,,,,,,,,,,,,\n";

// The binary stream in hex: header, one row a group (field count, then each
// field's length and bytes; ffffffff is NULL), trailer.
const char* const server_binary =
    "5047434f50590aff0d0a000000000000000000"
    // row 1
    "0010"
    "0000000400000001"
    "0000001374616209686572650a6e6577205c206261636b"
    "0000000c0002000000000002007b1194"
    "000000083ff8000000000000"
    "0000000101"
    "0000000400000000"
    "0000000800000014fbbfd8c0"
    "0000000200ff"
    "00000026000000010000000100000019000000030000000100000003612262ffffffff00000003632c64"
    "0000002800000001000000010000001700000003000000010000000400000001ffffffff0000000400000003"
    "000000100123456789abcdef0123456789abcdef"
    "00000009017b2261223a20317d"
    "0000001000000000ddf019e00000000200000001"
    "000000056162202020"
    "00000008fffffffde78ee600"
    "00000002fff9"
    // row 2: sixteen NULLs
    "0010"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    // row 3
    "0010"
    "0000000400000003"
    "0000000c73617920226869222c206f6b"
    "0000000a0001ffff400000021388"
    "00000008bfd0000000000000"
    "0000000100"
    "00000004ffffffff"
    "000000080000000000000000"
    "00000000"
    "0000000c000000000000000000000019"
    "0000000c000000000000000000000017"
    "00000010ffffffff000000000000000000000001"
    "00000009015b312c202278225d"
    "00000010fffffffffff0bdc00000000000000000"
    "000000056162636465"
    "000000080000000000000000"
    "000000027fff"
    // row 4
    "0010"
    "0000000400000004"
    "00000000"
    "000000080000000000000002"
    "000000080000000000000000"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    // trailer
    "ffff";

} // namespace

TEST_CASE("row_writer text rows are the server's COPY text") {
    sample s;
    CHECK(s.encode(copy_format::text) == server_text);
}

TEST_CASE("row_writer CSV rows are the server's COPY CSV") {
    sample s;
    CHECK(s.encode(copy_format::csv) == server_csv);
}

TEST_CASE("row_writer binary rows are the server's COPY binary") {
    sample s;
    CHECK(hex(s.encode(copy_format::binary)) == server_binary);
}

TEST_CASE("row_writer writes vouched-plain strings as they are, but not past another delimiter") {
    column_type text = parse_type_name("text");
    column_type padded = parse_type_name("char(4)");
    value plain = string("a|b");
    plain.plain = true;
    std::string memory;
    row_writer csv(copy_format::csv, memory);
    csv.begin_row(2);
    csv.field(plain, text);
    csv.field(string("x"), padded);
    csv.end_row();
    csv.finish();
    CHECK(memory == "a|b,x   \n");

    // With '|' as the delimiter the producer's promise no longer covers it.
    char path[] = "/tmp/row_writer_test.XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    {
        output_stream out(path, 0, false);
        row_writer piped(copy_format::csv, out, '|');
        piped.begin_row(3);
        piped.field(plain, text);
        piped.field(string("c,d"), text);
        piped.field(value{}, text);
        piped.end_row();
        piped.finish();
    }
    std::ifstream in(path);
    std::stringstream got;
    got << in.rdbuf();
    std::remove(path);
    CHECK(got.str() == "\"a|b\"|c,d|\n");
}

TEST_CASE("row_writer rewinds to a mark in memory mode") {
    column_type int4 = parse_type_name("int4");
    std::string memory;
    row_writer writer(copy_format::text, memory);
    writer.begin_row(1);
    writer.field(integer(1), int4);
    writer.end_row();
    auto mark = writer.mark();
    writer.begin_row(1);
    writer.field(integer(2), int4);
    writer.end_row();
    CHECK(writer.rows() == 2);
    writer.rewind(mark);
    CHECK(writer.rows() == 1);
    writer.flush();
    CHECK(memory == "1\n");
}
