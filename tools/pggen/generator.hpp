// pggen's generators: what makes a column's values, and the grammar naming them.
#pragma once

#include "pg/pg_types.hpp"
#include "pg/row_writer.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgpipe {

/// Random numbers for one cell: a pure function of (stream key, row), so a
/// value never depends on the rows before it (shards, --start, seeds).
class cell_rng {
public:
    /// The generator for row of the column whose stream key is key.
    cell_rng(uint64_t key, uint64_t row) noexcept : m_state(key ^ (row * 0x9E3779B97F4A7C15ULL)) {}
    /// 64 random bits (splitmix64).
    uint64_t next() noexcept {
        uint64_t z = (m_state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1).
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform integer in [lo, hi].
    int64_t between(int64_t lo, int64_t hi) noexcept {
        uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
        if (span == 0)
            return static_cast<int64_t>(next());
        return lo + static_cast<int64_t>(static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * span) >> 64));
    }

private:
    uint64_t m_state;
};

/// The rows a generation covers, which some checks need (seq's range).
struct row_range {
    uint64_t first = 1; ///< first row number
    uint64_t last = 0;  ///< last row number (inclusive)
};

/// Makes one column's values.
class generator {
public:
    virtual ~generator() = default;
    /// The kind of value it makes (array for arrays).
    virtual value_kind kind() const = 0;
    /// Makes the value of row; views in out stay valid until the next call.
    virtual void generate(uint64_t row, cell_rng& rng, value& out) = 0;
    /// Whether distinct rows always get distinct values.
    virtual bool unique() const { return false; }
    /// For integer generators: the smallest and largest value over rows.
    virtual std::optional<std::pair<int64_t, int64_t>> int_range(const row_range&) const { return std::nullopt; }
    /// For decimal generators: digits after the point.
    virtual int32_t scale() const { return 0; }
    /// For decimal generators: the largest magnitude (as mantissa).
    virtual std::optional<int64_t> max_magnitude(const row_range&) const { return std::nullopt; }
    /// For strings: the most characters a value has (0: unbounded).
    virtual size_t max_chars(const row_range&) const { return 0; }
    /// For arrays: the element generator.
    virtual const generator* element() const { return nullptr; }
    /// The column type this generator suggests when none is known.
    virtual column_type default_type(const row_range& rows) const;
    /// The spec text it was made from.
    const std::string& spec() const noexcept { return m_spec; }
    /// Records the spec text (set by the parser).
    void set_spec(std::string spec) { m_spec = std::move(spec); }

private:
    std::string m_spec;
};

/// How a generator's name may be written in a spec.
enum class generator_spelling {
    call,         ///< only with parentheses: int(1,10)
    call_or_bare, ///< also without, where its defaults do: seq, seq(5)
    bare,         ///< only without: null
};

/// One generator name of the spec grammar. GENERATORS in pggen(1) and the
/// bash completion list the same names (tests/unit/generator_test.cpp).
struct generator_info {
    std::string_view name;       ///< as a spec writes it
    int min_args;                ///< the fewest arguments in parentheses
    int max_args;                ///< the most; -1: any number
    generator_spelling spelling; ///< with or without parentheses
    std::string_view synopsis;   ///< the heading of its entry in pggen(1), as rendered
};

/// Every generator name, in the order of pggen(1).
const std::vector<generator_info>& generator_table();

/// Parses a generator spec ("int(1,100,zipf)", "'user_{i}'", "words(1,5)|null(0.1)").
/// column names the column in messages. Throws local_error.
std::unique_ptr<generator> parse_generator(std::string_view spec, const std::string& column);

/// A generator that draws from a fixed set of integers (foreign keys).
std::unique_ptr<generator> make_int_pick(std::vector<int64_t> values);
/// A generator that draws from a fixed set of strings (foreign keys, enums).
std::unique_ptr<generator> make_string_pick(std::vector<std::string> values);

/// Checks that gen's values fit type (range, length, scale, kind); throws
/// local_error naming the column.
void check_generator_fits(const generator& gen, const column_type& type, const std::string& column,
                          const row_range& rows);

/// 10^n for 0 <= n <= 18: the mantissa of one unit at scale n.
inline int64_t power_of_ten(int32_t n) noexcept {
    int64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/// FNV-1a of text: a hash that stays the same across builds and platforms,
/// for stream keys that must not change between versions.
inline uint64_t stable_hash(std::string_view text) noexcept {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text)
        h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

/// The built-in word list of words(...).
const std::vector<std::string_view>& word_list();

} // namespace pgpipe
