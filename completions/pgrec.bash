# bash completion for pgrec(1)                             -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgrec --help" each time, so
# this file cannot fall behind the program. Table names come from the
# database named on the command line (or by PG* variables), when it answers
# within two seconds; otherwise nothing is offered for them. The inputs
# after the table are files, JSON lines first. Nothing is ever printed.

# Where this file lies: a pgrec that is not in PATH may be found from here.
_pgrec_completion_dir=${BASH_SOURCE[0]%/*}
[[ $_pgrec_completion_dir == "${BASH_SOURCE[0]}" ]] && _pgrec_completion_dir=.

# _pgrec__dequote WORD [tilde]: sets REPLY to WORD without its shell quoting.
# Nothing is evaluated: $ and ` stay as they are. With "tilde", a leading
# ~ or ~/ becomes $HOME.
_pgrec__dequote()
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

# _pgrec__program TYPED: sets REPLY to the pgrec to ask for its options: the
# one typed if it is a path, else the one in PATH, else one next to this file
# (in a source tree or an installed prefix). Empty when there is none.
_pgrec__program()
{
    local typed=$1 p
    REPLY=
    if [[ $typed == */* ]]; then
        [[ -x $typed && ! -d $typed ]] && REPLY=$typed
        return 0
    fi
    if type -P pgrec >/dev/null 2>&1; then
        REPLY=pgrec
        return 0
    fi
    for p in "$_pgrec_completion_dir/../build/bin/pgrec" \
        "$_pgrec_completion_dir/../../../bin/pgrec"; do
        if [[ -x $p && ! -d $p ]]; then
            REPLY=$p
            return 0
        fi
    done
    return 0
}

# _pgrec__psql SQL: runs SQL with the connection options gathered from the
# command line (array _pgrec_conn) and prints the rows, tab-separated.
# Never prompts for a password, gives up after two seconds, prints no errors.
_pgrec__psql()
{
    type -P psql >/dev/null 2>&1 || return 1
    PGCONNECT_TIMEOUT=2 command psql -X -A -t -q -w -F $'\t' \
        "${_pgrec_conn[@]}" -c "$1" </dev/null 2>/dev/null
}

# _pgrec__add_matches PREFIX CANDIDATE...: appends to COMPREPLY each
# candidate that starts with PREFIX.
_pgrec__add_matches()
{
    local prefix=$1 c
    shift
    for c in "$@"; do
        [[ $c == "$prefix"* ]] && COMPREPLY+=("$c")
    done
    return 0
}

# _pgrec__note_conn OPTION VALUE: keeps a connection option for psql.
_pgrec__note_conn()
{
    case $1 in
    -d | --dbname) _pgrec_conn+=(-d "$2") ;;
    -h | --host) _pgrec_conn+=(-h "$2") ;;
    -p | --port) _pgrec_conn+=(-p "$2") ;;
    -U | --username) _pgrec_conn+=(-U "$2") ;;
    esac
}

