// Batch cutting: rows and bytes limits, long rows, the rest at the end.
#include "pgcopy/batch_cut.hpp"

#include <catch2/catch.hpp>

using namespace pgpipe;

TEST_CASE("a batch is cut at its row limit") {
    const std::vector<size_t> starts{0, 10, 20, 30, 40, 50};
    CHECK(rows_to_cut(starts, 2, 1000, false) == 2);
    CHECK(rows_to_cut(starts, 5, 1000, false) == 5);
    CHECK(rows_to_cut(starts, 6, 1000, false) == 0); // not full yet
    CHECK(rows_to_cut(starts, 6, 1000, true) == 5);  // the rest, at the end
}

TEST_CASE("a batch is cut once it holds its bytes") {
    const std::vector<size_t> starts{100, 110, 120, 130, 140};
    CHECK(rows_to_cut(starts, 1000, 25, false) == 3); // 30 bytes: the row that crosses 25 goes in
    CHECK(rows_to_cut(starts, 1000, 20, false) == 2);
    CHECK(rows_to_cut(starts, 1000, 41, false) == 0);
    CHECK(rows_to_cut(starts, 1000, 41, true) == 4);
}

TEST_CASE("a row longer than a batch is a batch of its own") {
    const std::vector<size_t> starts{0, 500, 510};
    CHECK(rows_to_cut(starts, 1000, 100, false) == 1);
    CHECK(rows_to_cut({0}, 10, 10, true) == 0);
    CHECK(rows_to_cut({}, 10, 10, true) == 0);
}
