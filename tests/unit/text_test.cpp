// Pure functions of libpgpipe: names, formats, counting, rendering.
#include "cli/cli.hpp"
#include "core/text.hpp"
#include "io/copy_format.hpp"
#include "core/error.hpp"
#include "pg/identifier.hpp"
#include "core/progress.hpp"
#include "pgsandbox/sandbox.hpp"
#include "core/stats.hpp"

#include <catch2/catch.hpp>

using namespace pgpipe;
using strings = std::vector<std::string>;

TEST_CASE("qualified names fold and unquote like the server") {
    CHECK(parse_qualified_name("Orders") == strings{"orders"});
    CHECK(parse_qualified_name("public.Orders") == strings{"public", "orders"});
    CHECK(parse_qualified_name("\"We.ird \"\"name\"\"\"") == strings{"We.ird \"name\""});
    CHECK(parse_qualified_name("\"S\".\"T\"") == strings{"S", "T"});
    CHECK(parse_qualified_name(" db . s . t ") == strings{"db", "s", "t"});
    CHECK(parse_qualified_name("\"ünï cödé\"") == strings{"ünï cödé"});
}

TEST_CASE("malformed names are refused with a local error") {
    for (const char* bad : {"", "a.", ".a", "\"open", "a b", "a.b.c.d", "\"\"", "a\"b", "a..b"}) {
        INFO(bad);
        try {
            parse_qualified_name(bad);
            FAIL("accepted");
        } catch (const error& e) {
            CHECK(e.status() == exit_status::local_error);
        }
    }
}

TEST_CASE("column lists split on commas outside quotes") {
    CHECK(parse_name_list("a,b , C") == strings{"a", "b", "c"});
    CHECK(parse_name_list("\"x,y\",z") == strings{"x,y", "z"});
    CHECK_THROWS_AS(parse_name_list("a,,b"), error);
    CHECK_THROWS_AS(parse_name_list("a b"), error);
}

TEST_CASE("the line number is read from the server's COPY context") {
    CHECK(copy_context_line("COPY orders, line 3, column amount: \"abc\"") == 3u);
    CHECK(copy_context_line("COPY orders, line 1234567: \"1\t2\"") == 1234567u);
    CHECK(copy_context_line("PL/pgSQL function f() line 2 at RAISE\nCOPY t, line 9") == 9u);
    CHECK(copy_context_line("COPY \"a, line 5\", line 7: \"x\"") == 7u);
    CHECK_FALSE(copy_context_line("COPY orders"));
    CHECK_FALSE(copy_context_line(""));
    CHECK_FALSE(copy_context_line("SQL statement \"select 1\""));
}

TEST_CASE("newlines are counted across the whole buffer") {
    std::string text = "a\nbb\n\n" + std::string(100000, 'x') + "\n";
    CHECK(count_newlines(text.data(), text.size()) == 4);
    CHECK(count_newlines(text.data(), 0) == 0);
    CHECK(count_newlines("no newline", 10) == 0);
}

TEST_CASE("copy formats parse and validate") {
    CHECK(parse_copy_format("csv") == copy_format::csv);
    CHECK_THROWS_AS(parse_copy_format("tsv"), error);
    copy_format_options o;
    o.quote = "'";
    CHECK_THROWS_AS(validate_copy_format(o), error); // quote is csv-only
    o.format = copy_format::csv;
    CHECK_NOTHROW(validate_copy_format(o));
    o.delimiter = "::";
    CHECK_THROWS_AS(validate_copy_format(o), error); // one byte only
    copy_format_options b;
    b.format = copy_format::binary;
    b.header = true;
    CHECK_THROWS_AS(validate_copy_format(b), error);
}

TEST_CASE("numbers, sizes and durations read well") {
    CHECK(format_count(0) == "0");
    CHECK(format_count(999) == "999");
    CHECK(format_count(1000) == "1,000");
    CHECK(format_count(1234567) == "1,234,567");
    CHECK(format_bytes(999) == "999 B");
    CHECK(format_bytes(27224562) == "27.2 MB");
    CHECK(format_duration(7) == "0:07");
    CHECK(format_duration(3723) == "1:02:03");
    progress_state s;
    s.rows = 500;
    s.bytes = 2000000;
    s.input_bytes = 50;
    s.input_total = 100;
    std::string line = render_progress(s, 2.0);
    CHECK_THAT(line, Catch::Contains("500 rows"));
    CHECK_THAT(line, Catch::Contains("250 rows/s"));
    CHECK_THAT(line, Catch::Contains("50%"));
    CHECK_THAT(line, Catch::Contains("ETA 0:02"));
    CHECK_THAT(line, !Catch::Contains("jobs"));
    s.job_rows = {300, 200};
    CHECK_THAT(render_progress(s, 2.0), Catch::Contains("250 rows/s  1.0 MB/s  jobs: 300 200"));
    s.rows_known = false;
    CHECK_THAT(render_progress(s, 2.0), !Catch::Contains("rows"));
}

TEST_CASE("json output escapes what it must") {
    CHECK(json_quote("a\"b\\c\n\t\x01") == "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    json_object o;
    o.add("rows", uint64_t{3}).add("name", std::string("x")).add("s", 1.5).add_bool("ok", true);
    CHECK(o.str() == "{\"rows\": 3, \"name\": \"x\", \"s\": 1.500, \"ok\": true}");
    load_summary summary;
    summary.program = "pgcopy";
    summary.target = "t";
    summary.rows = 10;
    summary.seconds = 2;
    std::string json = summary_json(summary);
    CHECK_THAT(json, Catch::Contains("\"rows_per_second\": 5.000"));
    CHECK_THAT(json, Catch::Contains("\"status\": \"ok\""));
    CHECK_THAT(summary_line(summary), Catch::StartsWith("loaded 10 rows"));
    CHECK_THAT(json, !Catch::Contains("jobs"));
    summary.job_rows = {4, 6};
    CHECK_THAT(summary_json(summary), Catch::Contains("\"jobs\": 2, \"job_rows\": [4, 6]"));
}

TEST_CASE("help text wraps within the width") {
    std::string wrapped = wrap_text("one two three four five six seven", 10, 10, 24);
    for (size_t start = 0, end; start < wrapped.size(); start = end + 1) {
        end = wrapped.find('\n', start);
        if (end == std::string::npos)
            end = wrapped.size();
        CHECK(end - start + (start == 0 ? 10 : 0) <= 24);
    }
    CHECK_THAT(wrapped, Catch::StartsWith("one two three"));
}

TEST_CASE("shell quoting survives quotes and spaces") {
    CHECK(shell_quote("/tmp/a b") == "'/tmp/a b'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
}

TEST_CASE("hex digits have their values, other bytes -1") {
    CHECK(hex_digit_value('0') == 0);
    CHECK(hex_digit_value('9') == 9);
    CHECK(hex_digit_value('a') == 10);
    CHECK(hex_digit_value('F') == 15);
    for (char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0'})
        CHECK(hex_digit_value(c) == -1);
}
