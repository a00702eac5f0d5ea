#pragma once

#include "pgpipe/connection.hpp"
#include "pgpipe/copy_format.hpp"
#include "pgpipe/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// Everything pgcopy was asked to do.
struct copy_load_options {
    connection_options connection;        ///< where to load
    std::string table;                    ///< TABLE as the user wrote it (maybe qualified, maybe quoted)
    std::optional<std::string> columns;   ///< -c: comma-separated column list
    std::vector<std::string> inputs;      ///< files; "-" is stdin
    copy_format_options format;           ///< -F and the CSV/text options
    bool truncate = false;                ///< TRUNCATE first, in the same transaction
    bool freeze = false;                  ///< COPY FREEZE (needs truncate)
    bool show_progress = false;           ///< draw the progress line
    std::string stats_file;               ///< --stats FILE, or empty
};

/// Streams every input into `COPY table FROM STDIN` (one COPY per input, all
/// in one transaction), prints the summary, writes --stats, and returns what
/// was loaded. Throws error (local or server) after rolling back; the error's
/// detail says what was and was not committed.
load_summary run_copy(const copy_load_options& options);

} // namespace pgpipe
