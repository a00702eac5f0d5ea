// -d strings that libpq refuses, and failed connections: the messages name
// the problem but never the password, whole or in pieces.
#include "pg/connection.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace pgpipe;

namespace {

// The message of the error check_connection_string throws, or "" if none.
std::string refusal(const std::string& dbname) {
    try {
        check_connection_string(dbname);
    } catch (const error& e) {
        CHECK(e.status() == exit_status::local_error);
        return std::string(e.what()) + "\n" + e.detail() + "\n" + e.hint();
    }
    return {};
}

} // namespace

TEST_CASE("a -d string libpq refuses is named without any part of it") {
    const std::pair<const char*, const char*> cases[] = {
        {"postgresql://u:SECRET@[::1/db", "matching \"]\" in IPv6 host address in URI"},
        {"postgresql://u:SECRET@[::1]x/db", "unexpected character at position 28 in URI"},
        {"postgresql://u:SECRET%zz@h/db", "invalid percent-encoded token"},
        {"postgresql://u:SECRET%00@h/db", "forbidden value %00 in percent-encoded value"},
        {"postgresql://u:SECRET@h/db?SECRET", "missing key/value separator \"=\" in URI query parameter"},
        {"postgresql://u:SECRET@h/db?SECRET=1", "invalid URI query parameter"},
        {"postgresql://u:SECRET@h/db?a==SECRET", "extra key/value separator"},
        {"postgresql://u:SECRET@[]/db", "IPv6 host address may not be empty"},
        {"password=SECRET host='x", "unterminated quoted string"},
        {"password=SECRET bogus=1", "invalid connection option"},
        {"host=h password=my SECRET", "missing \"=\" after a word"},
    };
    for (const auto& [dbname, reason] : cases) {
        INFO(dbname);
        std::string message = refusal(dbname);
        CHECK_THAT(message, Catch::StartsWith("invalid connection string given with -d: "));
        CHECK_THAT(message, Catch::Contains(reason));
        CHECK_THAT(message, !Catch::Contains("SECRET") && !Catch::Contains("CRET"));
    }
}

TEST_CASE("names and strings libpq accepts pass the check") {
    for (const char* ok : {"shop", "my@db", "postgresql://u:SECRET@h:5432/db?sslmode=require",
                           "host=h password='my secret' dbname=x", "postgres://"})
        CHECK(refusal(ok).empty());
}

TEST_CASE("failure messages lose every quoted piece of a password") {
    CHECK(redact_connection_message("invalid integer value \"SECRET\" for connection option \"port\"",
                                    "postgresql://u:SECRET/x@127.0.0.1:1/db", "") ==
          "invalid integer value \"...\" for connection option \"port\"");
    CHECK(redact_connection_message("could not translate host name \"RET@h\" to address",
                                    "postgresql://u:SEC@RET@h/db", "") ==
          "could not translate host name \"...\" to address");
    CHECK(redact_connection_message("FATAL:  database \"postgresql://u:SECRET@h/db\" does not exist",
                                    "dbname=postgresql://u:SECRET@h/db host=/tmp", "") ==
          "FATAL:  database \"...\" does not exist");
    CHECK(redact_connection_message("FATAL:  database \"postgresql:/u:SECRET@h\" does not exist",
                                    "postgresql:/u:SECRET@h", "") == "FATAL:  database \"...\" does not exist");
    CHECK(redact_connection_message("invalid sslmode value: \"SECRET\"", "sslmode=SECRET password=SECRET", "") ==
          "invalid sslmode value: \"...\"");
    // Percent-encoded in the URI, decoded in the message; and typed at the prompt.
    CHECK(redact_connection_message("x \"SE/CRET\" y", "postgresql://u:SE%2FCRET@h/db", "") == "x \"...\" y");
    CHECK(redact_connection_message("unquoted typed-pw here", "shop", "typed-pw") == "unquoted ... here");
    // What holds no secret stays, so that the message still says where.
    const std::string refused = "connection to server at \"127.0.0.1\", port 1 failed: Connection refused";
    CHECK(redact_connection_message(refused, "postgresql://u:SECRET@127.0.0.1:1/db", "") == refused);
    CHECK(redact_connection_message("database \"shop\" does not exist", "shop", "") ==
          "database \"shop\" does not exist");
}
