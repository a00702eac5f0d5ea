// Row counts (pggen -n, pgcopy --batch-rows, pginsert --batch, pgrec --block,
// pgreport --count): exact to the last digit, and a count that is only too
// large says so, with the maximum.
#include "core/error.hpp"
#include "io/output.hpp"

#include <catch2/catch.hpp>

using namespace pgpipe;

TEST_CASE("row counts are exact up to a bigint's maximum") {
    CHECK(parse_count("9223372036854775807") == 9223372036854775807ULL);
    CHECK(parse_count("9007199254740993") == 9007199254740993ULL); // past a double's 2^53
    CHECK(parse_count("9223372036854775k") == 9223372036854775000ULL);
    CHECK(parse_count("9.2e18") == 9200000000000000000ULL);
    CHECK(parse_count("3G") == 3000000000ULL);
}

TEST_CASE("a count that is only too large says so, with the maximum") {
    for (const char* big : {"99999999999999999999999", "9223372036854775808", "18446744073709551616",
                            "9223372036854776k", "9300000000G", "1e19", "1e30", "1e400", "2.5e20M"})
        CHECK_THROWS_WITH(parse_count(big), std::string("invalid row count \"") + big +
                                                "\": too large (the maximum is 9223372036854775807)");
    CHECK_THROWS_WITH(parse_count("1.5"), Catch::Contains("not a whole number"));
    CHECK_THROWS_WITH(parse_count("0.5k1"), Catch::Equals("invalid row count \"0.5k1\""));
    for (const char* bad : {"-1", "inf", "nan", "lots", "", "k", "1e-400"})
        CHECK_THROWS_AS(parse_count(bad), error);
}
