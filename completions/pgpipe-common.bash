# bash completion helpers shared by the pgpipe programs   -*- shell-script -*-
#
# Part of pgpipe. The completion of each program (pgcopy.bash, pggen.bash,
# ...) sources this file from the directory it lies in; installed, it lies
# next to them. It only defines functions, so sourcing it again is harmless.
#
# The helpers work on the variables of the program's completion function,
# which declares them local: words, cword, cur, tail and keep (the command
# line), prog, longs, shorts and valued (the program and its options), args,
# after_dashes and opt (the walk over the words before the cursor), prefix,
# raw and value (an option's value), REPLY, and _pgpipe_conn (connection
# options for psql). Nothing is ever printed.

# _pgpipe_dequote WORD [tilde]: sets REPLY to WORD without its shell quoting.
# Nothing is evaluated: $ and ` stay as they are. With "tilde", a leading
# ~ or ~/ becomes $HOME.
_pgpipe_dequote()
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

# _pgpipe_psql SQL [NAME=VALUE]...: runs SQL with the connection options
# gathered from the command line (array _pgpipe_conn) and prints the rows,
# tab-separated. Given NAME=VALUE, it sets each NAME as a psql variable for
# :'NAME' in SQL (and reads SQL as a script). Never prompts for a password,
# gives up after two seconds, prints no errors.
_pgpipe_psql()
{
    type -P psql >/dev/null 2>&1 || return 1
    if (($# == 1)); then
        PGCONNECT_TIMEOUT=2 command psql -X -A -t -q -w -F $'\t' \
            "${_pgpipe_conn[@]}" -c "$1" </dev/null 2>/dev/null
        return
    fi
    local sql=$1 v
    shift
    local -a vars=()
    for v in "$@"; do vars+=(-v "$v"); done
    PGCONNECT_TIMEOUT=2 command psql -X -A -t -q -w -F $'\t' -v ON_ERROR_STOP=1 \
        "${_pgpipe_conn[@]}" "${vars[@]}" -f - <<<"$sql" 2>/dev/null
}

# _pgpipe_add_matches PREFIX CANDIDATE...: appends to COMPREPLY each
# candidate that starts with PREFIX.
_pgpipe_add_matches()
{
    local prefix=$1 c
    shift
    for c in "$@"; do
        [[ $c == "$prefix"* ]] && COMPREPLY+=("$c")
    done
    return 0
}

# _pgpipe_note_conn OPTION VALUE: keeps a connection option for psql.
_pgpipe_note_conn()
{
    case $1 in
    -d | --dbname) _pgpipe_conn+=(-d "$2") ;;
    -h | --host) _pgpipe_conn+=(-h "$2") ;;
    -p | --port) _pgpipe_conn+=(-p "$2") ;;
    -U | --username) _pgpipe_conn+=(-U "$2") ;;
    esac
}

