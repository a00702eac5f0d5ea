// What every part of a routed load reads and none changes: options, routing plan, login, encoding, inputs, sizes.
#pragma once

#include "copy_options.hpp"
#include "route_plan.hpp"
#include "io/input.hpp"
#include "io/row_splitter.hpp"
#include "pg/connection.hpp"

#include <string>
#include <vector>

namespace pgpipe {

/// The routed load as start fixed it, once the load's shape is known and
/// before the first destination connects; handed to the destinations, the
/// reader and the unit committer as `const route_context&`.
struct route_context {
    const copy_load_options& options; ///< as the user gave them
    const routing& plan;              ///< the table, its key and destinations
    std::vector<std::string> inputs;  ///< as given; "-" is stdin
    connection_options login;         ///< the coordinator's, as destination 0 connects
    std::string client_encoding;      ///< every destination's: the coordinator's
    std::string shape_text;           ///< what each --resume-key record holds of the load (resume_record.hpp)
    marker_rules markers;             ///< the coordinator's rules for \. lines
    bool batched = false;             ///< batch options: each batch is a unit; else the load is one
    uint64_t batch_bytes = 0, batch_rows = 0; ///< a piece is cut at whichever comes first

    /// Whether the rows are CSV (the server counts a quoted newline as a line of CONTEXT).
    bool csv() const { return options.format.format == copy_format::csv; }
    /// "input:line" of an input's line.
    std::string where(size_t input, uint64_t line) const {
        return input_display_name(inputs[input]) + ":" + std::to_string(line);
    }
};

} // namespace pgpipe
