// check_generator_fits: whether a generator's values fit a column's type.
#include "generator.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace pgpipe {
namespace {

// One generator against one column type, and how to refuse it.
struct fit_check {
    const generator& gen;
    const column_type& type;
    const std::string& column;
    const row_range& rows;

    [[noreturn]] void refuse(const std::string& why) const {
        throw local_error("column " + column + ": generator \"" + gen.spec() + "\" does not fit type " + type.name +
                              ": " + why,
                          {}, "give the column another generator (see GENERATORS in pggen(1))");
    }
    bool textual() const {
        return type.base == pg_type::text || type.base == pg_type::varchar || type.base == pg_type::bpchar;
    }
    // Only varchar(n) and char(n) have a length to exceed.
    void check_length(size_t chars) const {
        if ((type.base == pg_type::varchar || type.base == pg_type::bpchar) && type.length > 0 &&
            chars > static_cast<size_t>(type.length))
            refuse("values up to " + std::to_string(chars) + " characters, the column holds " +
                   std::to_string(type.length));
    }
};

void integer_within(const fit_check& c, int64_t lo, int64_t hi) {
    auto range = c.gen.int_range(c.rows);
    if (range && (range->first < lo || range->second > hi))
        c.refuse("values from " + std::to_string(range->first) + " to " + std::to_string(range->second) +
                 ", the column holds " + std::to_string(lo) + " to " + std::to_string(hi));
}

// Integers into int2, int4, numeric(p,s) and varchar(n); int8 and the
// floating-point types take any.
void integer_limits(const fit_check& c) {
    const column_type& type = c.type;
    auto range = c.gen.int_range(c.rows);
    if (type.base == pg_type::int2) {
        integer_within(c, std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max());
    } else if (type.base == pg_type::int4) {
        integer_within(c, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    } else if (type.base == pg_type::numeric) {
        if (type.precision > 0 && range && type.precision - type.scale < 19) {
            int64_t largest = std::max(std::abs(range->first), std::abs(range->second));
            if (largest >= power_of_ten(type.precision - type.scale))
                c.refuse("values up to " + std::to_string(largest) + " need more than " +
                         std::to_string(type.precision - type.scale) + " integer digits");
        }
    } else if (c.textual() && range) {
        c.check_length(std::max(std::to_string(range->first).size(), std::to_string(range->second).size()));
    }
}

// Decimals into numeric(p,s): not more decimals, nor more integer digits.
void decimal_limits(const fit_check& c) {
    const column_type& type = c.type;
    if (type.base != pg_type::numeric)
        return;
    if (type.scale >= 0 && c.gen.scale() > type.scale)
        c.refuse("values with " + std::to_string(c.gen.scale()) + " decimals, the column keeps " +
                 std::to_string(type.scale));
    auto magnitude = c.gen.max_magnitude(c.rows);
    if (type.precision > 0 && magnitude && type.precision - type.scale < 19 &&
        *magnitude / power_of_ten(c.gen.scale()) >= power_of_ten(type.precision - type.scale))
        c.refuse("values too large for " + std::to_string(type.precision - type.scale) + " integer digits");
}

void string_limits(const fit_check& c) {
    if (!c.textual())
        return;
    size_t chars = c.gen.max_chars(c.rows);
    if (chars)
        c.check_length(chars);
}

// Which column types take one kind of value.
struct fit_rule {
    value_kind kind;
    std::vector<pg_type> types;       // take the values
    bool textual;                     // text, varchar and char take their text form too
    const char* makes;                // the refusal's reason
    void (*limits)(const fit_check&); // then: whether the values stay within the type's bounds
};

const std::vector<fit_rule>& fit_rules() {
    using enum pg_type;
    // A string constant like '{}' may go into json: the server checks that it is JSON.
    static const std::vector<fit_rule> rules = {
        {value_kind::integer, {int2, int4, int8, numeric, float4, float8}, true, "it makes integers", integer_limits},
        {value_kind::decimal, {numeric, float4, float8}, true, "it makes decimal numbers", decimal_limits},
        {value_kind::real, {float4, float8}, true, "it makes floating-point numbers", nullptr},
        {value_kind::boolean, {boolean}, true, "it makes booleans", nullptr},
        {value_kind::string, {enumeration, bytea, json, jsonb}, true, "it makes text", string_limits},
        {value_kind::bytes, {bytea}, false, "it makes bytes", nullptr},
        {value_kind::date, {date, timestamp, timestamptz}, true, "it makes dates", nullptr},
        {value_kind::timestamp, {timestamp, timestamptz}, true, "it makes timestamps", nullptr},
        {value_kind::time, {time}, true, "it makes times of day", nullptr},
        {value_kind::interval, {interval}, true, "it makes intervals", nullptr},
        {value_kind::uuid, {uuid}, true, "it makes UUIDs", nullptr},
        {value_kind::json, {json, jsonb}, true, "it makes JSON", nullptr},
    };
    return rules;
}

} // namespace

void check_generator_fits(const generator& gen, const column_type& type, const std::string& column,
                          const row_range& rows) {
    const fit_check c{gen, type, column, rows};
    value_kind k = gen.kind();
    if (k == value_kind::null)
        return;
    if (type.is_array != (k == value_kind::array)) {
        if (type.is_array)
            c.refuse("the column is an array; use array(GENERATOR, MIN, MAX)");
        if (!(type.base == pg_type::text || type.base == pg_type::varchar))
            c.refuse("arrays go into array columns");
    }
    if (k == value_kind::array) {
        if (!type.is_array)
            return; // an array's text form in a text column
        column_type element = type;
        element.is_array = false;
        check_generator_fits(*gen.element(), element, column, rows);
        return;
    }
    for (const auto& rule : fit_rules()) {
        if (rule.kind != k)
            continue;
        bool takes = std::find(rule.types.begin(), rule.types.end(), type.base) != rule.types.end();
        if (!takes && !(rule.textual && c.textual()))
            c.refuse(rule.makes);
        if (rule.limits)
            rule.limits(c);
        return;
    }
}

} // namespace pgpipe
