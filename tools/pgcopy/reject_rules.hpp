// reject_rules: the rules of rejects that every pgcopy load keeps, batched or routed.
#pragma once

#include "copy_options.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <string>

namespace pgpipe {

/// The reject log's message and detail of a \. line before the end of an
/// input, rejected (SQLSTATE 22P04) so that the rows after it load.
inline constexpr const char* early_marker_message = "end-of-data marker \\. before the end of the input";
inline constexpr const char* early_marker_detail = "the server would stop reading there; the rows after it were loaded";
/// The reject log's messages and detail of a \. line the server refuses
/// (SQLSTATE 22P04), rejected whole so that the rows after it load: its
/// line end is not the input's first line's, or (18) data precedes it.
inline constexpr const char* marker_newline_message = "end-of-copy marker does not match previous newline style";
inline constexpr const char* marker_not_alone_message = "end-of-copy marker is not alone on its line";
inline constexpr const char* refused_marker_detail = "the server refuses such a line; the rows after it were loaded";

/// Whether rejected rows are more than --max-rejects allows (never when it
/// is not given). A percentage is judged on whole batches only
/// (at_batch_end), of the rows seen: those of the committed batches and of
/// the one being loaded. One bad row early on is not 100% of the load.
bool over_max_rejects(const copy_load_options& o, uint64_t rejected, uint64_t seen, bool at_batch_end);

/// The stop past --max-rejects, before the crossing batch commits:
/// committed says what the load committed so far, batch_from is FILE:LINE
/// of that batch's first row.
error max_rejects_stop(const copy_load_options& o, uint64_t rejected, const std::string& committed,
                       const std::string& batch_from);

} // namespace pgpipe
