#!/usr/bin/env bash
# Builds the training data of omnicoder-nano from local Debian packages (installed here by
# name; nothing is downloaded but Debian packages): corpus manifest, BPE tokenizer, token
# shards. Then: build/bin/omnicoder train --config train/nano.cfg
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
oc_install_packages libpython3.11-stdlib libpython3.11-testsuite python3-numpy python3-pandas python3-django \
  python3-sympy python3.11-doc
oc_build release
mkdir -p data
build/bin/omnicoder corpus --sources train/corpus-sources.txt -o data/corpus.tsv
build/bin/omnicoder train-tokenizer --corpus data/corpus.tsv -o data/tokenizer.gguf --vocab-size 8192 --pre qwen2
build/bin/omnicoder tokenize-corpus --corpus data/corpus.tsv --tokenizer data/tokenizer.gguf -o data/tokens
