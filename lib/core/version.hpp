// The family's version, printed by --version.
#pragma once

namespace pgpipe {

/// The version every pgpipe program reports with --version.
inline constexpr const char* version = "0.1.0";

} // namespace pgpipe
