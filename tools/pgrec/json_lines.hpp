// pgrec's input: JSON lines read one by one, with their place, and the bad ones set aside.
#pragma once

#include "core/interrupt.hpp"
#include "io/end_line.hpp"
#include "io/input.hpp"
#include "io/reject_sink.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace pgpipe {

/// A line of input (without its newline, nor a CR before it) and where it is.
struct input_line {
    std::string_view text;   ///< the line
    const std::string& input; ///< the input's name in messages
    uint64_t number;         ///< 1-based
    uint64_t offset;         ///< bytes before it in the input (after decompression)
};

/// Calls handle(input_line) for every line of in that is not blank, and
/// after_chunk() after each chunk read. An end line \. ends the input
/// (nothing may follow it); require_end: the input must end with one.
template <typename Handle, typename AfterChunk>
void for_each_line(input_stream& in, bool require_end, Handle&& handle, AfterChunk&& after_chunk) {
    std::string chunk(1 << 20, '\0'), carry;
    uint64_t number = 0, base = 0, line_start = 0;
    end_line_watch end(in.name(), require_end);
    auto one = [&](std::string_view line) {
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos && !end.take(number, line))
            handle(input_line{line, in.name(), number, line_start});
    };
    while (size_t n = in.read(chunk.data(), chunk.size())) {
        throw_if_interrupted();
        std::string_view data(chunk.data(), n);
        size_t from = 0;
        for (size_t nl; (nl = data.find('\n', from)) != std::string_view::npos; from = nl + 1) {
            if (!carry.empty()) {
                carry.append(data.substr(from, nl - from));
                one(carry);
                carry.clear();
            } else {
                one(data.substr(from, nl - from));
            }
            line_start = base + nl + 1;
        }
        carry.append(data.substr(from));
        base += n;
        after_chunk();
    }
    if (!carry.empty())
        one(carry);
    end.finish();
}

/// Sets a bad line aside: the line in the reject file as it was read (so
/// that the file is JSON lines again), and in FILE.log its input, line,
/// byte offset and why, under an empty SQLSTATE (no server judged it).
/// Throws local_error when the files cannot be written.
void reject_line(reject_sink& sink, const input_line& line, const std::string& why);

} // namespace pgpipe
