# bash completion for pgsandbox(1)                         -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgsandbox --help" each time, so
# this file cannot fall behind the program. Nothing is ever printed.

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
    local line=${COMP_LINE-} t help valued=" "
    local -i cword=${COMP_CWORD-0} pos=0 i spaced

    # Join what bash split at "=" back into the words the program will see,
    # using the spacing of the line itself.
    line=${line:0:${COMP_POINT-${#line}}}
    for ((i = 0; i <= cword; i++)); do
        t=${COMP_WORDS[i]-}
        spaced=0
        while [[ ${line:pos:1} == [$' \t\n'] ]]; do
            pos+=1
            spaced=1
        done
        ((i == cword)) && t=${line:pos}
        if [[ ${line:pos:${#t}} != "$t" ]]; then
            words=("${COMP_WORDS[@]:0:cword+1}")
            break
        fi
        pos+=${#t}
        if ((i > 0 && !spaced)); then
            words[${#words[@]}-1]+=$t
        else
            words+=("$t")
        fi
    done
    cword=${#words[@]}-1
    local cur=${words[cword]-}

    # The program itself, as typed: its --help lists the options.
    local prog=${words[0]-pgsandbox}
    [[ $prog == '~/'* ]] && prog=${HOME-}${prog:1}
    [[ $prog == */* && -x $prog ]] || prog=pgsandbox
    help=$(command "$prog" --help 2>/dev/null </dev/null) || help=
    local re='^[[:space:]]+(-([[:alnum:]]),[[:space:]]+)?(--[[:alnum:]][[:alnum:]-]*)(=[^[:space:]]+)?'
    while IFS= read -r t; do
        [[ $t =~ $re ]] || continue
        longs+=("${BASH_REMATCH[3]}")
        [[ -n ${BASH_REMATCH[2]} ]] && shorts+=("-${BASH_REMATCH[2]}")
        if [[ -n ${BASH_REMATCH[4]} ]]; then
            valued+="${BASH_REMATCH[3]} "
            [[ -n ${BASH_REMATCH[2]} ]] && valued+="-${BASH_REMATCH[2]} "
        fi
    done <<<"$help"

    # The words before the cursor that are not options: the command, then
    # its directory.
    local w opt= after_dashes=
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $after_dashes ]]; then
            args+=("$w")
            continue
        fi
        case $w in
        --) after_dashes=1 ;;
        --*=*) ;;
        -*)
            if [[ $valued == *" $w "* ]]; then
                if ((i + 1 == cword)); then
                    opt=$w
                    break
                fi
                i+=1
            fi
            ;;
        *) args+=("$w") ;;
        esac
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
        for t in "${longs[@]}"; do
            [[ $t == "$cur"* ]] && COMPREPLY+=("$t")
        done
        if [[ $cur == - ]]; then
            COMPREPLY+=("${shorts[@]}")
        elif [[ " ${shorts[*]} " == *" $cur "* ]]; then
            COMPREPLY+=("$cur")
        fi
        return 0
    fi

    case ${#args[@]} in
    0)
        for t in start stop status; do
            [[ $t == "$cur"* ]] && COMPREPLY+=("$t")
        done
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
