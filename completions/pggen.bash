# bash completion for pggen(1)                             -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pggen --help" and the presets
# from "pggen --list-presets" each time, so this file cannot fall behind the
# program. Table and column names come from the database named on the
# command line (or by PG* variables), when it answers within two seconds;
# otherwise nothing is offered for them. Nothing is ever printed.

# Where this file lies: a pggen that is not in PATH may be found from here.
_pggen_completion_dir=${BASH_SOURCE[0]%/*}
[[ $_pggen_completion_dir == "${BASH_SOURCE[0]}" ]] && _pggen_completion_dir=.

# _pggen__dequote WORD [tilde]: sets REPLY to WORD without its shell quoting.
# Nothing is evaluated: $ and ` stay as they are. With "tilde", a leading
# ~ or ~/ becomes $HOME.
_pggen__dequote()
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

# _pggen__program TYPED: sets REPLY to the pggen to ask for its options: the
# one typed if it is a path, else the one in PATH, else one next to this file
# (in a source tree or an installed prefix). Empty when there is none.
_pggen__program()
{
    local typed=$1 p
    REPLY=
    if [[ $typed == */* ]]; then
        [[ -x $typed && ! -d $typed ]] && REPLY=$typed
        return 0
    fi
    if type -P pggen >/dev/null 2>&1; then
        REPLY=pggen
        return 0
    fi
    for p in "$_pggen_completion_dir/../build/bin/pggen" \
        "$_pggen_completion_dir/../../../bin/pggen"; do
        if [[ -x $p && ! -d $p ]]; then
            REPLY=$p
            return 0
        fi
    done
    return 0
}

# _pggen__psql SQL [NAME=VALUE]...: runs SQL with the connection options
# gathered from the command line (array _pggen_conn), with each NAME set as
# a psql variable for :'NAME' in SQL, and prints the rows, tab-separated.
# Never prompts for a password, gives up after two seconds, prints no errors.
_pggen__psql()
{
    type -P psql >/dev/null 2>&1 || return 1
    local sql=$1 v
    shift
    local -a vars=()
    for v in "$@"; do vars+=(-v "$v"); done
    PGCONNECT_TIMEOUT=2 command psql -X -A -t -q -w -F $'\t' -v ON_ERROR_STOP=1 \
        "${_pggen_conn[@]}" "${vars[@]}" -f - <<<"$sql" 2>/dev/null
}

# _pggen__add_matches PREFIX CANDIDATE...: appends to COMPREPLY each
# candidate that starts with PREFIX.
_pggen__add_matches()
{
    local prefix=$1 c
    shift
    for c in "$@"; do
        [[ $c == "$prefix"* ]] && COMPREPLY+=("$c")
    done
    return 0
}

# _pggen__note_conn OPTION VALUE: keeps a connection option for psql.
_pggen__note_conn()
{
    case $1 in
    -d | --dbname) _pggen_conn+=(-d "$2") ;;
    -h | --host) _pggen_conn+=(-h "$2") ;;
    -p | --port) _pggen_conn+=(-p "$2") ;;
    -U | --username) _pggen_conn+=(-U "$2") ;;
    esac
}

