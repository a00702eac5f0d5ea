// lib/io's COPY field reader, without a server: text escapes and NULLs, CSV
// quotes, escapes, embedded delimiters and line ends, custom syntax.
#include "io/copy_fields.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace pgpipe;

namespace {

// A field as a test states it: its value, or nullopt for NULL.
using field = std::optional<std::string>;
using fields = std::vector<field>;

fields read_all(copy_field_reader& reader, std::string_view row, bool expect_ok = true) {
    CHECK(reader.read(row) == expect_ok);
    fields out;
    for (size_t k = 0; k < reader.size(); ++k)
        out.push_back(reader.is_null(k) ? field() : field(std::string(reader.value(k))));
    return out;
}

fields read_text(std::string_view row) {
    copy_field_reader reader{copy_format_options{}};
    return read_all(reader, row);
}

copy_format_options csv_options() {
    copy_format_options o;
    o.format = copy_format::csv;
    return o;
}

fields read_csv(std::string_view row, bool expect_ok = true) {
    copy_field_reader reader{csv_options()};
    return read_all(reader, row, expect_ok);
}

const field null;

} // namespace

TEST_CASE("copy_syntax_of fills in each format's defaults") {
    const copy_syntax text = copy_syntax_of(copy_format_options{});
    CHECK_FALSE(text.csv);
    CHECK(text.delimiter == '\t');
    CHECK(text.null_text == "\\N");
    const copy_syntax csv = copy_syntax_of(csv_options());
    CHECK(csv.csv);
    CHECK(csv.delimiter == ',');
    CHECK(csv.quote == '"');
    CHECK(csv.escape == '"');
    CHECK(csv.null_text.empty());
    copy_format_options o = csv_options();
    o.quote = "'";
    CHECK(copy_syntax_of(o).escape == '\''); // the escape follows the quote given
    o.escape = "\\";
    o.delimiter = ";";
    o.null_string = "NULL";
    const copy_syntax custom = copy_syntax_of(o);
    CHECK(custom.escape == '\\');
    CHECK(custom.delimiter == ';');
    CHECK(custom.null_text == "NULL");
    CHECK(default_delimiter(copy_format::text) == '\t');
    CHECK(default_delimiter(copy_format::csv) == ',');
}

TEST_CASE("text fields split at tabs, the line end left out") {
    CHECK(read_text("a\tb\tc") == fields{"a", "b", "c"});
    CHECK(read_text("a\tb\n") == fields{"a", "b"});
    CHECK(read_text("a\tb\r\n") == fields{"a", "b"});
    CHECK(read_text("") == fields{""});
    CHECK(read_text("\n") == fields{""});
    CHECK(read_text("a\t") == fields{"a", ""});
    CHECK(read_text("\t\t") == fields{"", "", ""});
}

TEST_CASE("text escapes are undone as the server's text input reads them") {
    CHECK(read_text("\\t\\n\\r\\b\\f\\v\\\\") == fields{"\t\n\r\b\f\v\\"});
    CHECK(read_text("\\101\\x41\\x4a") == fields{"AAJ"});
    CHECK(read_text("\\1234") == fields{"S4"});       // octal takes three digits at most
    CHECK(read_text("\\x414") == fields{"A4"});       // hex takes two at most
    CHECK(read_text("\\xg") == fields{"xg"});         // a bare \x is x
    CHECK(read_text("\\q\\.\\N1") == fields{"q.N1"}); // any other byte stands for itself
    CHECK(read_text("a\\\tb\tc") == fields{"a\tb", "c"}); // an escaped delimiter is data
    CHECK(read_text("a\\") == fields{"a"});           // a backslash ending the row stands for nothing
}

TEST_CASE("text NULL is the field as written, escapes and all") {
    CHECK(read_text("\\N\ta") == fields{null, "a"});
    CHECK(read_text("a\t\\N\n") == fields{"a", null});
    CHECK(read_text("\\\\N") == fields{"\\N"}); // an escaped backslash, then N: data
    CHECK(read_text("\\Nx") == fields{"Nx"});
    copy_format_options o;
    o.null_string = "";
    copy_field_reader empty_null(o);
    CHECK(read_all(empty_null, "\ta\t") == fields{null, "a", null});
    o.null_string = "NULL";
    copy_field_reader word_null(o);
    CHECK(read_all(word_null, "NULL\t\\N\tnull") == fields{null, "N", "null"});
}

TEST_CASE("a custom text delimiter splits, tabs become data") {
    copy_format_options o;
    o.delimiter = "|";
    copy_field_reader reader(o);
    CHECK(read_all(reader, "a|b\tc|\\|d") == fields{"a", "b\tc", "|d"});
    CHECK(reader.syntax().delimiter == '|');
    CHECK(reader.written(2) == "\\|d");
}

