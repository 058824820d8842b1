#!/usr/bin/env bash
# Renders every template in TEMPLATE_DIR for every conversation in CONTEXT_DIR with
# python3-jinja2 (scripts/hf_chat_template.py, transformers' settings) and with
# `omnicoder chat-template`, and prints a table. Exit 1 when any case renders different
# text, or renders where the reference fails (our failing where it renders is counted as
# "refused", never as wrong text).
# Templates named error_*.jinja must be refused by both. MIN_IDENTICAL (optional) fails the
# run when fewer cases render identical text (so the test cannot pass by refusing all).
#   scripts/chat_template_conformance.sh OMNICODER_BIN TEMPLATE_DIR CONTEXT_DIR [NOW [MIN_IDENTICAL]]
set -uo pipefail
bin=$1 tdir=$2 cdir=$3 now=${4:-1767225600} min_same=${5:-0}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
same=0 both_fail=0 refused=0 wrong=0 total=0
for t in "$tdir"/*.jinja; do
  for c in "$cdir"/*.json; do
    total=$((total + 1))
    /usr/bin/python3 "$here/hf_chat_template.py" "$t" "$c" "$now" > "$work/ref" 2> "$work/ref.err"; rr=$?
    "$bin" chat-template --template "$t" --context "$c" --now "$now" > "$work/ours" 2> "$work/ours.err"; ro=$?
    name="$(basename "$t") x $(basename "$c")"
    if [[ $(basename "$t") == error_* ]] && { [ $rr -eq 0 ] || [ $ro -eq 0 ]; }; then
      wrong=$((wrong + 1)); echo "WRONG    $name: an error_ template rendered (reference rc $rr, ours rc $ro)"
    elif [ $rr -ne 0 ] && [ $ro -ne 0 ]; then
      both_fail=$((both_fail + 1))
    elif [ $rr -eq 0 ] && [ $ro -eq 0 ] && cmp -s "$work/ref" "$work/ours"; then
      same=$((same + 1))
    elif [ $rr -eq 0 ] && [ $ro -ne 0 ]; then
      refused=$((refused + 1)); echo "REFUSED  $name: $(head -c 300 "$work/ours.err")"
    else
      wrong=$((wrong + 1))
      if [ $rr -ne 0 ]; then
        echo "WRONG    $name: the reference fails ($(head -c 200 "$work/ref.err")) but we render"
      else
        echo "WRONG    $name: first difference:"; diff <(cat -A "$work/ref") <(cat -A "$work/ours") | head -6
      fi
    fi
  done
done
echo "templates x conversations: $total; identical text: $same; both refuse: $both_fail; we refuse, reference renders: $refused; different text: $wrong"
[ $wrong -eq 0 ] && [ $same -ge "$min_same" ]
