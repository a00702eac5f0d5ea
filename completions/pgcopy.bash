# bash completion for pgcopy(1)                            -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgcopy --help" each time, so
# this file cannot fall behind the program. Table names, and the column
# names of the table on the line for --conflict-columns, come from the
# database named on the command line (or by PG* variables), when it answers
# within two seconds; otherwise nothing is offered. Nothing is ever printed.

# _pgcopy__dequote WORD [tilde]: sets REPLY to WORD without its shell quoting.
# Nothing is evaluated: $ and ` stay as they are. With "tilde", a leading
# ~ or ~/ becomes $HOME.
_pgcopy__dequote()
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

# _pgcopy__psql SQL: runs SQL with the connection options gathered from the
# command line (array _pgcopy_conn) and prints the rows, tab-separated.
# Never prompts for a password, gives up after two seconds, prints no errors.
_pgcopy__psql()
{
    type -P psql >/dev/null 2>&1 || return 1
    PGCONNECT_TIMEOUT=2 command psql -X -A -t -q -w -F $'\t' \
        "${_pgcopy_conn[@]}" -c "$1" </dev/null 2>/dev/null
}

# _pgcopy__add_matches PREFIX CANDIDATE...: appends to COMPREPLY each
# candidate that starts with PREFIX.
_pgcopy__add_matches()
{
    local prefix=$1 c
    shift
    for c in "$@"; do
        [[ $c == "$prefix"* ]] && COMPREPLY+=("$c")
    done
    return 0
}

# _pgcopy__note_conn OPTION VALUE: keeps a connection option for psql.
_pgcopy__note_conn()
{
    case $1 in
    -d | --dbname) _pgcopy_conn+=(-d "$2") ;;
    -h | --host) _pgcopy_conn+=(-h "$2") ;;
    -p | --port) _pgcopy_conn+=(-p "$2") ;;
    -U | --username) _pgcopy_conn+=(-U "$2") ;;
    esac
}

_pgcopy__tables()
{
    local want=$1 line visible schema name
    local sql="SELECT pg_catalog.pg_table_is_visible(c.oid)::int,
        pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(c.relname)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND c.relname !~ '[[:cntrl:]]' AND n.nspname !~ '[[:cntrl:]]'"
    while IFS=$'\t' read -r visible schema name; do
        [[ -n $name ]] || continue
        # Tables in the search path by their bare name; every table by its
        # qualified name once a dot was typed, and always for the others.
        if [[ $visible == 1 && $want != *.* ]]; then
            _pgcopy__table_matches "$want" "$name" && COMPREPLY+=("$name")
        elif _pgcopy__table_matches "$want" "$schema.$name"; then
            COMPREPLY+=("$schema.$name")
        fi
    done < <(_pgcopy__psql "$sql")
    return 0
}

