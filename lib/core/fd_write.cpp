// fd_write: whole writes to a descriptor, short writes and EINTR retried.
#include "core/fd_write.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace pgpipe {

int write_fully(int fd, const char* data, size_t size, void (*on_eintr)()) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno != EINTR)
                return errno;
            if (on_eintr)
                on_eintr();
            continue;
        }
        if (n == 0)
            return EIO; // a descriptor that takes nothing would loop for ever
        data += n;
        size -= static_cast<size_t>(n);
    }
    return 0;
}

void write_all(int fd, std::string_view data, const std::string& name) {
    if (int err = write_fully(fd, data.data(), data.size()))
        throw local_error("could not write \"" + name + "\": " + std::strerror(err));
}

} // namespace pgpipe
