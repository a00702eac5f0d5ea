# bash completion for pgreport(1)                          -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgreport --help" each time, so
# this file cannot fall behind the program. Table names for -t come from the
# database named on the command line (or by PG* variables), when it answers
# within two seconds; otherwise nothing is offered. After "--" the first word
# is a command and the rest are its files. Nothing is ever printed.

# _pgreport__dequote WORD [tilde]: sets REPLY to WORD without its shell
# quoting. Nothing is evaluated: $ and ` stay as they are. With "tilde", a
# leading ~ or ~/ becomes $HOME.
_pgreport__dequote()
{
    local word=$1 out= c q=
    local -i i n=${#word}
    for ((i = 0; i < n; i++)); do
        c=${word:i:1}
        if [[ $q == "'" ]]; then
            if [[ $c == "'" ]]; then q=; else out+=$c; fi
        elif [[ $q == '"' ]]; then
            if [[ $c == '"' ]]; then
                q=
            elif [[ $c == '\' ]] && ((i + 1 < n)) && [[ ${word:i+1:1} == [\"\\\$\`] ]]; then
                out+=${word:i+1:1}
                i+=1
            else
                out+=$c
            fi
        else
            case $c in
            "'" | '"') q=$c ;;
            '\')
                if ((i + 1 < n)); then
                    out+=${word:i+1:1}
                    i+=1
                fi
                ;;
            *) out+=$c ;;
            esac
        fi
    done
    if [[ ${2-} == tilde && ( $out == '~' || $out == '~/'* ) ]]; then
        out=${HOME-}${out:1}
    fi
    REPLY=$out
}

# _pgreport__psql SQL: runs SQL with the connection options gathered from the
# command line (array _pgreport_conn) and prints the rows, tab-separated.
# Never prompts for a password, gives up after two seconds, prints no errors.
_pgreport__psql()
{
    type -P psql >/dev/null 2>&1 || return 1
    PGCONNECT_TIMEOUT=2 command psql -X -A -t -q -w -F $'\t' \
        "${_pgreport_conn[@]}" -c "$1" </dev/null 2>/dev/null
}

# _pgreport__add_matches PREFIX CANDIDATE...: appends to COMPREPLY each
# candidate that starts with PREFIX.
_pgreport__add_matches()
{
    local prefix=$1 c
    shift
    for c in "$@"; do
        [[ $c == "$prefix"* ]] && COMPREPLY+=("$c")
    done
    return 0
}

# _pgreport__note_conn OPTION VALUE: keeps a connection option for psql.
_pgreport__note_conn()
{
    case $1 in
    -d | --dbname) _pgreport_conn+=(-d "$2") ;;
    -h | --host) _pgreport_conn+=(-h "$2") ;;
    -p | --port) _pgreport_conn+=(-p "$2") ;;
    -U | --username) _pgreport_conn+=(-U "$2") ;;
    esac
}

