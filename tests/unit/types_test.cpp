// pg_types and generators: the encodings the server must read back exactly.
#include "core/error.hpp"
#include "pggen/generator.hpp"
#include "io/output.hpp"
#include "pg/pg_types.hpp"

#include "hex.hpp"

#include <catch2/catch.hpp>

using namespace pgpipe;

namespace {

using pgpipe::test::hex;

std::string numeric_hex(int64_t mantissa, int32_t scale, int32_t dscale) {
    std::string out;
    append_numeric_binary(out, mantissa, scale, dscale);
    return hex(out);
}

template <typename F>
std::string formatted(F f) {
    char buf[80];
    char* end = f(buf);
    return std::string(buf, static_cast<size_t>(end - buf));
}

} // namespace

TEST_CASE("numeric binary matches what the server sends") {
    // Reference bytes taken from PostgreSQL 15: COPY (SELECT v::numeric(p,s))
    // TO STDOUT (FORMAT binary), the field without its length.
    // ndigits, weight, sign, dscale, then base-10000 digits.
    CHECK(numeric_hex(399, 2, 4) == "0002000000000004000326ac");            // 3.99 as numeric(12,4)
    CHECK(numeric_hex(0, 0, 4) == "0000000000000004");                       // 0.0000
    CHECK(numeric_hex(99, 2, 2) == "0001ffff0000000226ac");                  // 0.99
    CHECK(numeric_hex(10000, 0, 0) == "00010001000000000001");               // 10000
    CHECK(numeric_hex(-123456789, 3, 3) == "0003000140000003000c0d801ed2");  // -123456.789
    CHECK(numeric_hex(1, 6, 6) == "0001fffe000000060064");                   // 0.000001
    CHECK(numeric_hex(50000000, 0, 0) == "00010001000000001388");            // 50000000
}

TEST_CASE("dates and times format as the server writes them") {
    CHECK(days_from_civil(2000, 1, 1) == 0);
    CHECK(days_from_civil(1999, 12, 31) == -1);
    CHECK(days_from_civil(2024, 2, 29) == 8825);
    int64_t y;
    unsigned m, d;
    civil_from_days(8825, y, m, d);
    CHECK((y == 2024 && m == 2 && d == 29));
    CHECK(formatted([](char* b) { return format_date(b, -10957); }) == "1970-01-01");
    CHECK(formatted([](char* b) { return format_timestamp(b, 86400LL * 1000000 + 3723500000LL); }) ==
          "2000-01-02 01:02:03.5");
    CHECK(formatted([](char* b) { return format_timestamp(b, -1); }) == "1999-12-31 23:59:59.999999");
    // Before year 1 the server counts years BC (no year 0), after 9999 with more digits.
    CHECK(formatted([](char* b) { return format_date(b, days_from_civil(0, 12, 31)); }) == "0001-12-31 BC");
    CHECK(formatted([](char* b) { return format_date(b, days_from_civil(-4713, 11, 24)); }) == "4714-11-24 BC");
    CHECK(formatted([](char* b) { return format_date(b, days_from_civil(10000, 1, 1)); }) == "10000-01-01");
    CHECK(formatted([](char* b) { return format_date(b, date_infinity); }) == "infinity");
    CHECK(formatted([](char* b) { return format_date(b, -date_infinity - 1); }) == "-infinity");
    CHECK(formatted([](char* b) { return format_timestamp(b, days_from_civil(1, 1, 1) * 86400000000LL - 1); }) ==
          "0001-12-31 23:59:59.999999 BC");
    CHECK(formatted([](char* b) { return format_timestamp(b, timestamp_infinity); }) == "infinity");
    CHECK(formatted([](char* b) { return format_timestamp(b, -timestamp_infinity - 1); }) == "-infinity");
    CHECK(formatted([](char* b) { return format_time(b, 45296000001LL); }) == "12:34:56.000001");
    CHECK(formatted([](char* b) { return format_interval(b, 0, 3, 3723000000LL); }) == "3 days 01:02:03");
    CHECK(formatted([](char* b) { return format_interval(b, 1, 1, 0); }) == "1 mon 1 day");
    CHECK(formatted([](char* b) { return format_interval(b, 0, 0, 0); }) == "00:00:00");
    CHECK(formatted([](char* b) { return format_interval(b, 0, 0, 90000000000LL); }) == "25:00:00");
    CHECK(parse_timestamp_us("2000-01-01") == 0);
    CHECK(parse_timestamp_us("2000-01-01 00:00:01.25") == 1250000);
    CHECK(parse_timestamp_us("2000-01-01T01:00") == 3600000000LL);
    CHECK_FALSE(parse_timestamp_us("2000-13-01"));
    CHECK_FALSE(parse_timestamp_us("yesterday"));
}

TEST_CASE("numbers format exactly") {
    CHECK(formatted([](char* b) { return format_int(b, INT64_MIN); }) == "-9223372036854775808");
    CHECK(formatted([](char* b) { return format_decimal(b, -5, 3); }) == "-0.005");
    CHECK(formatted([](char* b) { return format_decimal(b, 12345, 2); }) == "123.45");
    CHECK(formatted([](char* b) { return format_decimal(b, 7, 0); }) == "7");
    uint8_t u[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 1, 2, 3, 4, 5, 6, 7};
    CHECK(formatted([&](char* b) { return format_uuid(b, u); }) == "12345678-9abc-4def-8001-020304050607");
}