# _pgcopy__table_matches TYPED NAME: whether NAME (as SQL quotes it) starts
# with TYPED, or would without its double quotes: "Mix" finds "Mixed Case".
_pgcopy__table_matches()
{
    [[ $2 == "$1"* ]] && return 0
    [[ $1 == *\"* ]] && return 1
    local plain=${2//\"\"/$'\1'}
    plain=${plain//\"/}
    plain=${plain//$'\1'/\"}
    [[ $plain == "$1"* ]]
}

_pgcopy__databases()
{
    local want=$1 name
    # Without a database of its own, psql would try one named after the user,
    # which often does not exist: ask "postgres" for the list instead.
    if [[ -z ${PGDATABASE-} && -z ${PGSERVICE-} ]]; then
        local had_d= w
        for w in "${_pgcopy_conn[@]}"; do [[ $w == -d ]] && had_d=1; done
        [[ -n $had_d ]] || _pgcopy_conn+=(-d postgres)
    fi
    while IFS= read -r name; do
        [[ -n $name && $name == "$want"* ]] && COMPREPLY+=("$name")
    done < <(_pgcopy__psql "SELECT datname FROM pg_catalog.pg_database
        WHERE datallowconn AND NOT datistemplate AND datname !~ '[[:cntrl:]]'")
    return 0
}

_pgcopy__files()
{
    # $1: the word to complete, dequoted; $2: its raw form as readline
    # will replace it (for _filedir, which quotes by itself).
    local cur=$2
    if [[ $1 == "$2" ]] && declare -F _filedir >/dev/null 2>&1; then
        _filedir || :
        return 0
    fi
    compopt -o filenames 2>/dev/null || :
    local f
    while IFS= read -r f; do
        COMPREPLY+=("$f")
    done < <(compgen -f -- "$1" 2>/dev/null)
    return 0
}

# _pgcopy__columns TABLE TYPED: column names of TABLE (as SQL names it,
# maybe schema-qualified) for a comma-separated list. TYPED is the list so
# far; its last item is completed, and columns already listed are left out.
_pgcopy__columns()
{
    local table=$1 typed=$2 head= last name
    [[ -n $table ]] || return 0
    if [[ $typed == *,* ]]; then
        head=${typed%,*},
        last=${typed##*,}
    else
        last=$typed
    fi
    local -a listed=()
    IFS=, read -r -a listed <<<"${head%,}"
    local sql="SELECT pg_catalog.quote_ident(a.attname)
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = pg_catalog.to_regclass('${table//\'/\'\'}')
          AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname !~ '[[:cntrl:]]'
        ORDER BY a.attnum"
    local w seen
    while IFS= read -r name; do
        [[ -n $name ]] || continue
        seen=
        for w in "${listed[@]}"; do
            [[ $w == "$name" ]] && seen=1
        done
        [[ -z $seen ]] || continue
        _pgcopy__table_matches "$last" "$name" && COMPREPLY+=("$head$name")
    done < <(_pgcopy__psql "$sql")
    return 0
}

# _pgcopy__table_after VALUED: when no table was typed before the cursor,
# the first argument after it that is not an option (or an option's
# value) is the table; sets REPLY to it, dequoted, or to nothing. Connection
# options found on the way are kept for psql. VALUED lists the options that
# take a value, as " --opt -o ... ".
_pgcopy__table_after()
{
    local valued=$1 rest=${COMP_LINE-} t gap w glued
    local -i i n=${#COMP_WORDS[@]} p
    local -a after=()
    REPLY=
    rest=${rest:${COMP_POINT-${#rest}}}
    p=0
    # Words after the cursor, joined back where bash split them at "=".
    # The first of them belongs to the word under the cursor unless blank
    # space comes before it.
    glued=1
    for ((i = ${COMP_CWORD-0} + 1; i < n; i++)); do
        t=${COMP_WORDS[i]}
        [[ -n $t ]] || continue
        gap=${rest:p}
        gap=${gap%%"$t"*}
        [[ ${rest:p:${#gap}+${#t}} == "$gap$t" ]] || return 0
        p+=${#gap}+${#t}
        [[ $gap == *[$' \t\n']* ]] && glued=0
        if ((glued)); then
            ((${#after[@]} == 0)) || after[${#after[@]}-1]+=$t
        else
            after+=("$t")
        fi
        glued=1
    done
    local -i k
    for ((k = 0; k < ${#after[@]}; k++)); do
        w=${after[k]}
        case $w in
        --)
            ((k + 1 < ${#after[@]})) && _pgcopy__dequote "${after[k+1]}" && return 0
            REPLY=
            return 0
            ;;
        --*=*)
            _pgcopy__dequote "${w#*=}" tilde
            _pgcopy__note_conn "${w%%=*}" "$REPLY"
            REPLY=
            ;;
        -*)
            if [[ $valued == *" $w "* ]] && ((k + 1 < ${#after[@]})); then
                k+=1
                _pgcopy__dequote "${after[k]}" tilde
                _pgcopy__note_conn "$w" "$REPLY"
                REPLY=
            elif [[ $w != --* && ${#w} -gt 2 && $valued == *" ${w:0:2} "* ]]; then
                _pgcopy__dequote "${w:2}" tilde
                _pgcopy__note_conn "${w:0:2}" "$REPLY"
                REPLY=
            fi
            ;;
        *)
            _pgcopy__dequote "$w"
            return 0
            ;;
        esac
    done
    return 0
}

_pgcopy()
{
    COMPREPLY=()
    local -a words=() longs=() shorts=() _pgcopy_conn=()
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
    _pgcopy__dequote "${words[0]-pgcopy}" tilde
    local prog=$REPLY
    [[ $prog == */* && -x $prog ]] || prog=pgcopy
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

    # Walk the words before the cursor: count the arguments that are not
    # options, keep the connection options, and see whether the word under
    # the cursor is an option's value.
    local w opt= value letter after_dashes= table=
    local -i positional=0 j
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $after_dashes ]]; then
            ((positional == 0)) && _pgcopy__dequote "$w" && table=$REPLY
            positional+=1
            continue
        fi
        case $w in
        --)
            after_dashes=1
            ;;
        --*=*)
            _pgcopy__dequote "${w#*=}" tilde
            _pgcopy__note_conn "${w%%=*}" "$REPLY"
            ;;
        --*)
            if [[ $valued == *" $w "* ]]; then
                if ((i + 1 == cword)); then
                    opt=$w
                    break
                fi
                i+=1
                _pgcopy__dequote "${words[i]}" tilde
                _pgcopy__note_conn "$w" "$REPLY"
            fi
            ;;
        -?*)
            # A cluster of short options; a valued one takes the rest of
            # the word, or the next word.
            for ((j = 1; j < ${#w}; j++)); do
                letter=-${w:j:1}
                [[ $valued == *" $letter "* ]] || continue
                if ((j + 1 < ${#w})); then
                    _pgcopy__dequote "${w:j+1}" tilde
                    _pgcopy__note_conn "$letter" "$REPLY"
                elif ((i + 1 == cword)); then
                    opt=$letter
                else
                    i+=1
                    _pgcopy__dequote "${words[i]}" tilde
                    _pgcopy__note_conn "$letter" "$REPLY"
                fi
                break
            done
            [[ -n $opt ]] && break
            ;;
        *)
            ((positional == 0)) && _pgcopy__dequote "$w" && table=$REPLY
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
        _pgcopy__dequote "$raw"
        value=$REPLY
        case $opt in
        -F | --format)
            _pgcopy__add_matches "$value" text csv binary
            ;;
        -d | --dbname)
            _pgcopy__databases "$value"
            ;;
        -h | --host)
            if [[ $value == [/.~]* ]]; then
                compopt -o filenames 2>/dev/null || :
                _pgcopy__dequote "$raw" tilde
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
        --encoding)
            _pgcopy__add_matches "$value" BIG5 EUC_CN EUC_JIS_2004 EUC_JP \
                EUC_KR EUC_TW GB18030 GBK ISO_8859_5 ISO_8859_6 ISO_8859_7 \
                ISO_8859_8 JOHAB KOI8R KOI8U LATIN1 LATIN2 LATIN3 LATIN4 \
                LATIN5 LATIN6 LATIN7 LATIN8 LATIN9 LATIN10 MULE_INTERNAL \
                SHIFT_JIS_2004 SJIS SQL_ASCII UHC UTF8 WIN866 WIN874 WIN1250 \
                WIN1251 WIN1252 WIN1253 WIN1254 WIN1255 WIN1256 WIN1257 \
                WIN1258
            ;;
        --stats | --reject-file)
            _pgcopy__files "$value" "$raw"
            ;;
        --on-conflict)
            _pgcopy__add_matches "$value" ignore update
            ;;
        --conflict-columns)
            if [[ -z $table ]]; then
                _pgcopy__table_after "$valued"
                table=$REPLY
            fi
            _pgcopy__columns "$table" "$value"
            # Names such as "Created At" need quoting on the command line.
            for t in "${COMPREPLY[@]}"; do
                if [[ $t == *[^[:alnum:]_.,]* ]]; then
                    compopt -o filenames 2>/dev/null || :
                    break
                fi
            done
            ;;
        *)
            # Columns, delimiters, ports: nothing sensible to offer.
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
        _pgcopy__add_matches "$cur" "${longs[@]}"
        if [[ $cur == - ]]; then
            COMPREPLY+=("${shorts[@]}")
        elif [[ " ${shorts[*]} " == *" $cur "* ]]; then
            COMPREPLY+=("$cur")
        fi
        return 0
    fi

    _pgcopy__dequote "$cur"
    if ((positional == 0)); then
        _pgcopy__tables "$REPLY"
        # Names such as s."We.ird ""name""" need quoting on the command
        # line; readline does it when told that these are like file names.
        for t in "${COMPREPLY[@]}"; do
            if [[ $t == *[^[:alnum:]_.]* ]]; then
                compopt -o filenames 2>/dev/null || :
                break
            fi
        done
    elif [[ -z $keep ]]; then
        _pgcopy__files "$REPLY" "$cur"
    else
        _pgcopy__files "$REPLY" "$tail"
        local -a all=("${COMPREPLY[@]}")
        COMPREPLY=()
        for t in "${all[@]}"; do
            [[ $t == "$keep"* ]] && COMPREPLY+=("${t#"$keep"}")
        done
    fi
    return 0
}

complete -F _pgcopy pgcopy