# _pggen__table_matches TYPED NAME: whether NAME (as SQL quotes it) starts
# with TYPED, or would without its double quotes: "Mix" finds "Mixed Case".
_pggen__table_matches()
{
    [[ $2 == "$1"* ]] && return 0
    [[ $1 == *\"* ]] && return 1
    local plain=${2//\"\"/$'\1'}
    plain=${plain//\"/}
    plain=${plain//$'\1'/\"}
    [[ $plain == "$1"* ]]
}

_pggen__tables()
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
        # Tables in the search path by their bare name; every table by its
        # qualified name once a dot was typed, and always for the others.
        if [[ $visible == 1 && $want != *.* ]]; then
            _pggen__table_matches "$want" "$name" && COMPREPLY+=("$name")
        elif _pggen__table_matches "$want" "$schema.$name"; then
            COMPREPLY+=("$schema.$name")
        fi
    done < <(_pggen__psql "$sql")
    return 0
}

# _pggen__spec_names TYPED NAME...: appends NAME= to COMPREPLY for each
# NAME that matches TYPED and has no spec on the line yet (_pggen_given).
_pggen__spec_names()
{
    local want=$1 name
    shift
    for name in "$@"; do
        [[ -n $name ]] || continue
        [[ $_pggen_given == *$'\n'"$name"$'\n'* ]] && continue
        _pggen__table_matches "$want" "$name" && COMPREPLY+=("$name=")
    done
    return 0
}

# _pggen__table_columns TABLE TYPED: the columns of a live TABLE that may
# take a spec (all but generated columns), as COLUMN=.
_pggen__table_columns()
{
    local table=$1 want=$2 name
    local -a names=()
    local sql="SELECT pg_catalog.quote_ident(a.attname)
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = :'pggen_table'::pg_catalog.regclass
          AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
          AND a.attname !~ '[[:cntrl:]]'
        ORDER BY a.attnum"
    while IFS= read -r name; do
        names+=("$name")
    done < <(_pggen__psql "$sql" "pggen_table=$table")
    _pggen__spec_names "$want" "${names[@]}"
}

# _pggen__preset_columns PROGRAM PRESET TYPED: the columns of a preset, as
# COLUMN=; pggen lists them without a database.
_pggen__preset_columns()
{
    local list
    list=$(command "$1" --list-columns --preset="$2" 2>/dev/null </dev/null) || return 0
    local -a names=()
    IFS=, read -r -a names <<<"$list"
    _pggen__spec_names "$3" "${names[@]}"
}

_pggen__databases()
{
    local want=$1 name
    # Without a database of its own, psql would try one named after the user,
    # which often does not exist: ask "postgres" for the list instead.
    if [[ -z ${PGDATABASE-} && -z ${PGSERVICE-} ]]; then
        local had_d= w
        for w in "${_pggen_conn[@]}"; do [[ $w == -d ]] && had_d=1; done
        [[ -n $had_d ]] || _pggen_conn+=(-d postgres)
    fi
    while IFS= read -r name; do
        [[ -n $name && $name == "$want"* ]] && COMPREPLY+=("$name")
    done < <(_pggen__psql "SELECT datname FROM pg_catalog.pg_database
        WHERE datallowconn AND NOT datistemplate AND datname !~ '[[:cntrl:]]'")
    return 0
}

_pggen__files()
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

_pggen()
{
    COMPREPLY=()
    local -a words=() longs=() shorts=() _pggen_conn=()
    local line=${COMP_LINE-} t help valued=" " REPLY _pggen_given=$'\n'
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
    _pggen__dequote "${words[0]-pggen}" tilde
    _pggen__program "$REPLY"
    local prog=$REPLY
    help=
    [[ -n $prog ]] && { help=$(command "$prog" --help 2>/dev/null </dev/null) || help=; }
    # An option starts its line: "  -n, --rows=N" or "      --seed=N". A
    # description that runs on to the next line, indented further, may
    # mention other options; those lines do not count.
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

    # Walk the words before the cursor: find the table (the first argument
    # without "="), the column specs and the preset, keep the connection
    # options, and see whether the word under the cursor is an option's
    # value.
    local w opt= value letter after_dashes= table= have_table= preset=
    local -i j
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -z $after_dashes ]]; then
            case $w in
            --)
                after_dashes=1
                continue
                ;;
            --*=*)
                _pggen__dequote "${w#*=}" tilde
                _pggen__note_conn "${w%%=*}" "$REPLY"
                [[ ${w%%=*} == --preset ]] && preset=$REPLY
                continue
                ;;
            --*)
                if [[ $valued == *" $w "* ]]; then
                    if ((i + 1 == cword)); then
                        opt=$w
                        break
                    fi
                    i+=1
                    _pggen__dequote "${words[i]}" tilde
                    _pggen__note_conn "$w" "$REPLY"
                    [[ $w == --preset ]] && preset=$REPLY
                fi
                continue
                ;;
            -?*)
                # A cluster of short options; a valued one takes the rest of
                # the word, or the next word.
                for ((j = 1; j < ${#w}; j++)); do
                    letter=-${w:j:1}
                    [[ $valued == *" $letter "* ]] || continue
                    if ((j + 1 < ${#w})); then
                        _pggen__dequote "${w:j+1}" tilde
                        _pggen__note_conn "$letter" "$REPLY"
                    elif ((i + 1 == cword)); then
                        opt=$letter
                    else
                        i+=1
                        _pggen__dequote "${words[i]}" tilde
                        _pggen__note_conn "$letter" "$REPLY"
                    fi
                    break
                done
                [[ -n $opt ]] && break
                continue
                ;;
            esac
        fi
        # An argument: the table, or a column spec.
        _pggen__dequote "$w"
        if [[ $REPLY == *=* ]]; then
            # The column's name, as the spec writes it (before any :TYPE).
            t=${REPLY%%=*}
            t=${t%%:*}
            _pggen_given+="$t"$'\n'
        elif [[ -z $have_table ]]; then
            table=$REPLY
            have_table=1
        fi
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
        _pggen__dequote "$raw"
        value=$REPLY
        case $opt in
        --preset)
            if [[ -n $prog ]]; then
                while read -r t _; do
                    [[ -n $t && $t == "$value"* ]] && COMPREPLY+=("$t")
                done < <(command "$prog" --list-presets 2>/dev/null </dev/null)
            fi
            ;;
        -F | --format)
            _pggen__add_matches "$value" text csv binary
            ;;
        --zstd)
            _pggen__add_matches "$value" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
            ;;
        -d | --dbname)
            _pggen__databases "$value"
            ;;
        -h | --host)
            if [[ $value == [/.~]* ]]; then
                compopt -o filenames 2>/dev/null || :
                _pggen__dequote "$raw" tilde
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
        --spec | -o | --output | --stats)
            _pggen__files "$value" "$raw"
            ;;
        *)
            # Row counts, seeds, shards, ports: nothing sensible to offer.
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
        _pggen__add_matches "$cur" "${longs[@]}"
        if [[ $cur == - ]]; then
            COMPREPLY+=("${shorts[@]}")
        elif [[ " ${shorts[*]} " == *" $cur "* ]]; then
            COMPREPLY+=("$cur")
        fi
        return 0
    fi

    # An argument. A column spec whose "=" is typed already goes on to its
    # generator: nothing to offer there.
    _pggen__dequote "$cur"
    value=$REPLY
    [[ $value == *=* ]] && return 0
    if [[ -n $preset ]]; then
        # A preset's columns are known without a database; a table name
        # would only name the preset's table.
        [[ -n $prog ]] && _pggen__preset_columns "$prog" "$preset" "$value"
    elif [[ -z $have_table ]]; then
        _pggen__tables "$value"
    else
        _pggen__table_columns "$table" "$value"
    fi
    ((${#COMPREPLY[@]})) || return 0
    # A column spec goes on after its "=": no space after it.
    [[ ${COMPREPLY[0]} == *= ]] && { compopt -o nospace 2>/dev/null || :; }
    # Names such as s."We.ird ""name""" need quoting on the command line;
    # readline does it when told that these are like file names.
    for t in "${COMPREPLY[@]}"; do
        if [[ $t == *[^[:alnum:]_.=]* ]]; then
            compopt -o filenames 2>/dev/null || :
            break
        fi
    done
    return 0
}

complete -F _pggen pggen
