function __emflow_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __emflow_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __emflow_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __emflow_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __emflow_parse_tokens -S
    set -l unparsed_tokens (__emflow_tokens -pc)
    switch $unparsed_tokens[1]
    case 'emflow'
        __emflow_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'info'
            __emflow_parse_subcommand 1 'json' 'version' 'h/help'
        case 'convert'
            __emflow_parse_subcommand 2 'chunks=' 'codec=' 'level=' 'roi=' 'zarr-version=' 'memory-mb=' 'overwrite' 'version' 'h/help'
        case 'generate'
            __emflow_parse_subcommand 1 'shape=' 'seed=' 'voxel-size=' 'chunks=' 'codec=' 'raw-only' 'overwrite' 'version' 'h/help'
        case 'stages'
            __emflow_parse_subcommand 1 'markdown' 'version' 'h/help'
        case 'validate'
            __emflow_parse_subcommand 1 'set=+' 'version' 'h/help'
        case 'run'
            __emflow_parse_subcommand 1 'set=+' 'events=' 'quiet' 'each=' 'each-var=' 'version' 'h/help'
        case 'submit'
            __emflow_parse_subcommand 1 'set=+' 'slurm' 'local=' 'workers=' 'partition=' 'time=' 'mem=' 'sbatch-arg=+' 'emflow=' 'version' 'h/help'
        case 'status'
            __emflow_parse_subcommand 1 'json' 'version' 'h/help'
        case 'cancel'
            __emflow_parse_subcommand 1 'version' 'h/help'
        case 'worker'
            __emflow_parse_subcommand 0 'task=' 'shard=' 'version' 'h/help'
        case 'finalize'
            __emflow_parse_subcommand 0 'task=' 'version' 'h/help'
        case 'train'
            __emflow_parse_subcommand 1 'steps=' 'output=' 'resume=' 'quiet' 'version' 'h/help'
        case 'compact'
            __emflow_parse_subcommand 2 'patch=' 'time=' 'threads=' 'json' 'version' 'h/help'
        case 'evaluate'
            __emflow_parse_subcommand 0 'prediction=' 'truth=' 'mask=' 'raw=' 'threshold=' 'invalid=' 'match-tolerance=' 'min-size=' 'name=' 'report=' 'json' 'version' 'h/help'
        case 'report'
            __emflow_parse_subcommand -r 1 'output=' 'title=' 'version' 'h/help'
        case 'downsample'
            __emflow_parse_subcommand 2 'levels=' 'factors=' 'method=' 'chunks=' 'zarr-version=' 'version' 'h/help'
        case 'bench'
            __emflow_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'storage'
                __emflow_parse_subcommand 1 'scratch=' 'chunks=' 'zstd-level=' 'gzip-level=' 'version' 'h/help'
            case 'unet'
                __emflow_parse_subcommand 0 'sizes=' 'threads=' 'repetitions=' 'json' 'version' 'h/help'
            case 'predict'
                __emflow_parse_subcommand 1 'block-shape=' 'blocks=' 'workers=' 'threads=' 'version' 'h/help'
            case 'models'
                __emflow_parse_subcommand -r 1 'patch=' 'rounds=' 'threads=' 'json' 'version' 'h/help'
            end
        case 'help'
            __emflow_parse_subcommand -r 1 'version'
        end
    end
end

