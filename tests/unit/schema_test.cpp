// read_table_schema against the test server (tagged [server]: run once the test cluster is up), and the type and number parsing it rests on.
#include "pg/connection.hpp"
#include "pg/pg_types.hpp"
#include "pg/schema.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <unistd.h>

using namespace pgpipe;

namespace {

// Cases tagged [server] talk to the test cluster (tests/run.sh runs them
// once it has started one); hidden from a plain run of the binary.
bool have_server() { return std::getenv("PGHOST") != nullptr; }

std::string decimal_text(std::string_view text, int32_t scale = -1) {
    auto d = parse_plain_decimal(text, scale);
    return d ? d->text() : "none";
}

const table_column& column_named(const table_schema& schema, const std::string& name) {
    auto it = std::find_if(schema.columns.begin(), schema.columns.end(),
                           [&](const table_column& col) { return col.name == name; });
    REQUIRE(it != schema.columns.end());
    return *it;
}

// A schema of its own for the test's tables, dropped however the test ends.
struct scratch_schema {
    connection& conn;
    std::string name = "unit_schema_" + std::to_string(::getpid());
    explicit scratch_schema(connection& c) : conn(c) { conn.exec("CREATE SCHEMA " + name); }
    ~scratch_schema() {
        try {
            conn.exec("SET client_min_messages = warning"); // no notice of what the drop cascades to
            conn.exec("DROP SCHEMA " + name + " CASCADE");
        } catch (...) {
        }
    }
};

} // namespace

TEST_CASE("plain decimals parse exactly and round half away from zero") {
    CHECK(decimal_text("-1.5e3") == "-1500");
    CHECK(decimal_text(".5") == "0.5");
    CHECK(decimal_text("+7") == "7");
    CHECK(decimal_text("1e-2") == "0.01");
    CHECK(decimal_text("007.10") == "7.10");
    CHECK(decimal_text("12.345", 2) == "12.35");
    CHECK(decimal_text("-12.345", 2) == "-12.35");
    CHECK(decimal_text("9.995", 2) == "10.00");
    CHECK(decimal_text("-0.004", 2) == "0.00"); // -0 is 0
    CHECK(decimal_text("2", 3) == "2.000");
    for (const char* bad : {"", "-", ".", "abc", "1e", "1e+", "1.2.3", "1x", "1e100001"})
        CHECK(decimal_text(bad) == "none");
}

TEST_CASE("type modifiers are checked per type") {
    CHECK(parse_type_name("numeric(12,4)").name == "numeric(12,4)");
    CHECK(parse_type_name("NUMERIC ( 12 , 4 )").precision == 12);
    CHECK(parse_type_name("char(5)[]").name == "character(5)[]");
    CHECK(parse_type_name("timestamp(3)").base == pg_type::timestamp);
    CHECK(parse_type_name("varchar").length == -1);
    CHECK_THROWS_WITH(parse_type_name("varchar(3"), Catch::Contains("invalid type \"varchar(3\""));
    CHECK_THROWS_WITH(parse_type_name("numeric(10) x"), Catch::Contains("invalid type"));
    CHECK_THROWS_WITH(parse_type_name("numeric(a)"), Catch::Contains("invalid type modifier in \"numeric(a)\""));
    CHECK_THROWS_WITH(parse_type_name("numeric(1001)"), Catch::Contains("invalid precision"));
    CHECK_THROWS_WITH(parse_type_name("varchar(3,4)"), Catch::Contains("invalid length"));
    CHECK_THROWS_WITH(parse_type_name("int(3)"), Catch::Contains("type \"int\" takes no modifier"));
}

TEST_CASE("read_table_schema reads types, keys, references and CHECK ranges", "[.][server]") {
    REQUIRE(have_server());
    connection conn = connection::open({});
    scratch_schema s(conn);
    const std::string& n = s.name;
    conn.exec("CREATE TYPE " + n + ".mood AS ENUM ('sad', 'ok', 'happy')");
    conn.exec("CREATE TABLE " + n + ".parent (id int PRIMARY KEY)");
    conn.exec("CREATE TABLE " + n + ".child ("
              " id bigserial PRIMARY KEY, code varchar(8) UNIQUE,"
              " qty int CHECK (qty >= 0 AND qty < 100), price numeric(12,4) CHECK (price > 0.5),"
              " parent_id int REFERENCES " + n + ".parent (id), mood " + n + ".mood, moods " + n + ".mood[],"
              " tags text[], flag char, doubled int GENERATED ALWAYS AS (qty * 2) STORED, spot point,"
              " CONSTRAINT odd CHECK (qty % 2 = 1 OR qty IS NULL))");
    table_schema schema = read_table_schema(conn, n + ".child");

    REQUIRE(schema.columns.size() == 11);
    CHECK(schema.columns[0].name == "id");
    CHECK(schema.columns[10].name == "spot");
    const auto& id = column_named(schema, "id");
    CHECK((id.unique && id.not_null && id.server_filled && !id.generated_always));
    CHECK(id.type->base == pg_type::int8);
    const auto& code = column_named(schema, "code");
    CHECK((code.unique && code.type->base == pg_type::varchar && code.type->length == 8));
    CHECK(code.type->name == "character varying(8)");
    const auto& qty = column_named(schema, "qty");
    CHECK((qty.check_min == 0.0 && !qty.check_min_strict && qty.check_max == 100.0 && qty.check_max_strict));
    const auto& price = column_named(schema, "price");
    CHECK((price.check_min == 0.5 && price.check_min_strict && !price.check_max));
    CHECK((price.type->precision == 12 && price.type->scale == 4));
    const auto& parent = column_named(schema, "parent_id");
    CHECK(parent.references_table == n + ".parent");
    CHECK(parent.references_column == "id");
    const auto& mood = column_named(schema, "mood");
    CHECK((mood.type->base == pg_type::enumeration && !mood.type->is_array && mood.type->enum_oid != 0));
    CHECK(mood.enum_labels == std::vector<std::string>{"sad", "ok", "happy"});
    const auto& moods = column_named(schema, "moods");
    CHECK((moods.type->base == pg_type::enumeration && moods.type->is_array));
    CHECK(moods.enum_labels == mood.enum_labels);
    CHECK((column_named(schema, "tags").type->is_array && column_named(schema, "tags").type->base == pg_type::text));
    CHECK(column_named(schema, "flag").type->length == 1);
    const auto& doubled = column_named(schema, "doubled");
    CHECK((doubled.generated_always && doubled.server_filled));
    const auto& spot = column_named(schema, "spot");
    CHECK((!spot.type && spot.type_name == "point"));
    REQUIRE(schema.ignored_checks.size() == 1);
    CHECK(schema.ignored_checks[0].rfind("odd: CHECK ", 0) == 0);

    CHECK_THROWS_WITH(read_table_schema(conn, n + ".no_such_table"), Catch::Contains("does not exist"));
}
