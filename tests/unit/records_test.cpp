// pgrec's JSON converters: each common type's good value as COPY text and binary, and a bad value's message.
#include "pg/row_writer.hpp"
#include "pgrec/convert.hpp"

#include "hex.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

using namespace pgpipe;

namespace {

using pgpipe::test::hex;

// One field as COPY text and as the bytes of a binary field (in hex, "null"
// for NULL). The binary references are the bytes PostgreSQL 15 writes for
// COPY (SELECT 'literal'::type) TO STDOUT (FORMAT binary); the text ones are
// its text output too, but where a comment says pgpipe spells a value its
// own way, which the server reads as the same value.
struct encoded {
    std::string text;
    std::string binary;
};

std::string encode(const value& v, const column_type& type, copy_format format) {
    std::string memory;
    row_writer writer(format, memory);
    writer.begin_row(1);
    writer.field(v, type);
    writer.end_row();
    writer.flush();
    return memory;
}

// A column of one type, converting JSON values as a loader does: the same
// cell reused from value to value.
class json_column {
public:
    explicit json_column(std::string_view type) : m_column{"c", parse_type_name(type), {}} {}

    // The value's encodings; throws record_error when it does not fit.
    encoded operator()(std::string_view json) {
        convert(json);
        std::string text = encode(m_value, m_column.type, copy_format::text);
        text.pop_back(); // the row's newline
        std::string binary = encode(m_value, m_column.type, copy_format::binary);
        // A field count (2 bytes), a length (4 bytes, -1 for NULL), the bytes.
        bool null = binary.substr(2, 4) == "\xff\xff\xff\xff";
        return {text, null ? "null" : hex(std::string_view(binary).substr(6))};
    }

    // Why the value does not fit, or "(converted)".
    std::string error(std::string_view json) {
        try {
            convert(json);
        } catch (const record_error& e) {
            return e.message;
        }
        return "(converted)";
    }

private:
    void convert(std::string_view json) {
        m_json = simdjson::padded_string("{\"v\": " + std::string(json) + "}");
        simdjson::ondemand::document doc;
        simdjson::ondemand::value v;
        if (m_parser.iterate(m_json).get(doc) || doc["v"].get(v))
            FAIL("the test's JSON does not parse: " << json);
        convert_json_value(v, m_column, m_value, m_store);
    }

    record_column m_column;
    record_cell m_store;
    value m_value;
    simdjson::ondemand::parser m_parser;
    simdjson::padded_string m_json;
};

void check(json_column& column, std::string_view json, std::string_view text, std::string_view binary) {
    INFO("JSON " << json);
    encoded e = column(json);
    CHECK(e.text == text);
    CHECK(e.binary == binary);
}

} // namespace

TEST_CASE("JSON numbers and strings to integers, exactly, within the type's range") {
    json_column i2("int2"), i4("int4"), i8("bigint");
    check(i2, "42", "42", "002a");
    check(i4, "-7", "-7", "fffffff9");
    check(i4, "\"-7\"", "-7", "fffffff9");
    check(i4, "7.000", "7", "00000007");
    check(i8, "9223372036854775807", "9223372036854775807", "7fffffffffffffff");
    CHECK(i2.error("40000") == "40000 is out of range (-32768 to 32767)");
    CHECK(i4.error("1.5") == "\"1.5\" is not a valid integer");
    CHECK(i4.error("\"abc\"") == "\"abc\" is not a valid integer");
    CHECK(i8.error("9223372036854775808") == "9223372036854775808 is out of range (-9223372036854775808 to 9223372036854775807)");
}

TEST_CASE("JSON numbers to numeric keep every digit, rounded to the column's scale") {
    json_column any("numeric"), money("numeric(6,2)");
    check(any, "12.5", "12.5", "0002000000000001000c1388");
    check(any, "12345678901234567890.123456789", "12345678901234567890.123456789",
          "000800040000000904d2162e23340d801ed204d2162e2328");
    check(money, "3.14159", "3.14", "000200000000000200030578");
    check(money, "\"3.14159\"", "3.14", "000200000000000200030578");
    CHECK(money.error("12345.678") == "12345.678 needs more than 4 digits before the point");
    CHECK(any.error("\"abc\"") == "\"abc\" is not a valid number");
}

TEST_CASE("JSON numbers to real and double precision, rounded once") {
    json_column f4("float4"), f8("float8");
    check(f4, "1.5", "1.5", "3fc00000");
    check(f8, "0.1", "0.1", "3fb999999999999a");
    check(f8, "\"NaN\"", "nan", "7ff8000000000000"); // pgpipe's spelling; float8in takes any case
    CHECK(f4.error("1e39") == "\"1e39\" is not a valid number (out of range for real)");
    CHECK(f8.error("1e309") == "\"1e309\" is not a valid number (out of range for double precision)");
    CHECK(f8.error("\"1,5\"") == "\"1,5\" is not a valid number");
}

