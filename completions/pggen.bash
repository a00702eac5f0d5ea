# bash completion for pggen(1)                             -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pggen --help" and the presets
# from "pggen --list-presets" each time, so this file cannot fall behind the
# program; the generator names are listed here, and a unit test compares
# them with pggen's own. Table and column names come from the database
# named on the command line (or by PG* variables), when it answers within
# two seconds; otherwise nothing is offered for them. Nothing is ever
# printed.

# The shared helpers lie next to this file; without them, no completion.
declare -F _pgpipe_begin >/dev/null 2>&1 ||
    { [[ -r $(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash ]] &&
        . "$(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash" >/dev/null 2>&1; } || :
declare -F _pgpipe_begin >/dev/null 2>&1 || return 0

# Where this file lies: a pggen that is not in PATH may be found from here.
_pggen_completion_dir=${BASH_SOURCE[0]%/*}
[[ $_pggen_completion_dir == "${BASH_SOURCE[0]}" ]] && _pggen_completion_dir=.

# The generator names of a spec, offered after COLUMN=; a unit test keeps
# them equal to the table of names pggen itself reads specs with.
_pggen_generators=(seq int mod div numeric float bool text words choice cycle format repeat
    uuid date timestamp timestamptz time interval json bytes array null const)

# _pggen__open_quote WORD: sets REPLY to the index in WORD of a quote that
# is still open at its end, or to -1.
_pggen__open_quote()
{
    local word=$1 c q=
    local -i i open=-1
    for ((i = 0; i < ${#word}; i++)); do
        c=${word:i:1}
        if [[ -z $q ]]; then
            case $c in
            "'" | '"') q=$c open=i ;;
            '\') i+=1 ;;
            esac
        elif [[ $c == "$q" ]]; then
            q=
        elif [[ $q == '"' && $c == '\' ]]; then
            i+=1
        fi
    done
    [[ -n $q ]] || open=-1
    REPLY=$open
}

# _pggen__generator_names: in the word under the cursor, after COLUMN= (or
# COLUMN:TYPE=), the generator names that start with what follows it.
_pggen__generator_names()
{
    local typed=${cur##*=} name t
    [[ $typed =~ ^[a-z]*$ ]] || return 0
    for name in "${_pggen_generators[@]}"; do
        [[ $name == "$typed"* ]] && COMPREPLY+=("${cur%"$typed"}$name")
    done
    ((${#COMPREPLY[@]})) || return 0
    # A generator goes on with its arguments or "|null(RATE)": no space.
    compopt -o nospace 2>/dev/null || :
    # Within a quote still open, readline replaces what follows the quote;
    # else what follows the last "=" or ":".
    _pggen__open_quote "$cur"
    if ((REPLY < 0)); then
        _pgpipe_put_back "" "$keep"
        return 0
    fi
    local -a all=("${COMPREPLY[@]}")
    COMPREPLY=()
    for t in "${all[@]}"; do
        COMPREPLY+=("${t:REPLY+1}")
    done
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
        _pgpipe_table_matches "$want" "$name" && COMPREPLY+=("$name=")
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
    done < <(_pgpipe_psql "$sql" "pggen_table=$table")
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

# _pggen__note OPTION VALUE: keeps a connection option for psql, and the
# preset.
_pggen__note()
{
    _pgpipe_note_conn "$1" "$2"
    [[ $1 == --preset ]] && preset=$2
    return 0
}

# _pggen__value: the value of the option opt (see _pgpipe_option_word).
_pggen__value()
{
    local t
    case $opt in
    --preset)
        if [[ -n $prog ]]; then
            while read -r t _; do
                [[ -n $t && $t == "$value"* ]] && COMPREPLY+=("$t")
            done < <(command "$prog" --list-presets 2>/dev/null </dev/null)
        fi
        ;;
    -F | --format)
        _pgpipe_add_matches "$value" text csv binary
        ;;
    --zstd)
        _pgpipe_add_matches "$value" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
        ;;
    --spec | -o | --output | --stats)
        _pgpipe_files "$value" "$raw"
        ;;
    *)
        # Row counts, seeds, shards, ports: nothing sensible to offer.
        return 1
        ;;
    esac
    return 0
}

_pggen()
{
    local -a words=() longs=() shorts=() args=() _pgpipe_conn=()
    local cur tail keep prog valued=" " opt= after_dashes= prefix= raw= value REPLY
    local w t table= have_table= preset= _pggen_given=$'\n'
    local -i cword
    _pgpipe_begin pggen "$_pggen_completion_dir" strict

    # Walk the words before the cursor: keep the connection options and the
    # preset, and see whether the word under the cursor is an option's
    # value. Of the arguments, the first without "=" is the table, the
    # others are column specs.
    _pgpipe_walk _pggen__note
    for w in "${args[@]}"; do
        _pgpipe_dequote "$w"
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
    _pgpipe_option_word _pggen__value && return 0

    # An argument. A column spec whose "=" is typed already goes on to its
    # generator.
    _pgpipe_dequote "$cur"
    value=$REPLY
    if [[ $value == *=* ]]; then
        _pggen__generator_names
        return 0
    fi
    if [[ -n $preset ]]; then
        # A preset's columns are known without a database; a table name
        # would only name the preset's table.
        [[ -n $prog ]] && _pggen__preset_columns "$prog" "$preset" "$value"
    elif [[ -z $have_table ]]; then
        _pgpipe_tables "$value"
    else
        _pggen__table_columns "$table" "$value"
    fi
    ((${#COMPREPLY[@]})) || return 0
    # A column spec goes on after its "=": no space after it.
    [[ ${COMPREPLY[0]} == *= ]] && { compopt -o nospace 2>/dev/null || :; }
    _pgpipe_quote_names =
}

complete -F _pggen pggen