# _pgpipe_table_matches TYPED NAME: whether NAME (as SQL quotes it) starts
# with TYPED, or would without its double quotes: "Mix" finds "Mixed Case".
_pgpipe_table_matches()
{
    [[ $2 == "$1"* ]] && return 0
    [[ $1 == *\"* ]] && return 1
    local plain=${2//\"\"/$'\1'}
    plain=${plain//\"/}
    plain=${plain//$'\1'/\"}
    [[ $plain == "$1"* ]]
}

# _pgpipe_tables TYPED [KINDS]: the tables that match TYPED, as SQL names
# them: by their bare name when they are in the search path, else (or once
# a dot was typed) qualified by their schema. KINDS, the relkinds to list,
# is "'r', 'p', 'f'" (tables, partitioned and foreign tables) by default.
_pgpipe_tables()
{
    local want=$1 kinds="'r', 'p', 'f'" visible schema name
    [[ -n ${2-} ]] && kinds=$2
    local sql="SELECT pg_catalog.pg_table_is_visible(c.oid)::int,
        pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(c.relname)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ($kinds)
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND c.relname !~ '[[:cntrl:]]' AND n.nspname !~ '[[:cntrl:]]'"
    while IFS=$'\t' read -r visible schema name; do
        [[ -n $name ]] || continue
        if [[ $visible == 1 && $want != *.* ]]; then
            _pgpipe_table_matches "$want" "$name" && COMPREPLY+=("$name")
        elif _pgpipe_table_matches "$want" "$schema.$name"; then
            COMPREPLY+=("$schema.$name")
        fi
    done < <(_pgpipe_psql "$sql")
    return 0
}

# _pgpipe_quote_names [CHARS]: names such as s."We.ird ""name""" need
# quoting on the command line; readline does it when told that the
# candidates are like file names. Tells it so when a candidate has other
# characters than letters, digits, "_", "." and CHARS.
_pgpipe_quote_names()
{
    local t
    for t in "${COMPREPLY[@]}"; do
        if [[ $t == *[^[:alnum:]_.${1-}]* ]]; then
            compopt -o filenames 2>/dev/null || :
            break
        fi
    done
    return 0
}

# _pgpipe_databases TYPED: the databases that one may connect to.
_pgpipe_databases()
{
    local want=$1 name
    # Without a database of its own, psql would try one named after the user,
    # which often does not exist: ask "postgres" for the list instead.
    if [[ -z ${PGDATABASE-} && -z ${PGSERVICE-} ]]; then
        local had_d= w
        for w in "${_pgpipe_conn[@]}"; do [[ $w == -d ]] && had_d=1; done
        [[ -n $had_d ]] || _pgpipe_conn+=(-d postgres)
    fi
    while IFS= read -r name; do
        [[ -n $name && $name == "$want"* ]] && COMPREPLY+=("$name")
    done < <(_pgpipe_psql "SELECT datname FROM pg_catalog.pg_database
        WHERE datallowconn AND NOT datistemplate AND datname !~ '[[:cntrl:]]'")
    return 0
}

# _pgpipe_files WORD RAW: file names. WORD is the word to complete,
# dequoted; RAW its raw form as readline will replace it (for _filedir,
# which quotes by itself).
_pgpipe_files()
{
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

# _pgpipe_columns TABLE TYPED: column names of TABLE (as SQL names it,
# maybe schema-qualified) for a comma-separated list; with no TABLE, of the
# table after the cursor (see _pgpipe_table_after). TYPED is the list so
# far; its last item is completed, and columns already listed are left out.
_pgpipe_columns()
{
    local table=$1 typed=$2 head= last name
    if [[ -z $table ]]; then
        _pgpipe_table_after "$valued"
        table=$REPLY
    fi
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
        _pgpipe_table_matches "$last" "$name" && COMPREPLY+=("$head$name")
    done < <(_pgpipe_psql "$sql")
    # Names such as "Created At" need quoting on the command line.
    _pgpipe_quote_names ,
}

# _pgpipe_table_after VALUED: when no table was typed before the cursor,
# the first argument after it that is not an option (or an option's
# value) is the table; sets REPLY to it, dequoted, or to nothing. Connection
# options found on the way are kept for psql. VALUED lists the options that
# take a value, as " --opt -o ... ".
_pgpipe_table_after()
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
            ((k + 1 < ${#after[@]})) && _pgpipe_dequote "${after[k+1]}" && return 0
            REPLY=
            return 0
            ;;
        --*=*)
            _pgpipe_dequote "${w#*=}" tilde
            _pgpipe_note_conn "${w%%=*}" "$REPLY"
            REPLY=
            ;;
        -*)
            if [[ $valued == *" $w "* ]] && ((k + 1 < ${#after[@]})); then
                k+=1
                _pgpipe_dequote "${after[k]}" tilde
                _pgpipe_note_conn "$w" "$REPLY"
                REPLY=
            elif [[ $w != --* && ${#w} -gt 2 && $valued == *" ${w:0:2} "* ]]; then
                _pgpipe_dequote "${w:2}" tilde
                _pgpipe_note_conn "${w:0:2}" "$REPLY"
                REPLY=
            fi
            ;;
        *)
            _pgpipe_dequote "$w"
            return 0
            ;;
        esac
    done
    return 0
}

# _pgpipe_words: sets words to the words of the command line up to the
# cursor, as the program will see them, cword to the index of the last (the
# one under the cursor) and cur to it. Readline replaces only the text
# after the last word-break character: that is tail, and what comes before
# it in cur is keep.
_pgpipe_words()
{
    local line=${COMP_LINE-} t breaks
    local -i pos=0 i spaced
    cword=${COMP_CWORD-0}
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
            break
        fi
        pos+=${#t}
        if ((i > 0 && !spaced)); then
            words[${#words[@]}-1]+=$t
        else
            words+=("$t")
        fi
    done
    cword=$((${#words[@]} - 1))
    cur=${words[cword]-}

    breaks=${COMP_WORDBREAKS-}
    breaks=${breaks//[$' \t\n\'"']/}
    tail=$cur
    if [[ -n $breaks ]]; then
        while [[ $tail == *[$breaks]* ]]; do
            tail=${tail#*[$breaks]}
        done
    fi
    keep=${cur:0:${#cur}-${#tail}}
}

# _pgpipe_program NAME [DIR]: sets REPLY to the program NAME to ask for its
# options, from the command name typed (words[0]). Without DIR: the one
# typed if it is a path to an executable, else NAME. With DIR (where the
# completion file lies): the one typed if it is a path (empty if it is not
# an executable), else the one in PATH, else one next to DIR (in a source
# tree or an installed prefix), else nothing.
_pgpipe_program()
{
    local name=$1 dir=${2-} p
    _pgpipe_dequote "${words[0]-$name}" tilde
    if [[ -z $dir ]]; then
        [[ $REPLY == */* && -x $REPLY ]] || REPLY=$name
        return 0
    fi
    if [[ $REPLY == */* ]]; then
        [[ -x $REPLY && ! -d $REPLY ]] || REPLY=
        return 0
    fi
    REPLY=
    if type -P "$name" >/dev/null 2>&1; then
        REPLY=$name
        return 0
    fi
    for p in "$dir/../build/bin/$name" "$dir/../../../bin/$name"; do
        if [[ -x $p && ! -d $p ]]; then
            REPLY=$p
            return 0
        fi
    done
    return 0
}

# _pgpipe_help PROGRAM [strict]: reads the options from "PROGRAM --help"
# (none when PROGRAM is empty): appends the long ones to longs and the short
# ones to shorts, and those that take a value (--opt=VALUE) to valued, as
# " --opt -o ... "; "--zstd[=LEVEL]" takes its value only after "=". With
# "strict", an option counts only where it starts its line ("  -n, --rows=N"
# or "      --seed=N"), not in a description that runs on to the next line,
# indented further, and it counts once.
_pgpipe_help()
{
    local help= t re
    [[ -n $1 ]] && { help=$(command "$1" --help 2>/dev/null </dev/null) || help=; }
    if [[ ${2-} == strict ]]; then
        re='^  (-([[:alnum:]]), |    )(--[[:alnum:]][[:alnum:]-]*)(=[^[:space:]]+)?'
    else
        re='^[[:space:]]+(-([[:alnum:]]),[[:space:]]+)?(--[[:alnum:]][[:alnum:]-]*)(=[^[:space:]]+)?'
    fi
    while IFS= read -r t; do
        [[ $t =~ $re ]] || continue
        [[ ${2-} == strict && " ${longs[*]} " == *" ${BASH_REMATCH[3]} "* ]] && continue
        longs+=("${BASH_REMATCH[3]}")
        [[ -n ${BASH_REMATCH[2]} ]] && shorts+=("-${BASH_REMATCH[2]}")
        if [[ -n ${BASH_REMATCH[4]} ]]; then
            valued+="${BASH_REMATCH[3]} "
            [[ -n ${BASH_REMATCH[2]} ]] && valued+="-${BASH_REMATCH[2]} "
        fi
    done <<<"$help"
    return 0
}

# _pgpipe_begin NAME [DIR [strict]]: starts a completion: empties COMPREPLY,
# reads the command line (_pgpipe_words), sets prog to the program
# (_pgpipe_program NAME DIR) and reads its options (_pgpipe_help).
_pgpipe_begin()
{
    COMPREPLY=()
    _pgpipe_words
    _pgpipe_program "$1" "${2-}"
    prog=$REPLY
    _pgpipe_help "$prog" "${3-}"
}

# _pgpipe_option [NOTE]: reads the option words[i] (not "--") of a walk
# over the words before the cursor. An option that takes a value (see
# valued) takes the rest of its word (--opt=VALUE, -oVALUE) or the next
# word, stepping i over it; a cluster of short options (-qF csv) takes it
# for the first of them that takes one. Each value, dequoted, goes to
# NOTE OPTION VALUE (_pgpipe_note_conn by default). Returns 1, with opt set
# to the option, when the value is the word under the cursor.
_pgpipe_option()
{
    local note=${1:-_pgpipe_note_conn} w=${words[i]} letter
    local -i j
    case $w in
    --*=*)
        _pgpipe_dequote "${w#*=}" tilde
        "$note" "${w%%=*}" "$REPLY"
        ;;
    --*)
        if [[ $valued == *" $w "* ]]; then
            if ((i + 1 == cword)); then
                opt=$w
                return 1
            fi
            i=$((i + 1))
            _pgpipe_dequote "${words[i]}" tilde
            "$note" "$w" "$REPLY"
        fi
        ;;
    *)
        for ((j = 1; j < ${#w}; j++)); do
            letter=-${w:j:1}
            [[ $valued == *" $letter "* ]] || continue
            if ((j + 1 < ${#w})); then
                _pgpipe_dequote "${w:j+1}" tilde
                "$note" "$letter" "$REPLY"
            elif ((i + 1 == cword)); then
                opt=$letter
                return 1
            else
                i=$((i + 1))
                _pgpipe_dequote "${words[i]}" tilde
                "$note" "$letter" "$REPLY"
            fi
            break
        done
        ;;
    esac
    return 0
}

# _pgpipe_walk [NOTE]: walks the words before the cursor as the program
# will read them. Appends to args those that are neither options nor their
# values (raw, as typed), also those after "--"; sets after_dashes to the
# index of that "--" in words, and opt when the word under the cursor is an
# option's value. The options' values go to NOTE (see _pgpipe_option).
_pgpipe_walk()
{
    local w
    local -i i
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $after_dashes ]]; then
            args+=("$w")
            continue
        fi
        case $w in
        --) after_dashes=$i ;;
        -?*) _pgpipe_option "$@" || break ;;
        *) args+=("$w") ;;
        esac
    done
    return 0
}

# _pgpipe_value [PATTERN]: whether the word under the cursor is an option's
# value: after the option (opt, from _pgpipe_walk), or in the word itself
# (--format=cs as PATTERN says, "--*=*" by default; -Fcs). Sets opt, prefix
# (what comes before the value in the word), raw (the value as typed) and
# value (dequoted).
_pgpipe_value()
{
    local long=${1:-'--*=*'}
    if [[ -z $opt ]]; then
        if [[ $cur == $long ]]; then
            opt=${cur%%=*}
            prefix=$opt=
        elif [[ $cur == -[[:alnum:]]?* && $valued == *" ${cur:0:2} "* ]]; then
            opt=${cur:0:2}
            prefix=$opt
        fi
    fi
    [[ -n $opt ]] || return 1
    raw=${cur#"$prefix"}
    _pgpipe_dequote "$raw"
    value=$REPLY
    return 0
}

# _pgpipe_conn_value OPTION VALUE RAW: the values of the connection options
# -d, -h and -U (VALUE dequoted, RAW as typed). Returns 1 for any other
# option.
_pgpipe_conn_value()
{
    local t
    case $1 in
    -d | --dbname)
        _pgpipe_databases "$2"
        ;;
    -h | --host)
        if [[ $2 == [/.~]* ]]; then
            compopt -o filenames 2>/dev/null || :
            _pgpipe_dequote "$3" tilde
            while IFS= read -r t; do COMPREPLY+=("$t"); done \
                < <(compgen -d -- "$REPLY" 2>/dev/null)
        else
            while IFS= read -r t; do COMPREPLY+=("$t"); done \
                < <(compgen -A hostname -- "$2" 2>/dev/null)
        fi
        ;;
    -U | --username)
        while IFS= read -r t; do COMPREPLY+=("$t"); done \
            < <(compgen -A user -- "$2" 2>/dev/null)
        ;;
    *)
        return 1
        ;;
    esac
    return 0
}

# _pgpipe_put_back PREFIX KEEP: puts back what was typed before a value
# (PREFIX: -F, --format=) in each candidate, and leaves out what readline
# keeps (KEEP: up to the last "=" or ":").
_pgpipe_put_back()
{
    local prefix=$1 keep=$2 t
    [[ -n $prefix || -n $keep ]] || return 0
    local -a all=("${COMPREPLY[@]}")
    COMPREPLY=()
    for t in "${all[@]}"; do
        t=$prefix$t
        [[ $t == "$keep"* ]] && COMPREPLY+=("${t#"$keep"}")
    done
    return 0
}

# _pgpipe_offer_options: the options (longs, shorts) that start with cur.
_pgpipe_offer_options()
{
    _pgpipe_add_matches "$cur" "${longs[@]}"
    if [[ $cur == - ]]; then
        COMPREPLY+=("${shorts[@]}")
    elif [[ " ${shorts[*]} " == *" $cur "* ]]; then
        COMPREPLY+=("$cur")
    fi
    return 0
}

# _pgpipe_option_word VALUES [PATTERN]: completes the word under the cursor
# when it is an option's value (see _pgpipe_value for PATTERN) or, before
# any "--", an option; returns 1 when it is neither. VALUES completes the
# value of the option opt (value, raw and prefix are set) and returns 1
# for an option it does not know; -d, -h and -U are done here. After a
# value, opt is set; after options, it is empty.
_pgpipe_option_word()
{
    if [[ -z $after_dashes ]] && _pgpipe_value "${@:2}"; then
        "$1" || _pgpipe_conn_value "$opt" "$value" "$raw" || return 0
        _pgpipe_put_back "$prefix" "$keep"
        return 0
    fi
    [[ -z $after_dashes && $cur == -* ]] || return 1
    _pgpipe_offer_options
}

# _pgpipe_table_command NAME VALUES [FILES [DIR [strict]]]: the completion
# of a program "NAME [OPTION]... TABLE [FILE]...": its options, read from
# its --help (see _pgpipe_begin for DIR and strict), their values (VALUES,
# see _pgpipe_option_word), the table, then files (by FILES WORD RAW, as
# _pgpipe_files, which is the default).
_pgpipe_table_command()
{
    local -a words=() longs=() shorts=() args=() _pgpipe_conn=()
    local cur tail keep prog valued=" " opt= after_dashes= prefix= raw= value REPLY table=
    local -i cword
    _pgpipe_begin "$1" "${4-}" "${5-}"

    # Walk the words before the cursor: the arguments that are not options
    # (the first is the table), the connection options, and whether the
    # word under the cursor is an option's value.
    _pgpipe_walk
    ((${#args[@]} == 0)) || { _pgpipe_dequote "${args[0]}" && table=$REPLY; }
    _pgpipe_option_word "$2" && return 0

    _pgpipe_dequote "$cur"
    if ((${#args[@]} == 0)); then
        _pgpipe_tables "$REPLY"
        _pgpipe_quote_names
    else
        "${3:-_pgpipe_files}" "$REPLY" "$tail"
        _pgpipe_put_back "" "$keep"
    fi
    return 0
}
