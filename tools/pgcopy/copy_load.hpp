// pgcopy's entry: validate, connect, read the facts, plan, then run the
// plan (routed, or the engine), each step once.
#pragma once

#include "copy_options.hpp"
#include "load_facts.hpp"
#include "load_plan.hpp"
#include "core/stats.hpp"

namespace pgpipe {

/// The steps of a load, each taken once and in this order by run_copy:
/// validate, connect (a TABLE to plan for), peek (when needs_input_facts),
/// read_table (a TABLE), then run with the plan. pgcopy's own take them
/// for real; a test may count them.
class load_steps {
public:
    virtual ~load_steps() = default;
    /// Checks every rule on the options (validate_copy_load).
    virtual void validate(const copy_load_options& options) = 0;
    /// Opens the one connection planning reads the catalog over.
    virtual void connect(const copy_load_options& options) = 0;
    /// Opens the first input and looks at its first bytes, kept for the load.
    virtual input_facts peek(const copy_load_options& options) = 0;
    /// Reads what the plan needs of the table over the connection.
    virtual table_facts read_table(const copy_load_options& options, const input_facts& input) = 0;
    /// Loads as the plan says, handing on the connection and the opened input.
    virtual load_summary run(const copy_load_options& options, load_plan plan) = 0;
    /// Before the load starts: --stats still says what happened.
    virtual void failed(const copy_load_options& options, const error& e) = 0;
};

/// Plans the load with steps and runs it: validate, connect, facts, plan,
/// run. Throws error after writing --stats when a step before the load fails.
load_summary run_copy(const copy_load_options& options, load_steps& steps);

/// Loads every input into `COPY table FROM STDIN` (or routes it to the
/// shards), all in one transaction unless a batch option, --fast or
/// --restore says otherwise; prints the summary, writes --stats, and
/// returns what was loaded. Throws error (local or server) after rolling
/// back; the error's detail says what was and was not committed.
load_summary run_copy(const copy_load_options& options);

} // namespace pgpipe
