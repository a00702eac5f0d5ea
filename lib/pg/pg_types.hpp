// The column types pgpipe encodes, and their text and binary forms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgpipe {

/// The column types pgpipe encodes itself (text, CSV and binary).
enum class pg_type : uint8_t {
    boolean, int2, int4, int8, numeric, float4, float8, text, varchar, bpchar, bytea,
    date, time, timestamp, timestamptz, interval, uuid, json, jsonb, enumeration,
};

/// A column's type as far as encoding needs it.
struct column_type {
    pg_type base = pg_type::text; ///< the (element) type
    bool is_array = false;        ///< a one-dimensional array of base
    int32_t length = -1;          ///< varchar(n) / char(n): n; -1 when unlimited
    int32_t precision = -1;       ///< numeric(p, s): p; -1 when unconstrained
    int32_t scale = -1;           ///< numeric(p, s): s; -1 when unconstrained
    uint32_t enum_oid = 0;        ///< for enumeration: the enum type's OID (binary arrays need it)
    std::string name;             ///< as SQL writes it: "numeric(12,4)", "text[]"
};

/// The OID of a base type (for array headers).
uint32_t type_oid(pg_type type);
/// The pgpipe type of a server type OID, if pgpipe handles it.
std::optional<pg_type> type_from_oid(uint32_t oid);
/// Reads a type as SQL writes it ("int", "bigint", "varchar(32)",
/// "numeric(12,4)", "timestamp with time zone", "text[]"). Throws local_error.
column_type parse_type_name(std::string_view text);
/// Fills length/precision/scale from the server's atttypmod.
void apply_typmod(column_type& type, int32_t typmod);
/// The canonical SQL name of a base type ("integer", "text").
const char* type_sql_name(pg_type type);

/// A date's infinity, as the server stores it (days); -infinity is one below its negation.
constexpr int32_t date_infinity = INT32_MAX;
/// A timestamp's infinity, as the server stores it (microseconds); -infinity is one below its negation.
constexpr int64_t timestamp_infinity = INT64_MAX;

/// Days since 2000-01-01 (PostgreSQL's epoch) of a civil date.
int32_t days_from_civil(int64_t year, unsigned month, unsigned day);
/// The civil date of a day count since 2000-01-01.
void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day);
/// Parses "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|±HH[:MM]]" (or with a T) into
/// microseconds since 2000-01-01 00:00 UTC (an offset applied); empty when
/// it is not one, or out of the server's range.
std::optional<int64_t> parse_timestamp_us(std::string_view text);
/// Reads YYYY-MM-DD (a real calendar day, AD, within the server's calendar)
/// at the start of text into days since 2000-01-01; pos is set past it.
bool parse_date_prefix(std::string_view text, size_t& pos, int64_t& days);
/// Reads HH:MM[:SS[.f…]] at pos into microseconds of the day (rounded to
/// microseconds as the server does); moves pos past it.
bool parse_time_of_day(std::string_view text, size_t& pos, int64_t& us);

/// How a date or timestamp text reads: a value, not one, or one beyond the server's range.
enum class time_read { ok, invalid, out_of_range };
/// Reads a date as the server writes it: "2024-02-29", "10000-01-01",
/// "0044-03-15 BC", "infinity", "-infinity"; days since 2000-01-01
/// (date_infinity for infinity). Out of range as the server's date is.
time_read read_date(std::string_view text, int64_t& days);
/// Reads an ISO 8601 / PostgreSQL timestamp: a date as read_date, then
/// optionally T or a space and HH:MM[:SS[.f…]], then optionally Z or
/// ±HH[[:]MM], then optionally " BC" (as the server writes it); or
/// infinity, -infinity. us is microseconds since 2000-01-01 00:00, minus
/// the offset when apply_offset (timestamptz) and the clock reading
/// otherwise (timestamp: the server ignores the offset). Out of range as
/// the server's timestamp is.
time_read read_timestamp(std::string_view text, bool apply_offset, int64_t& us);
/// Characters (not bytes) of UTF-8 text.
size_t utf8_length(std::string_view text);

/// Writes n in decimal; returns the end. Needs 20 bytes.
char* format_int(char* out, int64_t n);
/// Writes mantissa / 10^scale in decimal ("-12.0400"). Needs 24 bytes.
char* format_decimal(char* out, int64_t mantissa, int32_t scale);
/// Writes YYYY-MM-DD (then " BC" before year 1; the year has more digits
/// after 9999), or infinity, -infinity, as the server does. Needs 32 bytes.
char* format_date(char* out, int64_t days);
/// Writes HH:MM:SS[.ffffff]. Needs 16 bytes.
char* format_time(char* out, int64_t us);
/// Writes YYYY-MM-DD HH:MM:SS[.ffffff], then +00 when utc_offset
/// (timestamptz), then " BC" before year 1; or infinity, -infinity, as the
/// server does. Needs 48 bytes.
char* format_timestamp(char* out, int64_t us, bool utc_offset = false);
/// Writes "M mons D days HH:MM:SS[.ffffff]" (parts that are zero left out). Needs 64 bytes.
char* format_interval(char* out, int32_t months, int32_t days, int64_t us);
/// Writes the 36-character form of a UUID.
char* format_uuid(char* out, const uint8_t* bytes);

/// Appends PostgreSQL's binary numeric of mantissa / 10^value_scale, shown
/// with display scale dscale (>= value_scale), as the server writes it.
void append_numeric_binary(std::string& out, int64_t mantissa, int32_t value_scale, int32_t dscale);
/// Whether text is one of numeric's special values as numeric_out spells
/// them: NaN, Infinity, -Infinity.
inline bool is_numeric_special(std::string_view text) {
    return text == "NaN" || text == "Infinity" || text == "-Infinity";
}
/// Appends the binary form of a special value (is_numeric_special): no
/// digits, its sign word saying which (numeric.h's NUMERIC_NAN, _PINF, _NINF).
void append_numeric_special(std::string& out, std::string_view text);

/// Appends the binary numeric of a decimal given as digit strings (no sign,
/// no point), shown with display scale dscale (>= the fraction's length).
void append_numeric_binary_digits(std::string& out, bool negative, std::string_view int_digits,
                                  std::string_view frac_digits, int32_t dscale);

/// A decimal number in plain form: sign, integer digits, fraction digits.
struct plain_decimal {
    bool negative = false;   ///< below zero
    std::string int_digits;  ///< without leading zeros ("" for 0.x)
    std::string frac_digits; ///< as many as the value has
    /// The text form: "-12.50", "0.5".
    std::string text() const;
};

/// Parses a JSON or SQL number ("-1.5e3", "12", ".5") exactly, without a
/// double in between; rounds half away from zero to scale when scale >= 0,
/// as numeric(p,s) does. Empty when it is not a number.
std::optional<plain_decimal> parse_plain_decimal(std::string_view text, int32_t scale = -1);

/// Whether bytes can go into a COPY text or CSV field as they are: not
/// empty, no control bytes, no backslash, quote or comma. Producers of
/// strings that are always plain say so once instead of every row.
bool is_plain_text(std::string_view bytes);

/// Appends bytes escaped for the COPY text format (\\ \t \n \r \b \f \v).
void append_copy_text_escaped(std::string& out, std::string_view bytes);
/// Appends a CSV field, quoted when it must be (delimiter, quote, CR, LF,
/// empty, or \. alone) with quotes doubled.
void append_csv_field(std::string& out, std::string_view bytes, char delimiter = ',');

} // namespace pgpipe
