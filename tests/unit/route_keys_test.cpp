// Routing keys: reading key text as the server would, PostgreSQL's hashes, partition bounds.
#include "pgcopy/route_keys.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace pgpipe;

namespace {

constexpr uint64_t seed = 0x7A5B22367996DCFDull; // HASH_PARTITION_SEED

uint64_t text_hash(const char* s, uint64_t with = seed) {
    return pg_hash_bytes_extended(reinterpret_cast<const unsigned char*>(s), std::strlen(s), with);
}

key_value key(key_kind kind, const char* text) {
    key_value k;
    REQUIRE(parse_key(kind, text, k));
    return k;
}

} // namespace

// The expected values are PostgreSQL 15's own, from hashint8extended,
// hashint4extended, hashtextextended and uuid_hash_extended with the seed
// (printed as bigint, so negative ones are written as their two's complement).
TEST_CASE("the hashes equal the server's") {
    CHECK(static_cast<int64_t>(pg_hash_uint32_extended(42, seed)) == 7363975540656877951);
    CHECK(static_cast<int64_t>(text_hash("hello world, a longer text")) == 5352327044692902834);
    CHECK(static_cast<int64_t>(text_hash("")) == -5700645584453517373);
    CHECK(static_cast<int64_t>(text_hash("abc", 0)) == -6747756470228489321);
    key_value u = key(key_kind::uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK(static_cast<int64_t>(pg_hash_bytes_extended(reinterpret_cast<const unsigned char*>(u.bytes.data()), 16,
                                                      seed)) == 424513190990560493);
    // A one-column key's row hash is hash_combine64(0, h) = h + 0x49a0f4dd15e5a8e3
    // (the constant of PostgreSQL's src/include/common/hashfn.h).
    constexpr uint64_t golden = 0x49a0f4dd15e5a8e3ull;
    const uint64_t h12345 = partition_hash(key_kind::int8, key(key_kind::int8, "12345"));
    const uint64_t h_7 = partition_hash(key_kind::int8, key(key_kind::int8, "-7"));
    CHECK(h12345 == uint64_t{3476363059597467753} + golden);
    CHECK(h_7 == static_cast<uint64_t>(int64_t{-7298374200968567817}) + golden);
    // The remainders PostgreSQL 15's satisfies_hash_partition accepts for
    // these keys in a bigint-keyed table: moduli that do not divide 744 (a
    // constant off by 744 agreed with the server only on those that do).
    CHECK(h12345 % 5 == 1);
    CHECK(h12345 % 16 == 12);
    CHECK(h12345 % 1000 == 316);
    CHECK(h_7 % 5 == 2);
    CHECK(h_7 % 16 == 10);
    CHECK(h_7 % 1000 == 362);
    // The integer types hash alike (hashint2/4/8extended agree on a value).
    CHECK(partition_hash(key_kind::int4, key(key_kind::int4, "12345")) ==
          partition_hash(key_kind::int8, key(key_kind::int8, "12345")));
    key_value null;
    null.null = true;
    CHECK(partition_hash(key_kind::int8, null) == 0); // NULLs are left out of the row hash
}

TEST_CASE("keys are read only when the server would read them the same way") {
    key_value k;
    CHECK(parse_key(key_kind::int2, "-32768", k));
    CHECK(k.number == -32768);
    CHECK_FALSE(parse_key(key_kind::int2, "32768", k)); // out of range: the server decides
    CHECK_FALSE(parse_key(key_kind::int4, " 12", k));   // spaces: through the parent
    CHECK(parse_key(key_kind::int8, "-9223372036854775808", k));
    CHECK(k.number == INT64_MIN);
    CHECK(parse_key(key_kind::date, "2000-01-01", k));
    CHECK(k.number == 0);
    CHECK(parse_key(key_kind::date, "2024-02-29", k));
    CHECK_FALSE(parse_key(key_kind::date, "2023-02-29", k));
    CHECK_FALSE(parse_key(key_kind::date, "infinity", k));
    CHECK(parse_key(key_kind::timestamp, "2000-01-02 00:00:01.5", k));
    CHECK(k.number == 86400 * int64_t{1000000} + 1500000);
    CHECK(parse_key(key_kind::timestamp, "1999-12-31T23:59:59", k));
    CHECK(k.number == -1000000);
    CHECK_FALSE(parse_key(key_kind::timestamp, "2000-01-01 00:00:00+02", k));
    CHECK(parse_key(key_kind::uuid, "A0EEBC999C0B4EF8BB6D6BB9BD380A11", k));
    CHECK(k.bytes.size() == 16);
    CHECK_FALSE(parse_key(key_kind::uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", k));
}

TEST_CASE("bounds are read as pg_get_expr prints them") {
    std::string why;
    auto range = parse_partition_bound("FOR VALUES FROM (MINVALUE) TO ('-5')", key_kind::int4, why);
    REQUIRE(range);
    CHECK_FALSE(range->lower);
    CHECK(range->upper->number == -5);
    CHECK(range->admits(key_kind::int4, key(key_kind::int4, "-6"), 0));
    CHECK_FALSE(range->admits(key_kind::int4, key(key_kind::int4, "-5"), 0)); // the upper bound is exclusive
    auto list = parse_partition_bound("FOR VALUES IN ('it''s', NULL)", key_kind::text, why);
    REQUIRE(list);
    CHECK(list->admits(key_kind::text, key(key_kind::text, "it's"), 0));
    key_value null;
    null.null = true;
    CHECK(list->admits(key_kind::text, null, 0));
    auto hash = parse_partition_bound("FOR VALUES WITH (modulus 4, remainder 3)", key_kind::int8, why);
    REQUIRE(hash);
    CHECK(hash->admits(key_kind::int8, null, 7));
    CHECK_FALSE(hash->admits(key_kind::int8, null, 8));
    CHECK(parse_partition_bound("DEFAULT", key_kind::int8, why)->kind == partition_bound::strategy::fallback);
    CHECK_FALSE(parse_partition_bound("FOR VALUES FROM ('infinity') TO (MAXVALUE)", key_kind::date, why));
    CHECK(why.find("infinity") != std::string::npos);
}
