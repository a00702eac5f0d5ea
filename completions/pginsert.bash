# bash completion for pginsert(1)                          -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pginsert --help" each time, so
# this file cannot fall behind the program. Table and column names come from
# the database named on the command line (or by PG* variables), when it
# answers within two seconds; otherwise nothing is offered. Nothing is ever
# printed.

# The shared helpers lie next to this file; without them, no completion.
declare -F _pgpipe_begin >/dev/null 2>&1 ||
    { [[ -r $(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash ]] &&
        . "$(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash" >/dev/null 2>&1; } || :
declare -F _pgpipe_begin >/dev/null 2>&1 || return 0

# _pginsert__value: the value of the option opt (see _pgpipe_option_word).
_pginsert__value()
{
    case $opt in
    --strategy)
        _pgpipe_add_matches "$value" row txn values pipeline
        ;;
    --stats)
        _pgpipe_files "$value" "$raw"
        ;;
    --on-conflict)
        _pgpipe_add_matches "$value" ignore update
        ;;
    -c | --columns | --conflict-columns)
        _pgpipe_columns "$table" "$value"
        ;;
    *)
        # Batch sizes, ports: nothing sensible to offer.
        return 1
        ;;
    esac
    return 0
}

_pginsert()
{
    _pgpipe_table_command pginsert _pginsert__value
}

complete -F _pginsert pginsert