TEST_CASE("COPY text and CSV escaping") {
    std::string out;
    append_copy_text_escaped(out, std::string("a\tb\nc\\d\re\x01", 10));
    CHECK(out == std::string("a\\tb\\nc\\\\d\\re\x01", 14));
    auto csv = [](std::string_view s) {
        std::string o;
        append_csv_field(o, s);
        return o;
    };
    CHECK(csv("plain") == "plain");
    CHECK(csv("") == "\"\"");
    CHECK(csv("a,b") == "\"a,b\"");
    CHECK(csv("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(csv("\\.") == "\"\\.\"");
    CHECK(csv("two\nlines") == "\"two\nlines\"");
}

TEST_CASE("type names parse to their canonical form") {
    CHECK(parse_type_name("INT").name == "integer");
    CHECK(parse_type_name("varchar(32)").name == "character varying(32)");
    CHECK(parse_type_name("numeric(12, 4)").scale == 4);
    CHECK(parse_type_name("timestamp with time zone").base == pg_type::timestamptz);
    CHECK(parse_type_name("text[]").is_array);
    CHECK(parse_type_name("char").length == 1);
    CHECK_THROWS_WITH(parse_type_name("money"), Catch::Contains("unknown type \"money\""));
    CHECK_THROWS_AS(parse_type_name("varchar(0)"), error);
    CHECK_THROWS_AS(parse_type_name("int(3)"), error);
}

TEST_CASE("row counts accept the usual spellings") {
    CHECK(parse_count("1000000") == 1000000);
    CHECK(parse_count("1e6") == 1000000);
    CHECK(parse_count("1M") == 1000000);
    CHECK(parse_count("2.5k") == 2500);
    CHECK(parse_count("0") == 0);
    for (const char* bad : {"", "-1", "1.5", "lots", "1e30", "M"})
        CHECK_THROWS_AS(parse_count(bad), error);
}

TEST_CASE("generators: values are a pure function of key and row") {
    auto g = parse_generator("words(1,4)", "w");
    value a, b;
    cell_rng r1(42, 1000), r2(42, 1000);
    g->generate(1000, r1, a);
    std::string first(a.s);
    g->generate(1000, r2, b);
    CHECK(first == std::string(b.s));
    auto seq = parse_generator("seq(10,5)", "s");
    cell_rng r(0, 3);
    seq->generate(3, r, a);
    CHECK(a.i == 20);
    CHECK(seq->int_range({1, 4}) == std::make_pair(int64_t{10}, int64_t{25}));
}

TEST_CASE("generator specs: grammar and errors name the column") {
    CHECK(parse_generator("'user_{i}@x.org'", "c")->unique());
    CHECK_FALSE(parse_generator("'constant'", "c")->unique());
    CHECK(parse_generator("int(1,10)|null(0.5)", "c")->kind() == value_kind::integer);
    CHECK(parse_generator("choice(a:3, 'b c':1)", "c")->max_chars({1, 1}) == 3);
    CHECK(parse_generator("array(int(1,9),2,3)", "c")->kind() == value_kind::array);
    CHECK(parse_generator("mod(500,0.99)", "c")->scale() == 2);
    CHECK_THROWS_WITH(parse_generator("int(1)", "price"), Catch::Contains("column price: int takes 2 to 4 arguments"));
    CHECK_THROWS_WITH(parse_generator("bogus", "c"), Catch::Contains("unknown generator \"bogus\""));
    CHECK_THROWS_WITH(parse_generator("int(1,2)|nul(1)", "c"), Catch::Contains("expected null(RATE)"));
    CHECK_THROWS_WITH(parse_generator("'open", "c"), Catch::Contains("unterminated quoted string"));
    CHECK_THROWS_WITH(parse_generator("bool(2)", "c"), Catch::Contains("between 0 and 1"));
    CHECK_THROWS_WITH(parse_generator("array(array(seq))", "c"), Catch::Contains("arrays of arrays"));
}

TEST_CASE("generators are checked against their column's type") {
    row_range rows{1, 100000};
    auto fits = [&](const char* gen, const char* type) {
        check_generator_fits(*parse_generator(gen, "c"), parse_type_name(type), "c", rows);
    };
    CHECK_NOTHROW(fits("seq", "int4"));
    CHECK_THROWS_WITH(fits("seq", "int2"), Catch::Contains("values from 1 to 100000"));
    CHECK_NOTHROW(fits("mod(500,0.99)", "numeric(12,4)"));
    CHECK_THROWS_WITH(fits("numeric(0,1,3)", "numeric(5,2)"), Catch::Contains("3 decimals"));
    CHECK_THROWS_WITH(fits("int(1,100000)", "numeric(4,0)"), Catch::Contains("integer digits"));
    CHECK_THROWS_WITH(fits("'user_{i}'", "varchar(8)"), Catch::Contains("up to 11 characters"));
    CHECK_NOTHROW(fits("'user_{i}'", "varchar(11)"));
    CHECK_THROWS_WITH(fits("uuid", "int8"), Catch::Contains("it makes UUIDs"));
    CHECK_THROWS_WITH(fits("int(1,2)", "int4[]"), Catch::Contains("array(GENERATOR"));
    CHECK_NOTHROW(fits("array(int(1,2),0,3)", "int4[]"));
    CHECK_NOTHROW(fits("null", "uuid"));
}
