# bash completion for pgcopy(1)                            -*- shell-script -*-
#
# Part of pgpipe. The options are read from "pgcopy --help" each time, so
# this file cannot fall behind the program. Table names, and the column
# names of the table on the line for --conflict-columns, come from the
# database named on the command line (or by PG* variables), when it answers
# within two seconds; otherwise nothing is offered. Nothing is ever printed.

# The shared helpers lie next to this file; without them, no completion.
declare -F _pgpipe_begin >/dev/null 2>&1 ||
    { [[ -r $(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash ]] &&
        . "$(dirname "${BASH_SOURCE[0]-}")/pgpipe-common.bash" >/dev/null 2>&1; } || :
declare -F _pgpipe_begin >/dev/null 2>&1 || return 0

# _pgcopy__value: the value of the option opt (see _pgpipe_option_word).
_pgcopy__value()
{
    case $opt in
    -F | --format)
        _pgpipe_add_matches "$value" text csv binary
        ;;
    --encoding)
        _pgpipe_add_matches "$value" BIG5 EUC_CN EUC_JIS_2004 EUC_JP \
            EUC_KR EUC_TW GB18030 GBK ISO_8859_5 ISO_8859_6 ISO_8859_7 \
            ISO_8859_8 JOHAB KOI8R KOI8U LATIN1 LATIN2 LATIN3 LATIN4 \
            LATIN5 LATIN6 LATIN7 LATIN8 LATIN9 LATIN10 MULE_INTERNAL \
            SHIFT_JIS_2004 SJIS SQL_ASCII UHC UTF8 WIN866 WIN874 WIN1250 \
            WIN1251 WIN1252 WIN1253 WIN1254 WIN1255 WIN1256 WIN1257 \
            WIN1258
        ;;
    --stats | --reject-file)
        _pgpipe_files "$value" "$raw"
        ;;
    --on-conflict)
        _pgpipe_add_matches "$value" ignore update
        ;;
    --conflict-columns)
        _pgpipe_columns "$table" "$value"
        ;;
    *)
        # Columns, delimiters, ports: nothing sensible to offer.
        return 1
        ;;
    esac
    return 0
}

_pgcopy()
{
    _pgpipe_table_command pgcopy _pgcopy__value
}

complete -F _pgcopy pgcopy
