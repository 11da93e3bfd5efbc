# bash completion for audit(1); installed as share/bash-completion/completions/audit (loaded on
# demand by bash-completion) and usable on its own: `source tools/audit-completion.bash`.
#
# Completes the commands and each command's options, both read from the --help text of the
# audit being completed (the first word of the line), so they follow the binary; the values of
# options with a fixed set (--method, --model-format, --output, ...); file names for file
# options, *.json spec files for `audit run` and `audit report`, folders for `audit sign` and
# `audit verify`; and the column names of the CSV given with --data (for `audit drift
# --columns`: --reference or --current) for the column options, comma lists included.
# Needs nothing from the bash-completion package. tests/cli/test_completion.py tests it.

# the CSV header of file $1 split at delimiter $2 (',' default, 'tab' a tab), one name a line;
# a UTF-8 BOM, a CR and the quotes around a name are removed
_audit_columns()
{
    local file=$1 delim=${2:-,} header name
    [[ $delim == tab ]] && delim=$'\t'
    [[ -f $file && -r $file ]] || return 0
    IFS= read -r header < "$file" || [[ -n $header ]] || return 0
    header=${header#$'\xef\xbb\xbf'}
    header=${header%$'\r'}
    local -a names
    IFS=$delim read -r -a names <<< "$header"
    for name in "${names[@]}"; do
        name=${name#\"}
        name=${name%\"}
        printf '%s\n' "$name"
    done
}

# the value given to option $1 on the current line (last occurrence), with ~ expanded
_audit_optval()
{
    local i val=
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == "$1" ]]; then
            val=${COMP_WORDS[i + 1]}
        elif [[ ${COMP_WORDS[i]} == "$1="* ]]; then
            val=${COMP_WORDS[i]#*=}
        fi
    done
    val=${val/#\~/$HOME}
    printf '%s' "$val"
}

# $cur completed from the words of $1, one a line; with $2 = list, after the last comma of $cur
_audit_words()
{
    local words=$1 prefix=
    if [[ $2 == list && $cur == *,* ]]; then
        prefix=${cur%,*},
    fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -P "$prefix" -W "$words" -- "${cur##*,}"))
    if [[ $2 == list ]]; then
        compopt -o nospace 2>/dev/null
    fi
}

# $cur completed from a fixed list of words ($*)
_audit_fixed()
{
    _audit_words "$(printf '%s\n' "$@")"
}

_audit_files()
{
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    if [[ $1 == json ]]; then
        COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.[jJ][sS][oO][nN]' -- "$cur"))
    elif [[ $1 == dir ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

_audit()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local bin=${COMP_WORDS[0]/#\~/$HOME} cmd= i
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd=${COMP_WORDS[i]}
            break
        fi
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            _audit_fixed --help --version --quiet
        else
            _audit_words "$("$bin" --help 2>/dev/null | sed -n 's/^  audit \([a-z][a-z-]*\) .*/\1/p')"
        fi
        return 0
    fi

    local help
    help=$("$bin" "$cmd" --help 2>/dev/null) || return 0
    # options taking a value: those whose help entry names one ("--out FILE")
    local valued
    valued=" $(sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z0-9-]*\) [^ ].*/\2/p' <<< "$help" | tr '\n' ' ')"
    if [[ $prev == -* && $valued == *" $prev "* ]]; then
        local data=--data delim
        delim=$(_audit_optval --delimiter)
        case $cmd in drift) data=--reference ;; esac
        case $prev in
            --data | --model | --current | --background | --json | --pdf | --xlsx | --key | \
            --history | --db | --file | --categories)
                _audit_files ;;
            --out)
                if [[ $cmd == run ]]; then _audit_files dir; else _audit_files; fi ;;
            --reference)
                if [[ $cmd == drift ]]; then
                    _audit_files
                else    # fairness --reference COL=VALUE: the column, then '='
                    _audit_words "$(_audit_columns "$(_audit_optval "$data")" "$delim" | sed 's/$/=/')"
                    compopt -o nospace 2>/dev/null
                fi ;;
            --sensitive | --columns | --features | --model-features)
                [[ $cmd == drift && -z $(_audit_optval --reference) ]] && data=--current
                _audit_words "$(_audit_columns "$(_audit_optval "$data")" "$delim")" list ;;
            --label | --prediction | --score)
                _audit_words "$(_audit_columns "$(_audit_optval "$data")" "$delim")" ;;
            --method)
                if [[ $cmd == drift ]]; then
                    _audit_fixed auto ks chi_square z wasserstein_normed jensen_shannon psi \
                                 anderson_darling cramer_von_mises
                else
                    _audit_fixed auto tree tree-interventional linear kernel exact
                fi ;;
            --model-format) _audit_fixed xgboost-json lightgbm-text linear-json trees-json ;;
            --output) _audit_fixed raw probability ;;
            --model-protocol) _audit_fixed batch session ;;
            --favorable) _audit_fixed 1 0 ;;
            --psi-binning) _audit_fixed quantile evidently ;;
            --compliance) _audit_fixed nyc-ll144 ;;
            --delimiter) _audit_fixed , ';' tab '|' ;;
            --threads | --csv-threads) _audit_fixed auto 1 2 4 8 ;;
        esac
        return 0
    fi
    if [[ $cur == -* ]]; then
        _audit_words "$(sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z0-9-]*\).*/\2/p' <<< "$help")"
        return 0
    fi
    # the positional argument: a spec or results file, a history database, an output folder
    case $cmd in
        run | report) _audit_files json ;;
        history) _audit_files ;;
        sign | verify) _audit_files dir ;;
    esac
    return 0
}

complete -F _audit audit
