#!/bin/bash

__emflow_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__emflow_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__emflow_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__emflow_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_emflow() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __emflow_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    info|convert|generate|stages|validate|run|submit|status|cancel|worker|finalize|train|compact|evaluate|report|downsample|bench|help)
        # Offer subcommand argument completions
        "_emflow_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'info convert generate stages validate run submit status cancel worker finalize train compact evaluate report downsample bench help' -- "${cur}"))
        ;;
    esac
}

_emflow_info() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __emflow_offer_flags_options 1
}

_emflow_convert() {
    repeating_flags=()
    non_repeating_flags=(--overwrite --version -h --help)
    repeating_options=()
    non_repeating_options=(--chunks --codec --level --roi --zarr-version --memory-mb)
    __emflow_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--chunks')
        return
        ;;
    '--codec')
        __emflow_add_completions -W 'raw'$'\n''zstd'$'\n''gzip'$'\n''zlib'$'\n''blosc-lz4'$'\n''blosc-zstd'
        return
        ;;
    '--level')
        return
        ;;
    '--roi')
        return
        ;;
    '--zarr-version')
        return
        ;;
    '--memory-mb')
        return
        ;;
    esac
}

_emflow_generate() {
    repeating_flags=()
    non_repeating_flags=(--raw-only --overwrite --version -h --help)
    repeating_options=()
    non_repeating_options=(--shape --seed --voxel-size --chunks --codec)
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--shape')
        return
        ;;
    '--seed')
        return
        ;;
    '--voxel-size')
        return
        ;;
    '--chunks')
        return
        ;;
    '--codec')
        __emflow_add_completions -W 'raw'$'\n''zstd'$'\n''gzip'$'\n''zlib'$'\n''blosc-lz4'$'\n''blosc-zstd'
        return
        ;;
    esac
}

_emflow_stages() {
    repeating_flags=()
    non_repeating_flags=(--markdown --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __emflow_offer_flags_options 1
}

_emflow_validate() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(--set)
    non_repeating_options=()
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--set')
        return
        ;;
    esac
}

_emflow_run() {
    repeating_flags=()
    non_repeating_flags=(--quiet --version -h --help)
    repeating_options=(--set)
    non_repeating_options=(--events --each --each-var)
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--set')
        return
        ;;
    '--events')
        return
        ;;
    '--each')
        return
        ;;
    '--each-var')
        return
        ;;
    esac
}

_emflow_submit() {
    repeating_flags=()
    non_repeating_flags=(--slurm --version -h --help)
    repeating_options=(--set --sbatch-arg)
    non_repeating_options=(--local --workers --partition --time --mem --emflow)
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--set')
        return
        ;;
    '--local')
        return
        ;;
    '--workers')
        return
        ;;
    '--partition')
        return
        ;;
    '--time')
        return
        ;;
    '--mem')
        return
        ;;
    '--sbatch-arg')
        return
        ;;
    '--emflow')
        return
        ;;
    esac
}

_emflow_status() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __emflow_offer_flags_options 1
}

_emflow_cancel() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __emflow_offer_flags_options 1
}

_emflow_worker() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--task --shard)
    __emflow_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--task')
        return
        ;;
    '--shard')
        return
        ;;
    esac
}

_emflow_finalize() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--task)
    __emflow_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--task')
        return
        ;;
    esac
}

_emflow_train() {
    repeating_flags=()
    non_repeating_flags=(--quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--steps --output --resume)
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--steps')
        return
        ;;
    '--output')
        return
        ;;
    '--resume')
        return
        ;;
    esac
}

_emflow_compact() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--patch --time --threads)
    __emflow_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--patch')
        return
        ;;
    '--time')
        return
        ;;
    '--threads')
        return
        ;;
    esac
}

_emflow_evaluate() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--prediction --truth --mask --raw --threshold --invalid --match-tolerance --min-size --name --report)
    __emflow_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--prediction')
        return
        ;;
    '--truth')
        return
        ;;
    '--mask')
        return
        ;;
    '--raw')
        return
        ;;
    '--threshold')
        return
        ;;
    '--invalid')
        return
        ;;
    '--match-tolerance')
        return
        ;;
    '--min-size')
        return
        ;;
    '--name')
        return
        ;;
    '--report')
        return
        ;;
    esac
}

_emflow_report() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--output --title)
    __emflow_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--output')
        return
        ;;
    '--title')
        return
        ;;
    esac
}

_emflow_downsample() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--levels --factors --method --chunks --zarr-version)
    __emflow_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--levels')
        return
        ;;
    '--factors')
        return
        ;;
    '--method')
        __emflow_add_completions -W 'auto'$'\n''mean'$'\n''mode'
        return
        ;;
    '--chunks')
        return
        ;;
    '--zarr-version')
        return
        ;;
    esac
}

_emflow_bench() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __emflow_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    storage|unet|predict|models)
        # Offer subcommand argument completions
        "_emflow_bench_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'storage unet predict models' -- "${cur}"))
        ;;
    esac
}

_emflow_bench_storage() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--scratch --chunks --zstd-level --gzip-level)
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--scratch')
        return
        ;;
    '--chunks')
        return
        ;;
    '--zstd-level')
        return
        ;;
    '--gzip-level')
        return
        ;;
    esac
}

_emflow_bench_unet() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--sizes --threads --repetitions)
    __emflow_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--sizes')
        return
        ;;
    '--threads')
        return
        ;;
    '--repetitions')
        return
        ;;
    esac
}

_emflow_bench_predict() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--block-shape --blocks --workers --threads)
    __emflow_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--block-shape')
        return
        ;;
    '--blocks')
        return
        ;;
    '--workers')
        return
        ;;
    '--threads')
        return
        ;;
    esac
}

_emflow_bench_models() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--patch --rounds --threads)
    __emflow_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--patch')
        return
        ;;
    '--rounds')
        return
        ;;
    '--threads')
        return
        ;;
    esac
}

_emflow_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __emflow_offer_flags_options -1
}

complete -o filenames -F _emflow emflow
