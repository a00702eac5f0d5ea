#pragma once

#include "pgpipe/copy_format.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pgpipe {

/// Finds where rows end in a COPY stream, chunk by chunk, the way the server
/// will read them: text rows end at a newline that is not escaped by a
/// backslash; CSV rows at a newline outside quotes; binary rows by the tuple
/// framing. State carries over between chunks, so a row may span them.
class row_splitter {
public:
    virtual ~row_splitter() = default;
    /// Scans size more bytes of the stream; appends to ends the offset, from
    /// data, just past each row that ends in them. For binary, the file
    /// header and the trailer are reported as rows of their own (see
    /// header_end and saw_trailer).
    virtual void scan(const char* data, size_t size, std::vector<size_t>& ends) = 0;
    /// At the end of the input: throws local_error (naming offset, the
    /// stream's total size) if it ends inside a binary tuple or header.
    virtual void finish(uint64_t offset) = 0;
    /// Binary: the stream offset just past the file header, once seen (else 0).
    virtual uint64_t header_end() const { return 0; }
    /// Binary: whether the trailer (field count -1) has been seen.
    virtual bool saw_trailer() const { return false; }
};

/// The splitter for a format and its options (CSV quote and escape).
std::unique_ptr<row_splitter> make_row_splitter(const copy_format_options& options);

/// The binary COPY header every stream starts with (signature, flags 0, no extension).
std::string binary_copy_header();
/// The binary COPY trailer.
std::string binary_copy_trailer();

} // namespace pgpipe
