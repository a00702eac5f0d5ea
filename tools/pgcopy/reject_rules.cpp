// reject_rules: --max-rejects, judged the same way by the batched and the routed loads.
#include "reject_rules.hpp"

#include <sstream>

namespace pgpipe {

bool over_max_rejects(const copy_load_options& o, uint64_t rejected, uint64_t seen, bool at_batch_end) {
    if (!o.rejects.max)
        return false;
    if (!o.rejects.max_percent)
        return static_cast<double>(rejected) > *o.rejects.max;
    return at_batch_end && seen && static_cast<double>(rejected) * 100.0 > *o.rejects.max * static_cast<double>(seen);
}

error max_rejects_stop(const copy_load_options& o, uint64_t rejected, const std::string& committed,
                       const std::string& batch_from) {
    std::ostringstream limit; // as given: 0.05% is not 0%
    limit << *o.rejects.max << (o.rejects.max_percent ? "%" : "");
    return error(exit_status::rows_rejected,
                 "stopped: " + std::to_string(rejected) + " rows rejected, more than --max-rejects " + limit.str(),
                 committed + "; the batch from " + batch_from + " was rolled back",
                 "see " + o.rejects.file + ".log for the rejected rows");
}

} // namespace pgpipe
