#!/usr/bin/env bash
# Regenerates what is generated from the code (`make docs` runs it):
#   README.md's pipeline reference (between the pipeline-reference markers), from `emflow stages --markdown`;
#   completions/ (bash, zsh, fish), from `emflow --generate-completion-script`.
# Usage: scripts/update-docs.sh PATH/TO/emflow
set -euo pipefail
emflow=${1:?usage: scripts/update-docs.sh PATH/TO/emflow}
cd "$(dirname "$0")/.."

reference=$(mktemp)
trap 'rm -f "$reference"' EXIT
"$emflow" stages --markdown > "$reference"
python3 - "$reference" <<'PY'
import sys
begin, end = "<!-- pipeline-reference:begin -->", "<!-- pipeline-reference:end -->"
text = open("README.md").read()
if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
    sys.exit("README.md needs exactly one %s ... %s pair" % (begin, end))
generated = open(sys.argv[1]).read()
head, rest = text.split(begin)
_, tail = rest.split(end)
open("README.md", "w").write(head + begin + "\n" + generated + end + tail)
PY

mkdir -p completions
"$emflow" --generate-completion-script bash > completions/emflow.bash
"$emflow" --generate-completion-script zsh > completions/_emflow
"$emflow" --generate-completion-script fish > completions/emflow.fish
echo "updated README.md (pipeline reference) and completions/"