TEST_CASE("JSON booleans and their spellings to boolean") {
    json_column b("bool");
    check(b, "true", "t", "01");
    check(b, "false", "f", "00");
    check(b, "\"t\"", "t", "01");
    CHECK(b.error("\"yes\"") == "\"yes\" is not a boolean");
    CHECK(b.error("1") == "\"1\" is not a boolean");
    CHECK(b.error("txyz") == "invalid JSON value \"txyz\"");
}

TEST_CASE("JSON strings to text, varchar(n) and enums, checked as the server would") {
    json_column t("text"), v("varchar(5)");
    check(t, "\"h\\u00e9llo\"", "h\xc3\xa9llo", "68c3a96c6c6f");
    check(t, "\"a\\tb\"", "a\\tb", "610962");
    check(t, "12.50", "12.50", "31322e3530"); // a number as it is written
    check(v, "\"abc\"", "abc", "616263");
    CHECK(t.error("\"a\\u0000b\"") == "text cannot contain a NUL character (\\u0000)");
    CHECK(v.error("\"too long\"") == "value too long (8 characters, at most 5)");
    json_column c("char(3)");
    check(c, "\"ab   \"", "ab ", "616220"); // char(n) drops extra trailing spaces
    CHECK(c.error("\"abcd\"") == "value too long (4 characters, at most 3)");
}

TEST_CASE("JSON strings to an enum are checked against its labels") {
    column_type type = parse_type_name("text");
    type.base = pg_type::enumeration;
    record_column column{"c", type, {"red", "green"}, false};
    simdjson::ondemand::parser parser;
    auto json = simdjson::padded_string(std::string("{\"a\": \"red\", \"b\": \"purple\"}"));
    simdjson::ondemand::document doc = parser.iterate(json);
    record_cell store;
    value out;
    convert_json_value(doc["a"], column, out, store);
    CHECK((out.kind == value_kind::string && out.s == "red"));
    try {
        convert_json_value(doc["b"], column, out, store);
        FAIL("purple converted");
    } catch (const record_error& e) {
        CHECK(e.message == "\"purple\" is not a label of the enum");
    }
}

TEST_CASE("JSON strings to date, time, timestamp and timestamptz") {
    json_column d("date"), tm("time"), ts("timestamp"), tz("timestamptz");
    check(d, "\"2024-02-29\"", "2024-02-29", "00002279");
    check(tm, "\"12:34:56.5\"", "12:34:56.5", "0000000a8be1bd20");
    check(ts, "\"2024-02-29T12:00:00.25\"", "2024-02-29 12:00:00.25", "0002b582c47be090");
    check(ts, "\"2024-02-29 12:00:00.25+05:00\"", "2024-02-29 12:00:00.25", "0002b582c47be090"); // offset ignored
    check(tz, "\"2024-02-29T13:00:00+01:00\"", "2024-02-29 12:00:00+00", "0002b582c4781000");
    check(tz, "\"2024-02-29T12:00:00Z\"", "2024-02-29 12:00:00+00", "0002b582c4781000");
    CHECK(d.error("\"2024-02-30\"") == "\"2024-02-30\" is not a date (YYYY-MM-DD)");
    CHECK(tm.error("\"25:00\"") == "\"25:00\" is not a time of day (HH:MM:SS[.ffffff])");
    CHECK(ts.error("\"2024-13-01\"") == "\"2024-13-01\" is not an ISO 8601 timestamp");
    CHECK(tz.error("1700000000") == "\"1700000000\" is not an ISO 8601 timestamp");
}

