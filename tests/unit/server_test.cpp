// The library against the real throwaway server that tests/run.sh starts
// (PGHOST and friends are set): its cases are tagged [server], which run.sh runs once the cluster is up.
#include "pg/connection.hpp"
#include "pgcopy/copy_in.hpp"
#include "core/process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace pgpipe;

namespace {

// Cases tagged [server] talk to the test cluster (tests/run.sh runs them
// once it has started one); hidden from a plain run of the binary.
bool have_server() { return std::getenv("PGHOST") != nullptr; }

std::string scalar(connection& conn, const std::string& sql) {
    result_ptr r = conn.query(sql);
    return PQgetvalue(r.get(), 0, 0);
}

} // namespace

TEST_CASE("a COPY session reports the server's row count and commits nothing when aborted", "[.][server]") {
    REQUIRE(have_server());
    connection conn = connection::open({});
    conn.exec("CREATE TEMP TABLE unit_copy (a int, b text)");
    {
        copy_in_session copy(conn, "COPY unit_copy FROM STDIN");
        std::string rows = "1\tone\n2\ttwo\n3\tth";
        copy.put(rows.data(), rows.size());
        copy.put("ree\n", 4); // a row may span chunks
        CHECK(copy.finish() == 3);
    }
    CHECK(scalar(conn, "SELECT string_agg(b, ',' ORDER BY a) FROM unit_copy") == "one,two,three");
    {
        copy_in_session copy(conn, "COPY unit_copy FROM STDIN");
        copy.put("4\tfour\n", 7);
        // destroyed unfinished: the COPY must end with an error, not commit
    }
    CHECK(scalar(conn, "SELECT count(*) FROM unit_copy") == "3");
    CHECK(conn.ok());
}

TEST_CASE("server errors carry SQLSTATE, message and context", "[.][server]") {
    REQUIRE(have_server());
    connection conn = connection::open({});
    conn.exec("CREATE TEMP TABLE unit_err (a int)");
    copy_in_session copy(conn, "COPY unit_err FROM STDIN");
    copy.put("1\n2\nx\n", 6);
    try {
        copy.finish();
        FAIL("no error");
    } catch (const server_error& e) {
        CHECK(e.sqlstate() == "22P02");
        CHECK(e.status() == exit_status::server_error);
        CHECK_THAT(e.what(), Catch::Contains("invalid input syntax for type integer"));
        CHECK_THAT(e.context(), Catch::Contains("line 3"));
        CHECK_FALSE(e.connection_lost());
    }
    CHECK_THROWS_AS(copy_in_session(conn, "COPY no_such_table FROM STDIN"), server_error);
}

TEST_CASE("identifiers and literals are quoted by libpq", "[.][server]") {
    REQUIRE(have_server());
    connection conn = connection::open({});
    CHECK(conn.quote_identifier("We.ird \"name\"") == "\"We.ird \"\"name\"\"\"");
    CHECK(conn.quote_literal("it's") == "'it''s'");
    CHECK_THAT(conn.describe(), Catch::Contains("database \""));
}

TEST_CASE("a failed connection never shows the password") {
    connection_options o;
    o.dbname = "host=127.0.0.1 port=1 user=nobody password=sekrit-pass connect_timeout=2";
    o.prompt = password_prompt::never;
    try {
        connection::open(o);
        FAIL("connected to port 1");
    } catch (const error& e) {
        CHECK(e.status() == exit_status::server_error);
        std::string all = std::string(e.what()) + e.detail() + e.hint();
        CHECK_THAT(all, !Catch::Contains("sekrit"));
    }
}

TEST_CASE("child processes report how they ended") {
    CHECK(run_process({"true"}, "/dev/null").ok());
    process_result r = run_process({"sh", "-c", "exit 3"}, "/dev/null");
    CHECK(r.exit_code == 3);
    CHECK(describe(r) == "exited with status 3");
    CHECK(run_process({"sh", "-c", "kill -9 $$"}, "/dev/null").signal == 9);
    CHECK_THROWS_WITH(run_process({"/nonexistent/program"}, "/dev/null"), Catch::Contains("could not run"));
}
