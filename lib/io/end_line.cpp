// The end line's refusals, worded once for pgcopy and pgrec.
#include "io/end_line.hpp"

namespace pgpipe {

error missing_end_line(const std::string& input) {
    return local_error(input + ": ended without its end line \\. (--require-end)",
                       "its producer did not say it finished: it died, failed or was cut off before its last line",
                       "a producer writes \\. as its last line only when it succeeded: "
                       "(app && echo '\\.') | …; pggen and pgrec write it with --end-line");
}

error data_after_end_line(const std::string& input, uint64_t line, uint64_t end_line) {
    return local_error(input + ":" + std::to_string(line) + ": data after the end line \\. at line " +
                           std::to_string(end_line),
                       "the end line says the input is complete: nothing may follow it");
}

} // namespace pgpipe