# _pgreport__table_matches TYPED NAME: whether NAME (as SQL quotes it) starts
# with TYPED, or would without its double quotes: "Mix" finds "Mixed Case".
_pgreport__table_matches()
{
    [[ $2 == "$1"* ]] && return 0
    [[ $1 == *\"* ]] && return 1
    local plain=${2//\"\"/$'\1'}
    plain=${plain//\"/}
    plain=${plain//$'\1'/\"}
    [[ $plain == "$1"* ]]
}

# _pgreport__tables TYPED: the tables pgreport can report on (those of
# pg_stat_user_tables), by bare name when in the search path, else qualified.
_pgreport__tables()
{
    local want=$1 visible schema name
    local sql="SELECT pg_catalog.pg_table_is_visible(c.oid)::int,
        pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(c.relname)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND c.relname !~ '[[:cntrl:]]' AND n.nspname !~ '[[:cntrl:]]'"
    while IFS=$'\t' read -r visible schema name; do
        [[ -n $name ]] || continue
        if [[ $visible == 1 && $want != *.* ]]; then
            _pgreport__table_matches "$want" "$name" && COMPREPLY+=("$name")
        elif _pgreport__table_matches "$want" "$schema.$name"; then
            COMPREPLY+=("$schema.$name")
        fi
    done < <(_pgreport__psql "$sql")
    return 0
}

_pgreport__databases()
{
    local want=$1 name
    # Without a database of its own, psql would try one named after the user,
    # which often does not exist: ask "postgres" for the list instead.
    if [[ -z ${PGDATABASE-} && -z ${PGSERVICE-} ]]; then
        local had_d= w
        for w in "${_pgreport_conn[@]}"; do [[ $w == -d ]] && had_d=1; done
        [[ -n $had_d ]] || _pgreport_conn+=(-d postgres)
    fi
    while IFS= read -r name; do
        [[ -n $name && $name == "$want"* ]] && COMPREPLY+=("$name")
    done < <(_pgreport__psql "SELECT datname FROM pg_catalog.pg_database
        WHERE datallowconn AND NOT datistemplate AND datname !~ '[[:cntrl:]]'")
    return 0
}

# _pgreport__files WORD RAW [json]: file names. WORD is the word dequoted,
# RAW as readline will replace it (for _filedir, which quotes by itself).
# With "json", snapshot files (*.json) and directories come first; any file
# is offered when no such name matches.
_pgreport__files()
{
    local f
    if [[ $1 == "$2" ]] && declare -F _filedir >/dev/null 2>&1; then
        local cur=$2
        if [[ ${3-} == json ]]; then
            _filedir json || :
            ((${#COMPREPLY[@]})) && return 0
        fi
        _filedir || :
        return 0
    fi
    compopt -o filenames 2>/dev/null || :
    if [[ ${3-} == json ]]; then
        while IFS= read -r f; do
            COMPREPLY+=("$f")
        done < <(compgen -f -X '!*.[Jj][Ss][Oo][Nn]' -- "$1" 2>/dev/null
            compgen -d -- "$1" 2>/dev/null)
        ((${#COMPREPLY[@]})) && return 0
    fi
    while IFS= read -r f; do
        COMPREPLY+=("$f")
    done < <(compgen -f -- "$1" 2>/dev/null)
    return 0
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

_pgreport()
{
    COMPREPLY=()
    local -a words=() longs=() shorts=() _pgreport_conn=()
    local line=${COMP_LINE-} t help valued=" " REPLY
    local -i cword=${COMP_CWORD-0} pos=0 i spaced
    line=${line:0:${COMP_POINT-${#line}}}

    # Join what bash split at "=", ":" and the like back into the words the
    # program will see, using the spacing of the line itself.
    for ((i = 0; i <= cword; i++)); do
        t=${COMP_WORDS[i]-}
        spaced=0
        while [[ ${line:pos:1} == [$' \t\n'] ]]; do
            pos+=1
            spaced=1
        done
        ((i == cword)) && t=${line:pos}
        if [[ ${line:pos:${#t}} != "$t" ]]; then
            # The line does not look as expected: trust bash's words.
            words=("${COMP_WORDS[@]:0:cword+1}")
            t=${COMP_WORDS[cword]-}
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

    # readline replaces only the text after the last word-break character.
    local breaks=${COMP_WORDBREAKS-}
    breaks=${breaks//[$' \t\n\'"']/}
    local tail=$cur
    if [[ -n $breaks ]]; then
        while [[ $tail == *[$breaks]* ]]; do
            tail=${tail#*[$breaks]}
        done
    fi
    local keep=${cur:0:${#cur}-${#tail}}

    # The program itself, as typed: its --help lists the options.
    _pgreport__dequote "${words[0]-pgreport}" tilde
    local prog=$REPLY
    [[ $prog == */* && -x $prog ]] || prog=pgreport
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

    # Walk the words before the cursor: find the command word (snapshot,
    # diff, watch) and count its arguments, keep the connection options,
    # see whether the word under the cursor is an option's value, and find
    # the "--" of wrap mode (the words after it belong to the command).
    local w opt= value letter verb=
    local -i args=0 j wrapped=-1
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if ((wrapped >= 0)); then
            break
        fi
        case $w in
        --)
            wrapped=$((i + 1))
            ;;
        --*=*)
            _pgreport__dequote "${w#*=}" tilde
            _pgreport__note_conn "${w%%=*}" "$REPLY"
            ;;
        --*)
            if [[ $valued == *" $w "* ]]; then
                if ((i + 1 == cword)); then
                    opt=$w
                    break
                fi
                i+=1
                _pgreport__dequote "${words[i]}" tilde
                _pgreport__note_conn "$w" "$REPLY"
            fi
            ;;
        -?*)
            # A cluster of short options; a valued one takes the rest of
            # the word, or the next word.
            for ((j = 1; j < ${#w}; j++)); do
                letter=-${w:j:1}
                [[ $valued == *" $letter "* ]] || continue
                if ((j + 1 < ${#w})); then
                    _pgreport__dequote "${w:j+1}" tilde
                    _pgreport__note_conn "$letter" "$REPLY"
                elif ((i + 1 == cword)); then
                    opt=$letter
                else
                    i+=1
                    _pgreport__dequote "${words[i]}" tilde
                    _pgreport__note_conn "$letter" "$REPLY"
                fi
                break
            done
            [[ -n $opt ]] && break
            ;;
        *)
            if [[ -z $verb ]]; then
                _pgreport__dequote "$w"
                verb=$REPLY
            else
                args+=1
            fi
            ;;
        esac
    done

    # Wrap mode: a command, then its arguments, taken as files.
    if ((wrapped >= 0)); then
        _pgreport__dequote "$cur" tilde
        if ((cword == wrapped)); then
            _pgreport__commands "$REPLY"
        elif [[ -z $keep ]]; then
            _pgreport__files "$REPLY" "$cur"
        else
            _pgreport__files "$REPLY" "$tail"
            local -a all=("${COMPREPLY[@]}")
            COMPREPLY=()
            for t in "${all[@]}"; do
                [[ $t == "$keep"* ]] && COMPREPLY+=("${t#"$keep"}")
            done
        fi
        return 0
    fi

    # An option's value in the word itself: --format=js, -tord.
    local prefix=
    if [[ -z $opt ]]; then
        if [[ $cur == --?*=* ]]; then
            opt=${cur%%=*}
            prefix=$opt=
        elif [[ $cur == -[[:alnum:]]?* && $valued == *" ${cur:0:2} "* ]]; then
            opt=${cur:0:2}
            prefix=$opt
        fi
    fi

    if [[ -n $opt ]]; then
        local raw=${cur#"$prefix"}
        _pgreport__dequote "$raw"
        value=$REPLY
        case $opt in
        --format)
            _pgreport__add_matches "$value" text json tsv
            ;;
        -o | --output)
            _pgreport__dequote "$raw" tilde
            _pgreport__files "$REPLY" "$raw"
            ;;
        -t | --table)
            _pgreport__tables "$value"
            for t in "${COMPREPLY[@]}"; do
                if [[ $t == *[^[:alnum:]_.]* ]]; then
                    compopt -o filenames 2>/dev/null || :
                    break
                fi
            done
            ;;
        -d | --dbname)
            _pgreport__databases "$value"
            ;;
        -h | --host)
            if [[ $value == [/.~]* ]]; then
                compopt -o filenames 2>/dev/null || :
                _pgreport__dequote "$raw" tilde
                while IFS= read -r t; do COMPREPLY+=("$t"); done \
                    < <(compgen -d -- "$REPLY" 2>/dev/null)
            else
                while IFS= read -r t; do COMPREPLY+=("$t"); done \
                    < <(compgen -A hostname -- "$value" 2>/dev/null)
            fi
            ;;
        -U | --username)
            while IFS= read -r t; do COMPREPLY+=("$t"); done \
                < <(compgen -A user -- "$value" 2>/dev/null)
            ;;
        *)
            # Seconds, counts, ports: nothing sensible to offer.
            return 0
            ;;
        esac
        # Put back what was typed before the value (-t), and leave out what
        # readline keeps (up to the last "=" or ":").
        if [[ -n $prefix || -n $keep ]]; then
            local -a all=("${COMPREPLY[@]}")
            COMPREPLY=()
            for t in "${all[@]}"; do
                t=$prefix$t
                [[ $t == "$keep"* ]] && COMPREPLY+=("${t#"$keep"}")
            done
        fi
        return 0
    fi

    if [[ $cur == -* ]]; then
        _pgreport__add_matches "$cur" "${longs[@]}"
        if [[ $cur == - ]]; then
            COMPREPLY+=("${shorts[@]}")
        elif [[ " ${shorts[*]} " == *" $cur "* ]]; then
            COMPREPLY+=("$cur")
        fi
        # "--" starts wrap mode, which takes only options before it.
        [[ -z $verb && ( $cur == - || $cur == -- ) ]] && COMPREPLY+=(--)
        return 0
    fi

    _pgreport__dequote "$cur" tilde
    case $verb in
    '')
        _pgreport__add_matches "$REPLY" snapshot diff watch
        ;;
    diff)
        # BEFORE and AFTER: snapshot files.
        if ((args < 2)); then
            if [[ -z $keep ]]; then
                _pgreport__files "$REPLY" "$cur" json
            else
                _pgreport__files "$REPLY" "$tail" json
                local -a all=("${COMPREPLY[@]}")
                COMPREPLY=()
                for t in "${all[@]}"; do
                    [[ $t == "$keep"* ]] && COMPREPLY+=("${t#"$keep"}")
                done
            fi
        fi
        ;;
    esac
    return 0
}

complete -F _pgreport pgreport
