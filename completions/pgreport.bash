# bash completion for pgreport(1)                          -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgreport --help" each time, so
# this file cannot fall behind the program. Table names for -t come from the
# database named on the command line (or by PG* variables), when it answers
# within two seconds; otherwise nothing is offered. After "--" the first word
# is a command and the rest are its files. Nothing is ever printed.

# The shared helpers lie next to this file; without them, no completion.
declare -F _pgpipe_begin >/dev/null 2>&1 ||
    { [[ -r $(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash ]] &&
        . "$(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash" >/dev/null 2>&1; } || :
declare -F _pgpipe_begin >/dev/null 2>&1 || return 0

# _pgreport__snapshots WORD RAW: file names (see _pgpipe_files), snapshot
# files (*.json) and directories first; any file is offered when no such
# name matches.
_pgreport__snapshots()
{
    local f
    if [[ $1 == "$2" ]] && declare -F _filedir >/dev/null 2>&1; then
        local cur=$2
        _filedir json || :
        ((${#COMPREPLY[@]})) && return 0
    else
        while IFS= read -r f; do
            COMPREPLY+=("$f")
        done < <(compgen -f -X '!*.[Jj][Ss][Oo][Nn]' -- "$1" 2>/dev/null
            compgen -d -- "$1" 2>/dev/null)
        if ((${#COMPREPLY[@]})); then
            compopt -o filenames 2>/dev/null || :
            return 0
        fi
    fi
    _pgpipe_files "$1" "$2"
}

# _pgreport__commands WORD: command names for the word after "--".
_pgreport__commands()
{
    local c
    [[ $1 == */* ]] && compopt -o filenames 2>/dev/null
    while IFS= read -r c; do
        COMPREPLY+=("$c")
    done < <(compgen -c -- "$1" 2>/dev/null | LC_ALL=C sort -u)
    return 0
}

# _pgreport__value: the value of the option opt (see _pgpipe_option_word).
_pgreport__value()
{
    case $opt in
    --format)
        _pgpipe_add_matches "$value" text json tsv
        ;;
    -o | --output)
        _pgpipe_dequote "$raw" tilde
        _pgpipe_files "$REPLY" "$raw"
        ;;
    -t | --table)
        # The tables pgreport can report on (those of pg_stat_user_tables).
        _pgpipe_tables "$value" "'r', 'p', 'm'"
        _pgpipe_quote_names
        ;;
    *)
        # Seconds, counts, ports: nothing sensible to offer.
        return 1
        ;;
    esac
    return 0
}

_pgreport()
{
    local -a words=() longs=() shorts=() args=() _pgpipe_conn=()
    local cur tail keep prog valued=" " opt= after_dashes= prefix= raw= value REPLY w verb=
    local -i cword nargs=0
    _pgpipe_begin pgreport

    # Walk the words before the cursor: keep the connection options, see
    # whether the word under the cursor is an option's value, and find the
    # "--" of wrap mode (the words after it belong to the command).
    _pgpipe_walk

    # Wrap mode: a command, then its arguments, taken as files.
    if [[ -n $after_dashes ]]; then
        _pgpipe_dequote "$cur" tilde
        if ((cword == after_dashes + 1)); then
            _pgreport__commands "$REPLY"
        else
            _pgpipe_files "$REPLY" "$tail"
            _pgpipe_put_back "" "$keep"
        fi
        return 0
    fi

    # The command word (snapshot, diff, watch), then its arguments.
    for w in "${args[@]}"; do
        if [[ -z $verb ]]; then
            _pgpipe_dequote "$w"
            verb=$REPLY
        else
            nargs+=1
        fi
    done

    # An option's value, also in the word itself (--format=js, -tord), or
    # an option.
    if _pgpipe_option_word _pgreport__value '--?*=*'; then
        # "--" starts wrap mode, which takes only options before it.
        [[ -z $opt && -z $verb && ( $cur == - || $cur == -- ) ]] && COMPREPLY+=(--)
        return 0
    fi

    _pgpipe_dequote "$cur" tilde
    case $verb in
    '')
        _pgpipe_add_matches "$REPLY" snapshot diff watch
        ;;
    diff)
        # BEFORE and AFTER: snapshot files.
        if ((nargs < 2)); then
            _pgreport__snapshots "$REPLY" "$tail"
            _pgpipe_put_back "" "$keep"
        fi
        ;;
    esac
    return 0
}

complete -F _pgreport pgreport
