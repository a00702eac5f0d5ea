// fd_write: the one loop that writes a whole buffer to a descriptor.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgpipe {

/// Writes all of data to fd, going on after short writes and EINTR (calling
/// on_eintr first, which may throw to stop). Returns 0, or the errno of the
/// write that failed, for the caller to judge: stderr gives up quietly, an
/// output stream calls EPIPE a broken pipe, a reject file stops the load.
int write_fully(int fd, const char* data, size_t size, void (*on_eintr)() = nullptr);

/// write_fully, throwing local_error `could not write "NAME": REASON` on failure.
void write_all(int fd, std::string_view data, const std::string& name);

} // namespace pgpipe