// The references are the server's own output (PostgreSQL 15, TimeZone UTC):
// SELECT 'literal'::type, and its COPY binary bytes.
TEST_CASE("dates and timestamps at the ends of the server's range, BC, and infinity") {
    json_column d("date"), ts("timestamp"), tz("timestamptz");
    check(d, "\"0001-01-01\"", "0001-01-01", "fff4dbf9");
    check(d, "\"0044-03-15 BC\"", "0044-03-15 BC", "fff49d7b");
    check(d, "\"4714-11-24 BC\"", "4714-11-24 BC", "ffda97a7");
    check(d, "\"10000-01-01\"", "10000-01-01", "002c95d4");
    check(d, "\"5874897-12-31\"", "5874897-12-31", "7fda970c");
    check(d, "\"infinity\"", "infinity", "7fffffff");
    check(d, "\"-infinity\"", "-infinity", "80000000");
    check(ts, "\"0044-03-15 12:00:00 BC\"", "0044-03-15 12:00:00 BC", "ff1af9e8fb46d000");
    check(ts, "\"4714-11-24T00:00:00 BC\"", "4714-11-24 00:00:00 BC", "fd0f7cc1411fa000");
    check(ts, "\"9999-12-31T23:59:59\"", "9999-12-31 23:59:59", "0380e70b912c3dc0");
    check(ts, "\"12345-06-07T01:02:03\"", "12345-06-07 01:02:03", "0487dafa31fd18c0");
    check(ts, "\"-infinity\"", "-infinity", "8000000000000000");
    // An AD time that is BC in UTC: the date and the era are written.
    check(tz, "\"0001-01-01T00:00:00+05:00\"", "0001-12-31 19:00:00+00 BC", "ff1fe2fb94ba2c00");
    check(tz, "\"0001-12-31 19:00:00+00 BC\"", "0001-12-31 19:00:00+00 BC", "ff1fe2fb94ba2c00");
    check(tz, "\"294276-12-31T23:59:59.999999Z\"", "294276-12-31 23:59:59.999999+00", "7fffff5bb3b29fff");
    check(tz, "\"infinity\"", "infinity", "7fffffffffffffff");
    CHECK(d.error("\"0000-01-01\"") == "\"0000-01-01\" is not a date (YYYY-MM-DD)");
    CHECK(d.error("\"4714-11-23 BC\"") == "\"4714-11-23 BC\" is out of range for date");
    CHECK(d.error("\"5874898-01-01\"") == "\"5874898-01-01\" is out of range for date");
    CHECK(ts.error("\"294277-01-01T00:00:00\"") == "\"294277-01-01T00:00:00\" is out of range for timestamp");
    CHECK(tz.error("\"294276-12-31T23:59:59-01:00\"") ==
          "\"294276-12-31T23:59:59-01:00\" is out of range for timestamp");
    CHECK(tz.error("\"4714-11-24 00:00:00+01 BC\"") ==
          "\"4714-11-24 00:00:00+01 BC\" is out of range for timestamp");
}

TEST_CASE("JSON strings to interval, in ISO 8601 or the server's style") {
    json_column i("interval");
    check(i, "\"P1DT2H\"", "1 day 02:00:00", "00000001ad2748000000000100000000");
    check(i, "\"1 day 02:00:00\"", "1 day 02:00:00", "00000001ad2748000000000100000000");
    // pgpipe writes 14 mons where the server writes 1 year 2 mons.
    check(i, "\"P1Y2M3DT4H5M6.5S\"", "14 mons 3 days 04:05:06.5", "000000036c9361a0000000030000000e");
    check(i, "\"1 year 2 mons 3 days 04:05:06.5\"", "14 mons 3 days 04:05:06.5", "000000036c9361a0000000030000000e");
    check(i, "\"P2W\"", "14 days", "00000000000000000000000e00000000");
    check(i, "\"-00:00:01\"", "-00:00:01", "fffffffffff0bdc00000000000000000");
    CHECK(i.error("\"soon\"") == "\"soon\" is not an interval (ISO 8601 like P1DT2H, or 1 day 02:00:00)");
    CHECK(i.error("\"P1H\"") == "\"P1H\" is not an interval (ISO 8601 like P1DT2H, or 1 day 02:00:00)");
}

