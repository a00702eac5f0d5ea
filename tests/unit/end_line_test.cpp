// The end line (lib/io/end_line.hpp), without a server: what is one, and
// what an input watched for it may and must hold.
#include "io/end_line.hpp"
#include "pg/pg_types.hpp"
#include "pg/row_writer.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace pgpipe;

TEST_CASE("an end line is a backslash and a period alone, with any line end", "[end_line]") {
    CHECK(is_end_line("\\."));
    CHECK(is_end_line("\\.\n"));
    CHECK(is_end_line("\\.\r\n"));
    CHECK_FALSE(is_end_line("\\. "));
    CHECK_FALSE(is_end_line(" \\."));
    CHECK_FALSE(is_end_line("\\.\\."));
    CHECK_FALSE(is_end_line("."));
    CHECK_FALSE(is_end_line(""));
    CHECK(is_end_line(end_line_text));
}

TEST_CASE("a required end line must come last, and nothing after it", "[end_line]") {
    end_line_watch required("in.jsonl", true);
    CHECK_FALSE(required.take(1, "{\"a\": 1}"));
    CHECK_THROWS_WITH(required.finish(), Catch::Contains("in.jsonl: ended without its end line \\. (--require-end)"));
    CHECK(required.take(2, "\\."));
    CHECK_NOTHROW(required.finish());
    CHECK_THROWS_WITH(required.take(4, "{\"a\": 2}"), Catch::Contains("in.jsonl:4: data after the end line \\. at line 2"));
    CHECK_THROWS_WITH(required.take(5, "\\."), Catch::Contains("in.jsonl:5: data after the end line"));
}

TEST_CASE("an end line not required still ends its input", "[end_line]") {
    end_line_watch optional("-", false);
    CHECK_NOTHROW(optional.finish()); // no end line: fine
    CHECK(optional.take(3, "\\."));
    CHECK_THROWS(optional.take(4, "x"));
}

TEST_CASE("a row writer ends text and CSV with the end line when asked, binary with its trailer", "[end_line]") {
    for (copy_format f : {copy_format::text, copy_format::csv}) {
        std::string asked, plain;
        row_writer with(f, asked), without(f, plain);
        for (row_writer* w : {&with, &without}) {
            w->begin();
            w->begin_row(1);
            value a{};
            a.kind = value_kind::string;
            a.s = "a";
            w->field(a, parse_type_name("text"));
            w->end_row();
        }
        with.finish(true);
        without.finish();
        CHECK(asked == "a\n\\.\n");
        CHECK(plain == "a\n");
    }
    std::string binary;
    row_writer b(copy_format::binary, binary);
    b.begin();
    b.finish(true);
    CHECK(binary.ends_with(std::string("\xff\xff", 2))); // the trailer, never a \. line
}
