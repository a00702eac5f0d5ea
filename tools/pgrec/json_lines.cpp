// pgrec's input: a bad line into the reject file shared with pgcopy, in its log format.
#include "json_lines.hpp"

namespace pgpipe {

void reject_line(reject_sink& sink, const input_line& line, const std::string& why) {
    std::string raw(line.text);
    raw += '\n';
    sink.append(raw, reject_sink::log_line(line.input, line.number, std::to_string(line.offset), "", why, ""));
}

} // namespace pgpipe
