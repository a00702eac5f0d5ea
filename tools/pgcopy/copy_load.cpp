// pgcopy's entry: the options validated once, one connection to plan over,
// one look at the first input, one plan, handed to the engine.
#include "copy_load.hpp"

#include "batch_load.hpp"
#include "copy_rules.hpp"
#include "deferral.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"

#include <unistd.h>

namespace pgpipe {
namespace {

// pgcopy --restore TABLE: what an interrupted deferring load left off TABLE goes back.
load_summary run_restore(const copy_load_options& o) {
    validate_copy_load(o);
    connection conn = connection::open(o.connection);
    log_info(restore_deferred(conn, o.table));
    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = o.table;
    summary.committed = true;
    summary.verb = "restored";
    return summary;
}

// pgcopy's own steps: the connection and the opened first input are kept
// from planning for the load.
class pgcopy_steps final : public load_steps {
public:
    void validate(const copy_load_options& o) override { validate_copy_load(o); }

    void connect(const copy_load_options& o) override { m_conn.emplace(connection::open(o.connection)); }

    input_facts peek(const copy_load_options& o) override {
        say_if_terminal(o);
        return peek_first_input(o, m_first);
    }

    table_facts read_table(const copy_load_options& o, const input_facts& input) override {
        table_facts t = read_table_facts(*m_conn, o, input);
        m_routing = std::move(t.routing.plan);
        return t;
    }

    load_summary run(const copy_load_options& o, load_plan plan) override {
        if (m_conn) { // the engine's connections log in as this one did, and this one is not kept idle
            plan.login = m_conn->same_login(o.connection);
            m_conn.reset();
        }
        if (plan.one_transaction.value)
            say_if_terminal(o);
        return run_batched_copy(o, plan, std::move(m_first), plan.routed.value ? &*m_routing : nullptr);
    }

    void failed(const copy_load_options& o, const error& e) override {
        load_summary failed;
        failed.program = std::string(program_name());
        failed.target = o.table;
        failed.error = e.what();
        write_stats_file(o.stats_file, failed);
    }

private:
    // Rows typed at a terminal: say how to end them, once.
    void say_if_terminal(const copy_load_options& o) {
        const bool terminal = (o.inputs.empty() || (o.inputs.size() == 1 && o.inputs[0] == "-")) && isatty(STDIN_FILENO);
        if (!m_said && !quiet() && terminal && !o.batched())
            log_info("reading rows from the terminal; end them with Ctrl-D");
        m_said = true;
    }

    std::optional<connection> m_conn;
    std::unique_ptr<input_stream> m_first;
    std::optional<routing> m_routing;
    bool m_said = false;
};

// Without TABLE (or --script) every input must be a script stream: the
// first is looked at before connecting, so that a forgotten TABLE costs no connection.
void check_script_without_table(const copy_load_options& o, const input_facts& input) {
    if (o.format.format != copy_format::text || !input.script_line)
        throw local_error("no table given, and " + input.first_name + " is not a script stream",
                          "a script stream starts with a line \"COPY table [(columns)] FROM stdin;\"",
                          "name the table to load: pgcopy TABLE [FILE]...");
}

// Validate, connect, the facts, the plan: everything before the load.
load_plan plan_with(const copy_load_options& o, load_steps& steps) {
    steps.validate(o);
    const bool table = !o.table.empty();
    if (table)
        steps.connect(o);
    const input_facts input = needs_input_facts(o) ? steps.peek(o) : stat_inputs(o);
    if (!table && !o.script)
        check_script_without_table(o, input);
    const table_facts facts = table ? steps.read_table(o, input) : table_facts{};
    load_plan plan = plan_load(o, facts, input);
    if (facts.routing.applies && !plan.routed.value)
        log_info(plan.routed.reason);
    throw_if_interrupted();
    return plan;
}

} // namespace

load_summary run_copy(const copy_load_options& o, load_steps& steps) {
    load_plan plan;
    try {
        plan = plan_with(o, steps);
    } catch (const error& e) {
        steps.failed(o, e);
        throw;
    }
    return steps.run(o, std::move(plan));
}

load_summary run_copy(const copy_load_options& o) {
    if (o.restore)
        return run_restore(o);
    pgcopy_steps steps;
    return run_copy(o, steps);
}

} // namespace pgpipe
