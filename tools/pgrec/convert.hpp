// pgrec's conversions: one JSON value to the value of its column, exactly, by column type.
#pragma once

#include "pg/pg_types.hpp"
#include "pg/row_writer.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// A value (or a record) that does not fit: the message, without the place
/// (the caller adds file, line, key and column).
struct record_error {
    std::string message; ///< e.g. "\"abc\" is not a valid number"
};

/// A column pgrec fills.
struct record_column {
    std::string name;                     ///< as the table names it
    column_type type;                     ///< what its values are converted to
    std::vector<std::string> enum_labels; ///< an enum's labels (empty: not checked)
    bool has_default = false;             ///< a DEFAULT or an identity: what a missing key gets
    bool null_is_json = false;            ///< json/jsonb and --json-null value: a JSON null is JSON's null
};

/// --json-null value: in the json and jsonb columns (not arrays) a JSON
/// null is the JSON value null, as SQLAlchemy stores None by default.
void keep_json_nulls(std::vector<record_column>& columns);

/// Storage for one cell's converted bytes, reused record after record: the
/// value's views point in here.
struct record_cell {
    std::string text;                      ///< numeric text, decoded bytea, json
    std::vector<value> elements;           ///< an array's elements
    std::vector<std::string> element_text; ///< their own bytes
};

/// Converts the JSON value jv to a value of col's type in out (views into
/// store, which must outlive out's use). Throws record_error saying why the
/// value does not fit.
void convert_json_value(simdjson::ondemand::value jv, const record_column& col, value& out, record_cell& store);

/// s without the white space JSON allows after a token.
std::string_view trim_json_space(std::string_view s);

} // namespace pgpipe