function __emflow_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __emflow_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __emflow_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __emflow_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__emflow_tokens -p)
    if test -z "$(__emflow_tokens -t)"
        set -l index (count (__emflow_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'emflow' -f
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'info' -d 'Show a volume\'s shape, data type, chunks, codec, voxel size, offset and size on disk.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'convert' -d 'Convert a volume between formats, chunkings and codecs, streaming in bounded memory.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'generate' -d 'Generate a synthetic EM-like volume with synapse, mitochondria and membrane labels.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'stages' -d 'List the pipeline stage kinds, or show one kind\'s parameters.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'validate' -d 'Check a pipeline definition (YAML) and its inputs without running or writing anything.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'run' -d 'Run a pipeline (YAML) over its volumes, block by block, resumable.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'submit' -d 'Run a pipeline on a Slurm cluster (or as local processes): sharded workers, then a finalize job.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'status' -d 'Show a submitted run: blocks done, pending and failed per output, failed shards and their logs.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'cancel' -d 'Cancel the jobs of a submitted run (finished blocks stay done; submit again to resume).'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'worker' -d 'Run one shard of a submitted pipeline (what `emflow submit` puts in each array task).'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'finalize' -d 'Finish a submitted pipeline after its workers: cross-block merges and provenance.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'train' -d 'Train a 3D U-Net from a YAML configuration.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'compact' -d 'Export a pruned U-Net checkpoint with its dead units removed.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'evaluate' -d 'Evaluate a prediction against ground truth: F1, PR-AUC, object F1, CREMI distances, and a report.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'report' -d 'Combine evaluation reports (directories or report.json files) into one comparison report.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'downsample' -d 'Build a multiscale pyramid (OME-Zarr) of a stored volume, resumable.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'bench' -d 'Time storage, U-Net and bare-inference throughput (benchmarks/ runs these).'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow info" json' -l 'json' -d 'Print JSON instead of text.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow info" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" chunks' -l 'chunks' -d 'Output chunk shape z,y,x (default: the input\'s chunks, capped at 64,256,256; TIFF is always written in whole sections).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" codec' -l 'codec' -d 'Output codec: raw, zstd, gzip, zlib, blosc-lz4, blosc-zstd (default: zstd for Zarr, gzip for HDF5, raw for TIFF, so that h5py, tifffile and ImageJ open the output without plugins).' -rfka 'raw zstd gzip zlib blosc-lz4 blosc-zstd'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" level' -l 'level' -d 'Codec level (zstd 1-22, gzip/zlib 1-9, blosc 1-9).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" roi' -l 'roi' -d 'Region of the input to copy, z0:z1,y0:y1,x0:x1 (voxels, half-open).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" zarr-version' -l 'zarr-version' -d 'Zarr format of a Zarr output: 2 or 3.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" memory-mb' -l 'memory-mb' -d 'Memory budget for the copy in MiB.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" overwrite' -l 'overwrite' -d 'Replace an existing output.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow convert" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" shape' -l 'shape' -d 'Volume shape z,y,x in voxels.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" seed' -l 'seed' -d 'Random seed.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" voxel-size' -l 'voxel-size' -d 'Voxel size z,y,x in nm.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" chunks' -l 'chunks' -d 'Chunk shape z,y,x.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" codec' -l 'codec' -d 'Chunk codec: raw, zstd, gzip, zlib, blosc-lz4, blosc-zstd (default: zstd; HDF5 writes gzip for zstd).' -rfka 'raw zstd gzip zlib blosc-lz4 blosc-zstd'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" raw-only' -l 'raw-only' -d 'Skip the label volumes (raw only).'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" overwrite' -l 'overwrite' -d 'Replace existing volumes.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow generate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow stages" markdown' -l 'markdown' -d 'Print the whole pipeline reference as Markdown.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow stages" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow stages" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow validate"' -l 'set' -d 'Override a pipeline variable (repeatable).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow validate" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow validate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run"' -l 'set' -d 'Override a pipeline variable (repeatable).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run" events' -l 'events' -d 'Write JSON-lines events (passes, blocks, summary) to this file.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run" quiet' -l 'quiet' -d 'No progress bar.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run" each' -l 'each' -d 'Run once per volume: a glob (\'volumes/*.h5:volumes/raw\', \'vols/*.zarr/raw\') or @list.txt (one address a line).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run" each-var' -l 'each-var' -d 'The variable --each sets to each volume\'s address.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit"' -l 'set' -d 'Override a pipeline variable (repeatable).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" slurm' -l 'slurm' -d 'Submit to Slurm (sbatch).'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" local' -l 'local' -d 'Run N worker processes on this machine instead of a scheduler.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" workers' -l 'workers' -d 'Number of workers (array tasks) for --slurm.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" partition' -l 'partition' -d 'Slurm partition.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" time' -l 'time' -d 'Slurm time limit per job, e.g. 2:00:00.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" mem' -l 'mem' -d 'Slurm memory per job, e.g. 8G.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit"' -l 'sbatch-arg' -d 'A further sbatch option for every job, e.g. --sbatch-arg=--gres=gpu:1 (repeatable).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" emflow' -l 'emflow' -d 'The emflow executable the jobs run (default: this one).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow submit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow status" json' -l 'json' -d 'Print JSON.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow status" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow cancel" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow cancel" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow worker" task' -l 'task' -d 'The task file (RUN_DIR/task.json).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow worker" shard' -l 'shard' -d 'This worker\'s shard, INDEX/COUNT (e.g. $SLURM_ARRAY_TASK_ID/4).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow worker" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow worker" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow finalize" task' -l 'task' -d 'The task file (RUN_DIR/task.json).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow finalize" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow finalize" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow train" steps' -l 'steps' -d 'Train until this many steps in total (overrides \'steps\').' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow train" output' -l 'output' -d 'Write checkpoints and the log here (overrides \'output\').' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow train" resume' -l 'resume' -d 'Continue from this checkpoint directory (e.g. OUTPUT/last).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow train" quiet' -l 'quiet' -d 'No progress output.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow train" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow train" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow compact" patch' -l 'patch' -d 'Input patch z,y,x for FLOPs and timing (default: the input giving a 16x128x128 output).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow compact" time' -l 'time' -d 'Forward passes to time on each network, interleaved (0: no timing).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow compact" threads' -l 'threads' -d 'Compute threads (default: all cores).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow compact" json' -l 'json' -d 'Print the report as JSON.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow compact" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow compact" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" prediction' -l 'prediction' -d 'Address of the predicted scores.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" truth' -l 'truth' -d 'Address of the ground-truth labels.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" mask' -l 'mask' -d 'Address of a mask: voxels where it is 0 are ignored.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" raw' -l 'raw' -d 'Address of the raw EM data drawn under the slice overlays.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" threshold' -l 'threshold' -d 'Score threshold for voxel and object metrics (a value below 0 is read as a number, not an option).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" invalid' -l 'invalid' -d 'Truth label value that marks invalid voxels (ignored, as in CREMI).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" match-tolerance' -l 'match-tolerance' -d 'Object matching: largest centre distance in nm.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" min-size' -l 'min-size' -d 'Object metrics: smallest predicted object in voxels.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" name' -l 'name' -d 'Name of this run in the report.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" report' -l 'report' -d 'Directory for the report (created).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" json' -l 'json' -d 'Print the results as JSON instead of text.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow evaluate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow report" output' -l 'output' -d 'Directory for the comparison report.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow report" title' -l 'title' -d 'Title of the comparison.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow report" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow report" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" levels' -l 'levels' -d 'Levels below the full resolution.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" factors' -l 'factors' -d 'Factor z,y,x from each level to the next (default: by voxel size).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" method' -l 'method' -d 'mean (images), mode (labels) or auto (mode for uint32 and uint64).' -rfka 'auto mean mode'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" chunks' -l 'chunks' -d 'Chunk shape z,y,x of every level (default: the volume\'s, capped at 64,256,256).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" zarr-version' -l 'zarr-version' -d 'Zarr format: 2 (OME-Zarr 0.4) or 3 (OME-Zarr 0.5).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow downsample" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow bench" -eq 1' -fa 'storage' -d 'Time whole-volume writes and reads of zstd Zarr (v2) and gzip HDF5.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow bench" -eq 1' -fa 'unet' -d 'Time U-Net inference and training steps.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow bench" -eq 1' -fa 'predict' -d 'Time bare U-Net inference on the blocks a crop-mode predict stage would process.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_positional "emflow bench" -eq 1' -fa 'models' -d 'Time inference of several checkpoints on the same input, relative to the first.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench storage" scratch' -l 'scratch' -d 'Directory for the outputs (deleted afterwards).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench storage" chunks' -l 'chunks' -d 'Chunk shape z,y,x of the outputs.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench storage" zstd-level' -l 'zstd-level' -d 'zstd level of the Zarr output.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench storage" gzip-level' -l 'gzip-level' -d 'gzip level of the HDF5 output.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench storage" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench storage" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench unet" sizes' -l 'sizes' -d 'Cubic input sizes, comma-separated.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench unet" threads' -l 'threads' -d 'Threads (oneDNN\'s OpenMP threads).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench unet" repetitions' -l 'repetitions' -d 'Timed repetitions per measurement (the median is reported, after one warm-up run).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench unet" json' -l 'json' -d 'Print one JSON object instead of a table.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench unet" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench unet" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench predict" block-shape' -l 'block-shape' -d 'Block shape z,y,x (the pipeline\'s execution.block_shape).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench predict" blocks' -l 'blocks' -d 'Blocks to predict.' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench predict" workers' -l 'workers' -d 'Networks predicting at the same time (the pipeline\'s execution.workers).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench predict" threads' -l 'threads' -d 'Threads of each network (the predict stage\'s threads; default: the library\'s).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench predict" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench predict" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench models" patch' -l 'patch' -d 'Input patch z,y,x (default: the first network\'s input for a 16x128x128 output).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench models" rounds' -l 'rounds' -d 'Timed rounds (each network runs once per round; the median is reported).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench models" threads' -l 'threads' -d 'Threads of each network (default: the library\'s).' -rfka ''
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench models" json' -l 'json' -d 'Print one JSON object instead of a table.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench models" version' -l 'version' -d 'Show the version.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow bench models" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'emflow' -n '__emflow_should_offer_completions_for_flags_or_options "emflow help" version' -l 'version' -d 'Show the version.'
