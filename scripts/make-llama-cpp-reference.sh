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
#   quant-types.json   the type llama-quantize gives every tensor of two random-weight LLaMAs, for every output
#                      type: 32 layers as BiLLa-7B has (the per-layer Q6_K rule of Q4_K_M/Q5_K_M), and rows of 320
#                      values, which 256-value blocks do not divide (the fallback types). Their GGUFs are not kept.
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

# Two random-weight LLaMAs in Hugging Face form (the demo's tokenizer, fp16 safetensors), for the types table.
shapes="$work/shapes"
rm -rf "$shapes" && mkdir -p "$shapes"
"$venv/bin/python" - "$repo/resources/demo/billa-demo-restored" "$shapes" <<'PY'
import json, shutil, sys
from pathlib import Path
import torch
from safetensors.torch import save_file
demo, out = Path(sys.argv[1]), Path(sys.argv[2])
config = json.loads((demo / "config.json").read_text())
torch.manual_seed(0)
for name, hidden, layers, intermediate in (("layers-32", 256, 32, 512), ("rows-320", 320, 2, 640)):
    d = out / name
    d.mkdir()
    for file in ("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(demo / file, d / file)
    (d / "config.json").write_text(json.dumps({**config, "hidden_size": hidden, "num_hidden_layers": layers,
                                               "intermediate_size": intermediate, "num_attention_heads": hidden // 64}))
    v = config["vocab_size"]
    w = lambda *shape: (torch.randn(*shape) * 0.02).half()
    t = {"model.embed_tokens.weight": w(v, hidden), "lm_head.weight": w(v, hidden), "model.norm.weight": torch.ones(hidden).half()}
    for i in range(layers):
        p = f"model.layers.{i}."
        for proj in ("q", "k", "v", "o"):
            t[p + f"self_attn.{proj}_proj.weight"] = w(hidden, hidden)
        t[p + "mlp.gate_proj.weight"] = w(intermediate, hidden)
        t[p + "mlp.up_proj.weight"] = w(intermediate, hidden)
        t[p + "mlp.down_proj.weight"] = w(hidden, intermediate)
        t[p + "input_layernorm.weight"] = torch.ones(hidden).half()
        t[p + "post_attention_layernorm.weight"] = torch.ones(hidden).half()
    save_file(t, d / "model.safetensors", metadata={"format": "pt"})
PY
{
  echo "{"
  first_shape=1
  for shape in layers-32 rows-320; do
    "$venv/bin/python" "$source_dir/convert_hf_to_gguf.py" "$shapes/$shape" --outfile "$shapes/$shape-f16.gguf" --outtype f16 >/dev/null 2>&1
    "$venv/bin/python" "$source_dir/convert_hf_to_gguf.py" "$shapes/$shape" --outfile "$shapes/$shape-bf16.gguf" --outtype bf16 >/dev/null 2>&1
    for type in q8_0 q4_0 q4_k_m q5_k_m q6_k; do
      "$quantize" "$shapes/$shape-f16.gguf" "$shapes/$shape-$type.gguf" "${type^^}" 1 >/dev/null 2>&1
    done
    ((first_shape)) || echo ","
    first_shape=0
    echo "\"$shape\": {"
    first_type=1
    for type in f16 bf16 q8_0 q4_0 q4_k_m q5_k_m q6_k; do
      ((first_type)) || echo ","
      first_type=0
      echo "\"$type\": "
      "$venv/bin/python" -c "
import json, sys
from gguf import GGUFReader
r = GGUFReader(sys.argv[1])
print(json.dumps({t.name: t.tensor_type.name for t in r.tensors}, sort_keys=True))" "$shapes/$shape-$type.gguf"
    done
    echo "}"
  done
  echo "}"
} | "$venv/bin/python" -c "import json, sys; print(json.dumps(json.load(sys.stdin), indent=1, sort_keys=True))" >"$out/quant-types.json"
rm -rf "$shapes"

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
  echo "- \`quant-types.json\`: the tensor types of two random-weight LLaMAs converted and quantized the same way (32"
  echo "  layers of width 256; 2 layers of width 320), for every type"
  echo
  echo "| file | bytes | sha256 |"
  echo "| --- | --- | --- |"
  for file in "$out"/billa-demo-*.gguf; do
    echo "| \`$(basename "$file")\` | $(stat -c %s "$file") | \`$(sha256sum "$file" | cut -c1-16)…\` |"
  done
} >"$out/README.md"
echo "wrote $out"