TEST_CASE("JSON strings to uuid, with dashes, without, or in braces") {
    json_column u("uuid");
    const char* text = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    const char* bytes = "a0eebc999c0b4ef8bb6d6bb9bd380a11";
    check(u, "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"", text, bytes);
    check(u, "\"A0EEBC999C0B4EF8BB6D6BB9BD380A11\"", text, bytes);
    check(u, "\"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}\"", text, bytes);
    CHECK(u.error("\"a0eebc99\"") == "\"a0eebc99\" is not a UUID");
}

TEST_CASE("any JSON value to json and jsonb, as it is written") {
    json_column j("json"), jb("jsonb");
    check(j, "{\"a\": [1, 2]}", "{\"a\": [1, 2]}", "7b2261223a205b312c20325d7d");
    check(jb, "{\"a\": [1, 2]}", "{\"a\": [1, 2]}", "017b2261223a205b312c20325d7d");
    check(jb, "\"s\"", "\"s\"", "01227322");
    check(jb, "1.50", "1.50", "01312e3530");
    CHECK(jb.error("nope") == "invalid JSON value \"nope\"");
}

TEST_CASE("JSON strings to bytea, in \\x hex or base64") {
    json_column b("bytea");
    check(b, "\"\\\\x0102ff\"", "\\\\x0102ff", "0102ff");
    check(b, "\"AQL/\"", "\\\\x0102ff", "0102ff");
    check(b, "\"AQI=\"", "\\\\x0102", "0102");
    CHECK(b.error("\"\\\\x0\"") == "\"\\x0\" is neither \\x hex nor base64");
    CHECK(b.error("\"not base64!\"") == "\"not base64!\" is neither \\x hex nor base64");
    CHECK(b.error("12") == "\"12\" is neither \\x hex nor base64");
}

TEST_CASE("JSON arrays to one-dimensional arrays, element by element") {
    json_column ints("int4[]"), texts("text[]"), nums("numeric[]");
    check(ints, "[1, 2, null]", "{1,2,NULL}",
          "000000010000000100000017000000030000000100000004000000010000000400000002ffffffff");
    check(texts, "[\"a\", \"b c\"]", "{\"a\",\"b c\"}", // pgpipe quotes every text element
          "0000000100000000000000190000000200000001000000016100000003622063");
    // The elements' own bytes stay right when the cell is reused.
    check(nums, "[1.5, 22.25, 3]", "{1.5,22.25,3}",
          "0000000100000000000006a400000003000000010000000c0002000000000001000113880000000c"
          "0002000000000002001609c40000000a00010000000000000003");
    check(nums, "[4.5]", "{4.5}", "0000000100000000000006a400000001000000010000000c000200000000000100041388");
    check(ints, "[]", "{}", "000000000000000000000017");
    CHECK(ints.error("5") == "expected a JSON array for an array column");
    CHECK(ints.error("[[1]]") == "nested arrays (multidimensional) are not supported");
    CHECK(ints.error("[1, \"x\"]") == "\"x\" is not a valid integer");
}

// RFC 8259: -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?, for every
// column type, inside arrays and json values too.
TEST_CASE("a number that is not JSON is refused, whatever the column") {
    json_column t("text"), f8("float8"), n("numeric"), j("json"), jb("jsonb"), ia("int4[]"), i4("int4");
    for (const char* bad : {"-Infinity", "-foo", "-", "01", "1.", "-01", "1e", "1e+", "0x10", "1.5.5", "-NaN", "00",
                            "1E+-2", "1.e5", "-.5"}) {
        INFO("number " << bad);
        std::string message = std::string("invalid JSON number \"") + bad + "\"";
        CHECK(t.error(bad) == message);
        CHECK(f8.error(bad) == message);
        CHECK(n.error(bad) == message);
        CHECK(j.error(bad) == message);
        CHECK(i4.error(bad) == message);
        CHECK(ia.error(std::string("[1, ") + bad + "]") == message);
        CHECK(jb.error(std::string("{\"a\": [1, ") + bad + "]}") == message);
    }
    CHECK(jb.error("[true, nope]") == "invalid JSON value \"nope\"");
    CHECK(jb.error("{\"a\": \"\\\"]\", \"b\": 01}") == "invalid JSON number \"01\""); // an escaped quote
    // Not a number to simdjson either (it reads a value's kind from its first byte).
    CHECK(t.error(".5") == "invalid JSON value \".5\"");
    CHECK(n.error("+1") == "invalid JSON value \"+1\"");
    CHECK(f8.error("Infinity") == "invalid JSON value \"Infinity\"");
    // Valid edge numbers load exactly as the server reads them.
    check(n, "-0", "0", "0000000000000000");
    check(n, "0.0", "0.0", "0000000000000001");
    check(n, "1E+2", "100", "00010000000000000064");
    check(n, "1e400", "1" + std::string(400, '0'), "00010064000000000001");
    check(n, "12345678901234567890123456789012345678901234567890",
          "12345678901234567890123456789012345678901234567890",
          "000d000c00000000000c0d801ed204d2162e23340d801ed204d2162e23340d801ed2");
    check(f8, "-0", "-0", "8000000000000000");
    check(f8, "1E+2", "100", "4059000000000000");
    check(t, "-0.0e-0", "-0.0e-0", "2d302e30652d30");
    check(j, "-0", "-0", "2d30");
    check(jb, "{\"a\": [-0, 1.5e-3, \"01\", true]}", "{\"a\": [-0, 1.5e-3, \"01\", true]}",
          "017b2261223a205b2d302c20312e35652d332c20223031222c20747275655d7d");
    CHECK(f8.error("1e400") == "\"1e400\" is not a valid number (out of range for double precision)");
}

TEST_CASE("null, bad literals and objects: NULL, or named") {
    json_column i4("int4");
    check(i4, "null", "\\N", "null");
    CHECK(i4.error("nope") == "invalid JSON value \"nope\"");
    CHECK(i4.error("{\"a\": 1}") == "a JSON object does not fit a scalar column");
    CHECK(i4.error("[1]") == "a JSON array does not fit a scalar column");
}
