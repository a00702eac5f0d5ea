# bash completion for pgsandbox(1)                         -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgsandbox --help" each time, so
# this file cannot fall behind the program. Nothing is ever printed.

# The shared helpers lie next to this file; without them, no completion.
declare -F _pgpipe_begin >/dev/null 2>&1 ||
    { [[ -r $(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash ]] &&
        . "$(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash" >/dev/null 2>&1; } || :
declare -F _pgpipe_begin >/dev/null 2>&1 || return 0

# _pgsandbox__dirs WORD: appends to COMPREPLY the directories that start
# with WORD (as typed, quotes and all).
_pgsandbox__dirs()
{
    local cur=$1 d
    if declare -F _filedir >/dev/null 2>&1; then
        _filedir -d || :
        return 0
    fi
    compopt -o filenames 2>/dev/null || :
    # A simple dequote is enough here: compgen needs the bare path.
    cur=${cur//\\/}
    cur=${cur#[\"\']}
    cur=${cur%[\"\']}
    while IFS= read -r d; do
        COMPREPLY+=("$d")
    done < <(compgen -d -- "$cur" 2>/dev/null)
    return 0
}

_pgsandbox()
{
    COMPREPLY=()
    local -a words=() longs=() shorts=() args=()
    local cur tail keep prog valued=" " w opt= after_dashes=
    local -i cword i
    _pgpipe_words

    # The program itself, as typed: its --help lists the options.
    prog=${words[0]-pgsandbox}
    [[ $prog == '~/'* ]] && prog=${HOME-}${prog:1}
    [[ $prog == */* && -x $prog ]] || prog=pgsandbox
    _pgpipe_help "$prog"

    # The words before the cursor that are not options: the command, then
    # its directory.
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $after_dashes || $w != -* ]]; then
            args+=("$w")
        elif [[ $w == -- ]]; then
            after_dashes=1
        elif [[ $w != --*=* && $valued == *" $w "* ]]; then
            # An option's value: the next word, or the one under the cursor.
            if ((i + 1 == cword)); then
                opt=$w
                break
            fi
            i+=1
        fi
    done

    # --bindir DIR, --bindir=DIR: a directory with initdb and pg_ctl.
    if [[ -z $opt && -z $after_dashes && $cur == --*=* ]]; then
        opt=${cur%%=*}
        cur=${cur#*=}
    fi
    if [[ -n $opt ]]; then
        case $opt in
        --bindir) _pgsandbox__dirs "$cur" ;;
        esac
        return 0
    fi

    if [[ -z $after_dashes && $cur == -* ]]; then
        _pgpipe_offer_options
        return 0
    fi

    case ${#args[@]} in
    0)
        _pgpipe_add_matches "$cur" start stop status
        ;;
    1)
        case ${args[0]} in
        start | stop | status) _pgsandbox__dirs "$cur" ;;
        esac
        ;;
    esac
    return 0
}

complete -F _pgsandbox pgsandbox
