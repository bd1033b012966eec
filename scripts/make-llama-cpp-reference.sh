#!/usr/bin/env bash
# Makes test/fixtures/llama-cpp-reference/: the restored demo model converted by llama.cpp's OWN tools, so that
# tests hold BiLLa Desktop's converter against llama.cpp rather than against itself. Run by hand from the
# repository root, like make-demo-model.py; the outputs are committed, and neither the app nor its tests need
# Python or a llama.cpp build.
#
#   scripts/make-llama-cpp-reference.sh [WORK_DIR]
#
# WORK_DIR (default /tmp/billa-llama-cpp-reference) receives:
#   llama.cpp/   the source node-llama-cpp pins, cloned from node_modules/node-llama-cpp/llama/gitRelease.bundle,
#                and its build of llama-quantize (cmake; ~3 minutes here for that one tool)
#   venv/        Python with the machine's local torch wheel, sentencepiece, numpy, transformers, and the
#                gguf-py package from that same source (pip only reaches local wheels on our machines)
# A WORK_DIR that already holds them is reused.
#
# What it writes (every output type BiLLa Desktop offers):
#   billa-demo-f16.gguf, billa-demo-bf16.gguf   convert_hf_to_gguf.py --outtype f16 / bf16
#   billa-demo-q8_0.gguf, -q4_0, -q4_k_m, -q5_k_m, -q6_k   llama-quantize from the F16 file
#   README.md                                  versions, commands and sizes
# The input is resources/demo/billa-demo-restored: BiLLa's 2023-style config.json (no num_key_value_heads, no
# rope_theta), an extended SentencePiece tokenizer, vocab_size padded above the tokenizer, fp16 safetensors.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/billa-llama-cpp-reference}
out="$repo/test/fixtures/llama-cpp-reference"
source_dir="$work/llama.cpp"
venv="$work/venv"
wheels=(--no-index --find-links /opt/wheels --find-links /opt/pypi/files --find-links /opt/pypi-more/files)
mkdir -p "$work" "$out"

if [[ ! -d "$source_dir" ]]; then
  git clone -q "$repo/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$source_dir"
fi
quantize="$source_dir/build/bin/llama-quantize"
if [[ ! -x "$quantize" ]]; then
  cmake -S "$source_dir" -B "$source_dir/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$source_dir/build" -j"$(nproc)" --target llama-quantize >/dev/null
fi
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "${wheels[@]}" torch numpy sentencepiece transformers protobuf
  "$venv/bin/pip" install -q "${wheels[@]}" -e "$source_dir/gguf-py"
fi

model="$repo/resources/demo/billa-demo-restored"
name="BiLLa demo"
rm -f "$out"/billa-demo-*.gguf
for type in f16 bf16; do
  "$venv/bin/python" "$source_dir/convert_hf_to_gguf.py" "$model" --outfile "$out/billa-demo-$type.gguf" --outtype "$type" --model-name "$name" >/dev/null 2>&1
done
for type in q8_0 q4_0 q4_k_m q5_k_m q6_k; do
  "$quantize" "$out/billa-demo-f16.gguf" "$out/billa-demo-$type.gguf" "${type^^}" 1 >/dev/null 2>&1
done

{
  echo "# llama.cpp's own conversion of the demo model (generated, do not edit)"
  echo
  echo "Made by \`scripts/make-llama-cpp-reference.sh\` from \`resources/demo/billa-demo-restored\` with the llama.cpp"
  echo "source node-llama-cpp $(node -p "require('$repo/node_modules/node-llama-cpp/package.json').version") pins"
  echo "(\`$(git -C "$source_dir" log -1 --format=%h)\`, release \`$(node -p "require('$repo/node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag")\`), Python packages:"
  echo "$("$venv/bin/pip" freeze 2>/dev/null | grep -E '^(torch|numpy|sentencepiece|transformers|protobuf)==' | sed 's/^/`/; s/$/`/' | paste -sd ' ')."
  echo
  echo "- F16 and BF16: \`convert_hf_to_gguf.py MODEL --outtype f16|bf16 --model-name \"$name\"\`"
  echo "- the others: \`llama-quantize billa-demo-f16.gguf OUT TYPE\`"
  echo
  echo "| file | bytes | sha256 |"
  echo "| --- | --- | --- |"
  for file in "$out"/billa-demo-*.gguf; do
    echo "| \`$(basename "$file")\` | $(stat -c %s "$file") | \`$(sha256sum "$file" | cut -c1-16)…\` |"
  done
} >"$out/README.md"
echo "wrote $out"
