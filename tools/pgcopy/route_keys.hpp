// Partition keys as pgcopy routes them: reading a key's text, PostgreSQL's partition hash, bounds.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// The key types pgcopy routes, each compared and hashed as the server's
/// default operator classes do.
enum class key_kind { int2, int4, int8, date, timestamp, text, uuid };

/// The key kind of a PostgreSQL type name (pg_type.typname), if pgcopy routes it.
std::optional<key_kind> key_kind_of(std::string_view type_name);

/// One key value: a number (integers, days since 2000-01-01, microseconds
/// since 2000-01-01 00:00) or bytes (text in the server's encoding, a uuid's
/// 16 bytes), or NULL.
struct key_value {
    bool null = false;
    int64_t number = 0;
    std::string bytes;
};

/// Reads the text of a key (COPY escapes undone) as the server's input
/// function would; false when pgcopy cannot be sure of the value the server
/// would read (the row then goes through the parent table, where the server
/// decides). Reuses out's buffer.
bool parse_key(key_kind kind, std::string_view text, key_value& out);

/// Orders two non-null keys of one kind as the server's btree operator class
/// does (text: byte order, which is the "C" collation's).
int compare_keys(key_kind kind, const key_value& a, const key_value& b);

/// PostgreSQL's hash_bytes_extended (lookup3, little-endian word order).
uint64_t pg_hash_bytes_extended(const unsigned char* data, size_t size, uint64_t seed);
/// PostgreSQL's hash_bytes_uint32_extended.
uint64_t pg_hash_uint32_extended(uint32_t value, uint64_t seed);
/// compute_partition_hash_value for a one-column key: the row hash whose
/// remainder by a hash partition's modulus picks the partition. A NULL key hashes to 0.
uint64_t partition_hash(key_kind kind, const key_value& key);

/// A partition's bound, as the server states it in pg_get_expr(relpartbound).
struct partition_bound {
    enum class strategy { range, list, hash, fallback } kind = strategy::fallback; // fallback: DEFAULT
    std::optional<key_value> lower, upper; // range: absent means MINVALUE / MAXVALUE
    std::vector<key_value> values;         // list (a NULL value admits NULL keys)
    uint64_t modulus = 0, remainder = 0;   // hash
    /// Whether a key belongs to this partition (never true for DEFAULT).
    bool admits(key_kind kind, const key_value& key, uint64_t hash) const;
};

/// Parses "FOR VALUES FROM (…) TO (…)", "FOR VALUES IN (…)", "FOR VALUES
/// WITH (modulus m, remainder r)" or "DEFAULT" for a one-column key; nullopt
/// (with why) when a value cannot be read as KIND.
std::optional<partition_bound> parse_partition_bound(std::string_view text, key_kind kind, std::string& why);

} // namespace pgpipe
