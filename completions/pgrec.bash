# bash completion for pgrec(1)                             -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgrec --help" each time, so
# this file cannot fall behind the program. Table names come from the
# database named on the command line (or by PG* variables), when it answers
# within two seconds; otherwise nothing is offered for them. The inputs
# after the table are files, JSON lines first. Nothing is ever printed.

# The shared helpers lie next to this file; without them, no completion.
declare -F _pgpipe_begin >/dev/null 2>&1 ||
    { [[ -r $(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash ]] &&
        . "$(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash" >/dev/null 2>&1; } || :
declare -F _pgpipe_begin >/dev/null 2>&1 || return 0

# Where this file lies: a pgrec that is not in PATH may be found from here.
_pgrec_completion_dir=${BASH_SOURCE[0]%/*}
[[ $_pgrec_completion_dir == "${BASH_SOURCE[0]}" ]] && _pgrec_completion_dir=.

# _pgrec__is_records NAME: whether NAME looks like JSON lines: *.jsonl or
# *.json, maybe compressed (.zst), in any case.
_pgrec__is_records()
{
    local lower=${1,,}
    lower=${lower%.zst}
    [[ $lower == *.jsonl || $lower == *.json ]]
}

# _pgrec__records WORD RAW: file names (see _pgpipe_files), JSON lines files
# (*.jsonl, *.json, also .zst) and directories first; any file is offered
# when no such name matches.
_pgrec__records()
{
    local f
    if [[ $1 == "$2" ]] && declare -F _filedir >/dev/null 2>&1; then
        local cur=$2
        _filedir 'jsonl|json|jsonl.zst|json.zst' || :
        for f in "${COMPREPLY[@]}"; do
            # Directories alone are no reason to hide the other files.
            [[ -d $f ]] || return 0
        done
    else
        local any=
        while IFS= read -r f; do
            if [[ -d $f ]]; then
                COMPREPLY+=("$f")
            elif _pgrec__is_records "$f"; then
                COMPREPLY+=("$f")
                any=1
            fi
        done < <(compgen -f -- "$1" 2>/dev/null)
        if [[ -n $any ]]; then
            compopt -o filenames 2>/dev/null || :
            return 0
        fi
    fi
    COMPREPLY=()
    _pgpipe_files "$1" "$2"
}

# _pgrec__value: the value of the option opt (see _pgpipe_option_word).
_pgrec__value()
{
    case $opt in
    -F | --format)
        _pgpipe_add_matches "$value" text csv binary
        ;;
    --missing)
        _pgpipe_add_matches "$value" default null error
        ;;
    -o | --output | --reject-file | --stats)
        _pgpipe_files "$value" "$raw"
        ;;
    *)
        # Column lists, key maps, numbers: nothing sensible to offer.
        return 1
        ;;
    esac
    return 0
}

_pgrec()
{
    _pgpipe_table_command pgrec _pgrec__value _pgrec__records "$_pgrec_completion_dir" strict
}

complete -F _pgrec pgrec