TEST_CASE("csv fields split at commas, quotes undone") {
    CHECK(read_csv("a,b,c\n") == fields{"a", "b", "c"});
    CHECK(read_csv("a,b\r\n") == fields{"a", "b"});
    CHECK(read_csv("\"a,b\",c") == fields{"a,b", "c"});
    CHECK(read_csv("\"say \"\"hi\"\"\"") == fields{"say \"hi\""});
    CHECK(read_csv("ab\"c,d\"e,f") == fields{"abc,de", "f"}); // quotes may open mid-field
    CHECK(read_csv("\"\"\"\"") == fields{"\""});
}

TEST_CASE("csv quoted fields hold line ends and delimiters") {
    CHECK(read_csv("1,\"two\nlines\",3\n") == fields{"1", "two\nlines", "3"});
    CHECK(read_csv("1,\"cr\r\nlf\"\r\n") == fields{"1", "cr\r\nlf"});
    CHECK(read_csv("\",\t,\",x") == fields{",\t,", "x"});
}

TEST_CASE("csv: empty unquoted is NULL, empty quoted is an empty string") {
    CHECK(read_csv(",\"\",a,") == fields{null, "", "a", null});
    CHECK(read_csv("") == fields{null});
    copy_format_options o = csv_options();
    o.null_string = "NULL";
    copy_field_reader reader(o);
    CHECK(read_all(reader, "NULL,\"NULL\",,x") == fields{null, "NULL", "", "x"});
}

TEST_CASE("csv escapes other than the quote act only inside quotes") {
    copy_format_options o = csv_options();
    o.escape = "\\";
    copy_field_reader reader(o);
    CHECK(read_all(reader, "\"a\\\"b\",\"c\\\\d\",e\\f") == fields{"a\"b", "c\\d", "e\\f"});
    CHECK(read_all(reader, "\"a\\xb\"") == fields{"a\\xb"}); // before anything else it is data
    CHECK(read_all(reader, "\"a\"\"b\"") == fields{"ab"});   // two quotes close and reopen
}

TEST_CASE("csv with a custom quote and delimiter") {
    copy_format_options o = csv_options();
    o.quote = "'";
    o.delimiter = ";";
    copy_field_reader reader(o);
    CHECK(read_all(reader, "'a;b';'it''s';\"x\"") == fields{"a;b", "it's", "\"x\""});
}

TEST_CASE("csv: a quote left open makes the row malformed") {
    CHECK(read_csv("a,\"bc", false) == fields{"a", "bc"});
    CHECK(read_csv("\"", false) == fields{""});
}

TEST_CASE("read stops after max_fields fields") {
    copy_field_reader reader{csv_options()};
    CHECK(reader.read("a,\"b,c\",d,\"open", 2));
    REQUIRE(reader.size() == 2);
    CHECK(reader.value(1) == "b,c");
    CHECK(reader.read("a,b", 5));
    CHECK(reader.size() == 2);
    CHECK(reader.read("a,b", 0));
    CHECK(reader.size() == 0);
}

TEST_CASE("values stay right while later fields are built") {
    copy_field_reader reader{copy_format_options{}};
    std::string row;
    for (int k = 0; k < 200; ++k)
        row += "x\\ty" + std::to_string(k) + "\t"; // every field built, the buffer growing
    row += "plain";
    REQUIRE(reader.read(row));
    REQUIRE(reader.size() == 201);
    CHECK(reader.value(0) == "x\ty0");
    CHECK(reader.value(199) == "x\ty199");
    CHECK(reader.value(200) == "plain");
    CHECK(reader.written(0) == "x\\ty0");
}

TEST_CASE("a reader reused for another row keeps nothing of the last") {
    copy_field_reader reader{copy_format_options{}};
    REQUIRE(reader.read("a\\tb\tc\td"));
    REQUIRE(reader.read("\\N"));
    CHECK(reader.size() == 1);
    CHECK(reader.is_null(0));
    CHECK(reader.written(0) == "\\N");
}

// A line end a backslash escapes is data (the server keeps the byte after
// a backslash in the line, then reads "\<LF>" as LF and "\<CR>" as CR): only
// the row's own, unescaped line end is left out.
TEST_CASE("an escaped line end at the end of a text row is data") {
    CHECK(read_text("a\tc\\\n") == fields{"a", "c\n"});       // the row's LF already gone
    CHECK(read_text("a\tc\\\n\n") == fields{"a", "c\n"});     // with it
    CHECK(read_text("k\\\r\n") == fields{"k\r"});             // LF line ends, an escaped CR
    CHECK(read_text("k\\\\\r\n") == fields{"k\\"});           // an escaped backslash: the CR ends the line
    CHECK(read_text("k\r\n") == fields{"k"});
}