# _pgrec__table_matches TYPED NAME: whether NAME (as SQL quotes it) starts
# with TYPED, or would without its double quotes: "Mix" finds "Mixed Case".
_pgrec__table_matches()
{
    [[ $2 == "$1"* ]] && return 0
    [[ $1 == *\"* ]] && return 1
    local plain=${2//\"\"/$'\1'}
    plain=${plain//\"/}
    plain=${plain//$'\1'/\"}
    [[ $plain == "$1"* ]]
}

# _pgrec__tables TYPED: the tables that pgrec can write rows for, as SQL
# names them: by their bare name when they are in the search path, else (or
# once a dot was typed) qualified by their schema.
_pgrec__tables()
{
    local want=$1 visible schema name
    local sql="SELECT pg_catalog.pg_table_is_visible(c.oid)::int,
        pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(c.relname)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND c.relname !~ '[[:cntrl:]]' AND n.nspname !~ '[[:cntrl:]]'"
    while IFS=$'\t' read -r visible schema name; do
        [[ -n $name ]] || continue
        if [[ $visible == 1 && $want != *.* ]]; then
            _pgrec__table_matches "$want" "$name" && COMPREPLY+=("$name")
        elif _pgrec__table_matches "$want" "$schema.$name"; then
            COMPREPLY+=("$schema.$name")
        fi
    done < <(_pgrec__psql "$sql")
    return 0
}

_pgrec__databases()
{
    local want=$1 name
    # Without a database of its own, psql would try one named after the user,
    # which often does not exist: ask "postgres" for the list instead.
    if [[ -z ${PGDATABASE-} && -z ${PGSERVICE-} ]]; then
        local had_d= w
        for w in "${_pgrec_conn[@]}"; do [[ $w == -d ]] && had_d=1; done
        [[ -n $had_d ]] || _pgrec_conn+=(-d postgres)
    fi
    while IFS= read -r name; do
        [[ -n $name && $name == "$want"* ]] && COMPREPLY+=("$name")
    done < <(_pgrec__psql "SELECT datname FROM pg_catalog.pg_database
        WHERE datallowconn AND NOT datistemplate AND datname !~ '[[:cntrl:]]'")
    return 0
}

# _pgrec__is_records NAME: whether NAME looks like JSON lines: *.jsonl or
# *.json, maybe compressed (.zst), in any case.
_pgrec__is_records()
{
    local lower=${1,,}
    lower=${lower%.zst}
    [[ $lower == *.jsonl || $lower == *.json ]]
}

# _pgrec__files WORD RAW [records]: file names. WORD is the word dequoted,
# RAW as readline will replace it (for _filedir, which quotes by itself).
# With "records", JSON lines files (*.jsonl, *.json, also .zst) and
# directories come first; any file is offered when no such name matches.
_pgrec__files()
{
    local f
    if [[ $1 == "$2" ]] && declare -F _filedir >/dev/null 2>&1; then
        local cur=$2
        if [[ ${3-} == records ]]; then
            _filedir 'jsonl|json|jsonl.zst|json.zst' || :
            for f in "${COMPREPLY[@]}"; do
                # Directories alone are no reason to hide the other files.
                [[ -d $f ]] || return 0
            done
            COMPREPLY=()
        fi
        _filedir || :
        return 0
    fi
    compopt -o filenames 2>/dev/null || :
    if [[ ${3-} == records ]]; then
        local any=
        while IFS= read -r f; do
            if [[ -d $f ]]; then
                COMPREPLY+=("$f")
            elif _pgrec__is_records "$f"; then
                COMPREPLY+=("$f")
                any=1
            fi
        done < <(compgen -f -- "$1" 2>/dev/null)
        [[ -n $any ]] && return 0
        COMPREPLY=()
    fi
    while IFS= read -r f; do
        COMPREPLY+=("$f")
    done < <(compgen -f -- "$1" 2>/dev/null)
    return 0
}

_pgrec()
{
    COMPREPLY=()
    local -a words=() longs=() shorts=() _pgrec_conn=()
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
    _pgrec__dequote "${words[0]-pgrec}" tilde
    _pgrec__program "$REPLY"
    local prog=$REPLY
    help=
    [[ -n $prog ]] && { help=$(command "$prog" --help 2>/dev/null </dev/null) || help=; }
    # An option starts its line: "  -F, --format=FORMAT" or
    # "      --map=LIST". A description that runs on to the next line,
    # indented further, may mention other options; those lines do not count.
    # "--zstd[=LEVEL]" takes its value only after "=".
    local re='^  (-([[:alnum:]]), |    )(--[[:alnum:]][[:alnum:]-]*)(=[^[:space:]]+)?'
    while IFS= read -r t; do
        [[ $t =~ $re ]] || continue
        [[ " ${longs[*]} " == *" ${BASH_REMATCH[3]} "* ]] && continue
        longs+=("${BASH_REMATCH[3]}")
        [[ -n ${BASH_REMATCH[2]} ]] && shorts+=("-${BASH_REMATCH[2]}")
        if [[ -n ${BASH_REMATCH[4]} ]]; then
            valued+="${BASH_REMATCH[3]} "
            [[ -n ${BASH_REMATCH[2]} ]] && valued+="-${BASH_REMATCH[2]} "
        fi
    done <<<"$help"

    # Walk the words before the cursor: count the arguments that are not
    # options (the first is the table), keep the connection options, and
    # see whether the word under the cursor is an option's value.
    local w opt= value letter after_dashes=
    local -i positional=0 j
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $after_dashes ]]; then
            positional+=1
            continue
        fi
        case $w in
        --)
            after_dashes=1
            ;;
        --*=*)
            _pgrec__dequote "${w#*=}" tilde
            _pgrec__note_conn "${w%%=*}" "$REPLY"
            ;;
        --*)
            if [[ $valued == *" $w "* ]]; then
                if ((i + 1 == cword)); then
                    opt=$w
                    break
                fi
                i+=1
                _pgrec__dequote "${words[i]}" tilde
                _pgrec__note_conn "$w" "$REPLY"
            fi
            ;;
        -?*)
            # A cluster of short options; a valued one takes the rest of
            # the word, or the next word.
            for ((j = 1; j < ${#w}; j++)); do
                letter=-${w:j:1}
                [[ $valued == *" $letter "* ]] || continue
                if ((j + 1 < ${#w})); then
                    _pgrec__dequote "${w:j+1}" tilde
                    _pgrec__note_conn "$letter" "$REPLY"
                elif ((i + 1 == cword)); then
                    opt=$letter
                else
                    i+=1
                    _pgrec__dequote "${words[i]}" tilde
                    _pgrec__note_conn "$letter" "$REPLY"
                fi
                break
            done
            [[ -n $opt ]] && break
            ;;
        *)
            positional+=1
            ;;
        esac
    done

    # An option's value in the word itself: --format=cs, -Fcs.
    local prefix=
    if [[ -z $opt && -z $after_dashes ]]; then
        if [[ $cur == --*=* ]]; then
            opt=${cur%%=*}
            prefix=$opt=
        elif [[ $cur == -[[:alnum:]]?* && $valued == *" ${cur:0:2} "* ]]; then
            opt=${cur:0:2}
            prefix=$opt
        fi
    fi

    if [[ -n $opt ]]; then
        local raw=${cur#"$prefix"}
        _pgrec__dequote "$raw"
        value=$REPLY
        case $opt in
        -F | --format)
            _pgrec__add_matches "$value" text csv binary
            ;;
        --missing)
            _pgrec__add_matches "$value" null error
            ;;
        -d | --dbname)
            _pgrec__databases "$value"
            ;;
        -h | --host)
            if [[ $value == [/.~]* ]]; then
                compopt -o filenames 2>/dev/null || :
                _pgrec__dequote "$raw" tilde
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
        -o | --output | --reject-file | --stats)
            _pgrec__files "$value" "$raw"
            ;;
        *)
            # Column lists, key maps, numbers: nothing sensible to offer.
            return 0
            ;;
        esac
        # Put back what was typed before the value (-F), and leave out what
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

    if [[ -z $after_dashes && $cur == -* ]]; then
        _pgrec__add_matches "$cur" "${longs[@]}"
        if [[ $cur == - ]]; then
            COMPREPLY+=("${shorts[@]}")
        elif [[ " ${shorts[*]} " == *" $cur "* ]]; then
            COMPREPLY+=("$cur")
        fi
        return 0
    fi

    _pgrec__dequote "$cur"
    if ((positional == 0)); then
        _pgrec__tables "$REPLY"
        # Names such as s."We.ird ""name""" need quoting on the command
        # line; readline does it when told that these are like file names.
        for t in "${COMPREPLY[@]}"; do
            if [[ $t == *[^[:alnum:]_.]* ]]; then
                compopt -o filenames 2>/dev/null || :
                break
            fi
        done
    elif [[ -z $keep ]]; then
        _pgrec__files "$REPLY" "$cur" records
    else
        _pgrec__files "$REPLY" "$tail" records
        local -a all=("${COMPREPLY[@]}")
        COMPREPLY=()
        for t in "${all[@]}"; do
            [[ $t == "$keep"* ]] && COMPREPLY+=("${t#"$keep"}")
        done
    fi
    return 0
}

complete -F _pgrec pgrec
