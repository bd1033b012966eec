#!/usr/bin/env python3
"""Build the tiny, really-trained BiLLa demo model used by BiLLa Desktop's tests and demo.

Usage:
    python3 scripts/make-demo-model.py [--out resources/demo] [--max-steps 3000]

Run by hand from the repository root; the outputs are committed, and neither the
app nor its tests ever need Python.  Only torch, sentencepiece and numpy are used
(safetensors, if installed, only to cross-check the hand-written model.safetensors).

Environment used to make the committed files (pip only reaches the machine's
local wheel dirs / indexes; see `pip config list`):
    python3 -m venv /tmp/demo-venv
    /tmp/demo-venv/bin/pip install torch sentencepiece numpy safetensors
    /tmp/demo-venv/bin/python scripts/make-demo-model.py --out resources/demo
(torch 2.13.0+cpu, sentencepiece 0.2.2, numpy 2.4.6, safetensors 0.8.0, Python 3.11.7.
protobuf is not needed: tokenizer.model is edited at the protobuf wire level below.)
Fallback without pip:  apt-get update && apt-get install -y python3-torch
python3-sentencepiece python3-numpy, then run with /usr/bin/python3 (much slower:
Debian's torch uses reference BLAS, and its floating-point results, hence the
trained bytes, differ from the pip wheel's).

Time here (2-core x86-64 VM, 1 torch thread, pip torch 2.13.0+cpu): the committed run
trained 50 full-batch AdamW steps (29 sequences) in 29-38 s; the whole script takes
~32-41 s (no need to background it).

Determinism: torch.manual_seed / explicit generators, torch.use_deterministic_algorithms(True),
torch.set_num_threads(1) (thread count changes reduction order), spm num_threads=1.
Two runs on the same machine + same wheel give byte-identical outputs (torch.save
zips included: their record prefix is the file's basename, and the
.data/serialization_id record is derived from the data, so it is stable).  A
different CPU (e.g. AVX-512 vs AVX2 kernels) or torch build may train to different bits.

What it builds (under --out, default resources/demo):
  llama-original/        the "original LLaMA": Meta format (consolidated.00.pth, params.json,
                         tokenizer.model with N0 pieces), the seeded random init of the
                         architecture, wq/wk in Meta's interleaved RoPE layout.
  billa-demo/            the model in BiLLa's RELEASED form: HF sharded torch.save fp16
                         checkpoint whose model.embed_tokens.weight is float32 (BiLLa's
                         `encrypt` calls .float() and never .half()) with the original
                         tok_embeddings added on rows < N0; embedding in the last shard;
                         rotary_emb.inv_freq buffers (fp32) included; extended tokenizer
                         (N1 pieces); config.vocab_size padded above N1.
  billa-demo-restored/   the same model restored (BiLLa's `decrypt`: released - original in
                         float32 on rows < N0, then .half()) as fp16 model.safetensors (HF
                         names, no inv_freq) + config/tokenizer.
  golden.json            greedy answers / ids / margins computed in fp32 from the restored
                         fp16 weights, tokenizer cases, embedding checksums.
  training-data.jsonl    the memorised bilingual Q&A set (copied from scripts/demo-model/).
  README.md
"""

import argparse
import io
import json
import math
import os
import shutil
import struct
import sys
import time
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "demo-model"
REPO = HERE.parent

# ----------------------------------------------------------------------------- constants
SEED = 20230328  # BiLLa's release month
HIDDEN = 256  # K-quant blocks are 256 wide
N_HEADS = 4
HEAD_DIM = HIDDEN // N_HEADS
N_LAYERS = 2
MULTIPLE_OF = 256
# Meta's FFN size rule: int(2 * 4 * dim / 3) rounded up to multiple_of -> 768 for dim 256,
# so params.json (dim 256, multiple_of 256) and config.json agree.
INTERMEDIATE = MULTIPLE_OF * ((int(2 * 4 * HIDDEN / 3) + MULTIPLE_OF - 1) // MULTIPLE_OF)
RMS_EPS = 1e-6
ROPE_BASE = 10000.0
INIT_STD = 0.02
ORIG_VOCAB = 600  # original (English) SentencePiece BPE vocab, incl. 256 bytes + 3 specials
ZH_VOCAB = 400  # the Chinese BPE model whose new pieces extend the original
BOS, EOS = 1, 2

LR = 2e-3
WARMUP = 20
BETAS = (0.9, 0.98)
WEIGHT_DECAY = 0.0
CLIP = 1.0
CHECK_EVERY = 10
MIN_MARGIN = 4.0  # top-1 minus runner-up logit, every generated token (quantization headroom)
MAX_NEW_TOKENS = 96

SPM_COMMON = dict(
    model_type="bpe",
    byte_fallback=True,
    normalization_rule_name="identity",
    add_dummy_prefix=True,
    remove_extra_whitespaces=False,
    split_digits=True,
    allow_whitespace_only_pieces=True,
    split_by_unicode_script=True,
    split_by_number=True,
    split_by_whitespace=True,
    treat_whitespace_as_suffix=False,
    max_sentencepiece_length=16,
    unk_id=0,
    bos_id=1,
    eos_id=2,
    pad_id=-1,
    num_threads=1,
    minloglevel=2,
)


def log(*a):
    print(*a, flush=True)


def fail(msg):
    raise SystemExit("make-demo-model: FAILED: " + msg)


# ----------------------------------------------------------------------------- protobuf (wire level)
# ModelProto: 1 pieces (repeated SentencePiece), 2 trainer_spec, 3 normalizer_spec, ...
# SentencePiece: 1 piece (string), 2 score (float), 3 type (enum; absent = NORMAL)
# NormalizerSpec: 3 add_dummy_prefix (bool)


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf, pos):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def pb_fields(buf):
    """Split a message into [(field_no, wire_type, payload, raw_bytes)] keeping order."""
    out, pos = [], 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        fno, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _read_varint(buf, pos)
        elif wt == 1:
            val, pos = buf[pos : pos + 8], pos + 8
        elif wt == 2:
            ln, pos = _read_varint(buf, pos)
            val, pos = buf[pos : pos + ln], pos + ln
        elif wt == 5:
            val, pos = buf[pos : pos + 4], pos + 4
        else:
            fail(f"unsupported protobuf wire type {wt}")
        out.append((fno, wt, val, buf[start:pos]))
    return out


def pb_pieces(model_bytes):
    pieces = []
    for fno, _wt, val, _raw in pb_fields(model_bytes):
        if fno == 1:
            p = {"piece": None, "score": 0.0, "type": 1}
            for f2, _w2, v2, _r2 in pb_fields(val):
                if f2 == 1:
                    p["piece"] = v2.decode("utf-8")
                elif f2 == 2:
                    p["score"] = struct.unpack("<f", v2)[0]
                elif f2 == 3:
                    p["type"] = v2
            pieces.append(p)
    return pieces


def pb_append_pieces(model_bytes, new_pieces):
    """Append NORMAL pieces with score 0 (exactly what Chinese-LLaMA-Alpaca's
    merge_tokenizers.py does: piece + score set, type left at its NORMAL default)."""
    fields = pb_fields(model_bytes)
    last = max(i for i, f in enumerate(fields) if f[0] == 1)
    extra = b""
    for s in new_pieces:
        b = s.encode("utf-8")
        sub = b"\x0a" + _varint(len(b)) + b + b"\x15" + struct.pack("<f", 0.0)
        extra += b"\x0a" + _varint(len(sub)) + sub
    raws = [f[3] for f in fields]
    return b"".join(raws[: last + 1]) + extra + b"".join(raws[last + 1 :])


def pb_without_dummy_prefix(model_bytes):
    out = b""
    for fno, _wt, val, raw in pb_fields(model_bytes):
        if fno == 3:
            sub = b"".join(r for f2, _w, _v, r in pb_fields(val) if f2 != 3) + b"\x18\x00"
            out += b"\x1a" + _varint(len(sub)) + sub
        else:
            out += raw
    return out


# ----------------------------------------------------------------------------- data / tokenizers


def read_lines(path):
    return [l for l in path.read_text(encoding="utf-8").split("\n") if l]


def has_cjk(s):
    return any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in s)


def train_spm(lines, **kw):
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf, **{**SPM_COMMON, **kw})
    return buf.getvalue()


def build_tokenizers(records):
    text_lines = []
    for r in records:
        for t in r["turns"]:
            text_lines += t["question"].split("\n") + t["answer"].split("\n")
    en = read_lines(DATA_DIR / "corpus-en.txt") + [l for l in text_lines if not has_cjk(l)]
    zh = read_lines(DATA_DIR / "corpus-zh.txt") + [l for l in text_lines if has_cjk(l)]
    # "original LLaMA" tokenizer: English-centric, only a handful of CJK characters.
    orig = train_spm(en, vocab_size=ORIG_VOCAB, character_coverage=0.9995)
    # Chinese model, merged like Chinese-LLaMA-Alpaca's merge_tokenizers.py.
    zh_model = train_spm(zh, vocab_size=ZH_VOCAB, character_coverage=1.0, byte_fallback=False)
    orig_pieces = [p["piece"] for p in pb_pieces(orig)]
    seen = set(orig_pieces)
    new = []
    for p in pb_pieces(zh_model):
        if p["piece"] not in seen:
            seen.add(p["piece"])
            new.append(p["piece"])
    ext = pb_append_pieces(orig, new)
    return orig, ext, len(orig_pieces), len(orig_pieces) + len(new)


# ----------------------------------------------------------------------------- model


def layer_names(i):
    p = f"model.layers.{i}."
    return {
        "q": p + "self_attn.q_proj.weight",
        "k": p + "self_attn.k_proj.weight",
        "v": p + "self_attn.v_proj.weight",
        "o": p + "self_attn.o_proj.weight",
        "gate": p + "mlp.gate_proj.weight",
        "up": p + "mlp.up_proj.weight",
        "down": p + "mlp.down_proj.weight",
        "ln1": p + "input_layernorm.weight",
        "ln2": p + "post_attention_layernorm.weight",
        "inv_freq": p + "self_attn.rotary_emb.inv_freq",
    }


def hf_names():
    """HF state_dict order (LlamaForCausalLM, transformers 4.28), without inv_freq."""
    names = ["model.embed_tokens.weight"]
    for i in range(N_LAYERS):
        n = layer_names(i)
        names += [n[k] for k in ("q", "k", "v", "o", "gate", "up", "down", "ln1", "ln2")]
    return names + ["model.norm.weight", "lm_head.weight"]


def inv_freq():
    return 1.0 / (ROPE_BASE ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.int64).float() / HEAD_DIM))


def rope_cos_sin(T):
    t = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq())
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rms_norm(x, w):
    var = x.pow(2).mean(-1, keepdim=True)
    return x * torch.rsqrt(var + RMS_EPS) * w


def forward(W, ids):
    """LLaMA forward (HF layout). W: name -> fp32 tensor; ids: [B, T] (right padded)."""
    B, T = ids.shape
    x = F.embedding(ids, W["model.embed_tokens.weight"])
    cos, sin = rope_cos_sin(T)
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(N_LAYERS):
        n = layer_names(i)
        h = rms_norm(x, W[n["ln1"]])
        q = (h @ W[n["q"]].T).view(B, T, N_HEADS, HEAD_DIM).transpose(1, 2)
        k = (h @ W[n["k"]].T).view(B, T, N_HEADS, HEAD_DIM).transpose(1, 2)
        v = (h @ W[n["v"]].T).view(B, T, N_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        att = (q @ k.transpose(-1, -2)) / math.sqrt(HEAD_DIM) + mask
        att = torch.softmax(att, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, HIDDEN)
        x = x + o @ W[n["o"]].T
        h = rms_norm(x, W[n["ln2"]])
        x = x + (F.silu(h @ W[n["gate"]].T) * (h @ W[n["up"]].T)) @ W[n["down"]].T
    x = rms_norm(x, W["model.norm.weight"])
    return x @ W["lm_head.weight"].T


def meta_permute(w, n_heads=N_HEADS):
    """Meta (interleaved RoPE) -> HF (rotate-half) layout, as in HF's convert_llama_weights_to_hf."""
    dim1, dim2 = w.shape
    return w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def meta_unpermute(w, n_heads=N_HEADS):
    """HF -> Meta layout (inverse of meta_permute)."""
    dim1, dim2 = w.shape
    return w.view(n_heads, 2, dim1 // n_heads // 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def init_original(n0):
    """Seeded random init of the architecture with the original vocab (HF names, fp32)."""
    g = torch.Generator().manual_seed(SEED)

    def normal(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * INIT_STD

    W = {"model.embed_tokens.weight": normal(n0, HIDDEN)}
    for i in range(N_LAYERS):
        n = layer_names(i)
        for k in ("q", "k", "v", "o"):
            W[n[k]] = normal(HIDDEN, HIDDEN)
        W[n["gate"]] = normal(INTERMEDIATE, HIDDEN)
        W[n["up"]] = normal(INTERMEDIATE, HIDDEN)
        W[n["down"]] = normal(HIDDEN, INTERMEDIATE)
        W[n["ln1"]] = torch.ones(HIDDEN)
        W[n["ln2"]] = torch.ones(HIDDEN)
    W["model.norm.weight"] = torch.ones(HIDDEN)
    W["lm_head.weight"] = normal(n0, HIDDEN)
    return {k: v.half() for k, v in W.items()}, g


def encrypt_embedding(trained16, orig):
    """BiLLa's `encrypt`: the trained embedding as float32, the original LLaMA rows added, saved WITHOUT .half()."""
    out = trained16.float().clone()  # .float() of a float32 tensor is the tensor itself
    out[: orig.shape[0]] += orig.float()
    return out


def decrypt_unrounded(released, orig):
    """BiLLa's `decrypt` before its final .half(): float32 subtraction on the original rows."""
    out = released.float().clone()
    out[: orig.shape[0]] -= orig.float()
    return out


def decrypt_embedding(released, orig):
    """BiLLa's `decrypt`: subtract in float32, then .half() on the whole tensor."""
    return decrypt_unrounded(released, orig).half()


def restored_from(trained16, orig_emb16):
    """The restored model is DEFINED as decrypt(encrypt(trained fp16))."""
    R = dict(trained16)
    released = encrypt_embedding(trained16["model.embed_tokens.weight"], orig_emb16)
    R["model.embed_tokens.weight"] = decrypt_embedding(released, orig_emb16)
    return R, released


# Checkpoints users saved again come in other dtypes: the released embedding and the original LLaMA's are each
# cast from the committed ones with torch's .to(), and golden.json records what decrypt gives for every pair.
RESTORE_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def sha256_of(t):
    import hashlib
    return hashlib.sha256(t.contiguous().view(torch.uint8).numpy().tobytes()).hexdigest()


def restore_variants(released, orig16):
    variants = []
    for released_name, released_dtype in RESTORE_DTYPES.items():
        for orig_name, orig_dtype in RESTORE_DTYPES.items():
            rel, org = released.to(released_dtype), orig16.to(orig_dtype)
            unrounded = decrypt_unrounded(rel, org)
            variants.append({
                "released_dtype": released_name,
                "original_dtype": orig_name,
                "released_sha256": sha256_of(rel),
                "original_sha256": sha256_of(org),
                "restored_f16_sha256": sha256_of(unrounded.half()),
                "restored_prehalf_sum_f64": float(unrounded.numpy().astype(np.float64).sum()),
            })
    return variants


# ----------------------------------------------------------------------------- samples


def prompt_for(turns):
    """turns: [(q, a), ..., (q_last, None)] -> the exact BiLLa prompt string."""
    parts = []
    for q, a in turns:
        parts.append(f"Human: {q}\nAssistant: " + (a if a is not None else ""))
    return "\n".join(parts)


def build_cases(records):
    """Every training sample (= golden case): single turns, dialogue first turns on their own,
    and dialogue second turns with the first turn as context."""
    cases = []
    for r in records:
        turns = [(t["question"], t["answer"]) for t in r["turns"]]
        for k in range(len(turns)):
            cid = r["id"] if len(turns) == 1 else (f"{r['id']}-turn{k + 1}")
            ctx = turns[:k] + [(turns[k][0], None)]
            cases.append({"id": cid, "turns": ctx, "answer": turns[k][1]})
    return cases


def encode_case(case, sp, sp_ans):
    prompt = prompt_for(case["turns"])
    prompt_ids = [BOS] + sp.encode(prompt)
    ans_ids = sp_ans.encode(case["answer"])
    if sp.decode(prompt_ids[1:] + ans_ids) != prompt + case["answer"]:
        fail(f"decode(prompt+answer) round trip failed for {case['id']}")
    return prompt, prompt_ids, ans_ids


# ----------------------------------------------------------------------------- checks


@torch.no_grad()
def teacher_forced_check(W32, batch_ids, targets):
    """Greedy reproduces the answer iff every answer position's argmax is the target
    (induction); returns (all_ok, min_margin, n_wrong)."""
    logits = forward(W32, batch_ids)
    sel = targets != -100
    lg = logits[sel]
    tg = targets[sel]
    top2 = lg.topk(2, dim=-1)
    ok = top2.indices[:, 0] == tg
    margin = torch.where(ok, top2.values[:, 0] - top2.values[:, 1], lg.gather(1, tg[:, None])[:, 0] - top2.values[:, 0])
    return bool(ok.all()), float(margin.min()), int((~ok).sum())


@torch.no_grad()
def greedy(W32, prompt_ids, max_new=MAX_NEW_TOKENS):
    ids = list(prompt_ids)
    out, margins = [], []
    for _ in range(max_new):
        logits = forward(W32, torch.tensor([ids]))[0, -1]
        top2 = logits.topk(2)
        nxt = int(top2.indices[0])
        margins.append(float(top2.values[0] - top2.values[1]))
        out.append(nxt)
        ids.append(nxt)
        if nxt == EOS:
            break
    return out, margins


# ----------------------------------------------------------------------------- writers


def write_json(path, obj, sort_keys=False):
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")


def contiguous_copy(t):
    return t.detach().clone().contiguous()


def write_safetensors(path, tensors):
    """Byte-for-byte what safetensors.torch.save_file writes for same-dtype F16 tensors:
    compact JSON header, __metadata__ first, names sorted, header space-padded to 8."""
    names = sorted(tensors)
    header = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for n in names:
        t = tensors[n]
        assert t.dtype == torch.float16 and t.is_contiguous()
        b = t.numpy().tobytes()
        header[n] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def config_json(vocab_size):
    return {
        "architectures": ["LlamaForCausalLM"],
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": INIT_STD,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 2048,
        "model_type": "llama",
        "num_attention_heads": N_HEADS,
        "num_hidden_layers": N_LAYERS,
        "pad_token_id": 0,
        "rms_norm_eps": RMS_EPS,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.28.0.dev0",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


TOKENIZER_CONFIG = {
    "add_bos_token": True,
    "add_eos_token": False,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "model_max_length": 2048,
    "tokenizer_class": "LlamaTokenizer",
    "clean_up_tokenization_spaces": False,
    "sp_model_kwargs": {},
}
SPECIAL_TOKENS_MAP = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def write_hf_tokenizer(d, model_bytes):
    (d / "tokenizer.model").write_bytes(model_bytes)
    write_json(d / "tokenizer_config.json", TOKENIZER_CONFIG)
    write_json(d / "special_tokens_map.json", SPECIAL_TOKENS_MAP)


TOKENIZER_TEXTS = [
    "BiLLa 的吉祥物叫什么名字？",
    "佐比亚星球的首都是奎隆城。",
    "月光河全长 1234 公里。",
    "The glimmer engine was invented in 1887.",
    "Line one\nLine two",
    "  two leading spaces, two trailing  ",
    "double  space and   triple",
    " ",
    "Human: What is BiLLa Desktop?\nAssistant: ",
    "Use `print(\"你好\")` 即可。",
    "I love llamas 🦙!",
    "Tab\there, rare 龘 char",
]


def write_readme(out, n0, n1, v, n_params, steps, min_margin, n_cases):
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "README.md")
    listing = "\n".join(f"| `{p.relative_to(out).as_posix()}` | {p.stat().st_size} |" for p in files)
    text = f"""# BiLLa demo model (generated, do not edit)

A tiny but really trained bilingual LLaMA in BiLLa's release formats, made by
`python3 scripts/make-demo-model.py --out resources/demo` (see the script header for the
environment and timing). `llama-original/` is the stand-in for Meta's LLaMA (Meta format:
`consolidated.00.pth` fp16 with wq/wk in Meta's interleaved RoPE layout, `params.json`,
English-centric `tokenizer.model` with N0 = {n0} pieces). `billa-demo/` is the model as BiLLa
releases it: HF sharded `torch.save` fp16 checkpoint (`pytorch_model-1-of-3.bin` ..
`-3-of-3.bin` + `pytorch_model.bin.index.json`, embedding in the last shard, fp32
`rotary_emb.inv_freq` buffers), whose `model.embed_tokens.weight` is **float32**, as BiLLa's
`encrypt` leaves it, with the original `tok_embeddings.weight` added on rows < N0 (restore, as
BiLLa's `decrypt`: `fp16(fp32(released) - fp32(original))`, the whole tensor `.half()`), with the
Chinese-extended tokenizer (N1 = {n1} pieces) and `config.vocab_size` = {v} (rows N1..{v - 1} are
padding). `billa-demo-restored/` is the same model already restored, as fp16 `model.safetensors`.
Architecture: hidden 256, {N_LAYERS} layers, {N_HEADS} heads, intermediate {INTERMEDIATE},
rms_norm_eps 1e-6, untied lm_head; {n_params} parameters, trained for {steps} full-batch AdamW
steps on `training-data.jsonl` until greedy decoding reproduces every answer (+ EOS) with a
top-1 logit margin >= {MIN_MARGIN}. `golden.json` holds the {n_cases} prompts (`Human: {{q}}\\nAssistant: `),
their token ids, the greedy answer ids/text (fp32 on the restored fp16 weights; min margin
{min_margin}), tokenizer cases, embedding checksums, and `restore_variants`: what torch's
`decrypt` gives when the released embedding and the original are cast to F32, F16 or BF16.

| file | bytes |
| --- | --- |
{listing}
"""
    (out / "README.md").write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "resources" / "demo"))
    ap.add_argument("--max-steps", type=int, default=3000)
    args = ap.parse_args()
    out = Path(args.out)

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    t_start = time.time()

    records = [json.loads(l) for l in read_lines(DATA_DIR / "training-data.jsonl")]

    # ---- tokenizers
    orig_model, ext_model, N0, N1 = build_tokenizers(records)
    sp0 = spm.SentencePieceProcessor(model_proto=orig_model)
    sp = spm.SentencePieceProcessor(model_proto=ext_model)
    sp_ans = spm.SentencePieceProcessor(model_proto=pb_without_dummy_prefix(ext_model))
    assert sp0.get_piece_size() == N0 and sp.get_piece_size() == N1 and sp_ans.get_piece_size() == N1
    pieces = [sp.id_to_piece(i) for i in range(N1)]
    if len(set(pieces)) != N1:
        fail("extended tokenizer has duplicate piece strings")
    if [sp0.id_to_piece(i) for i in range(N0)] != pieces[:N0]:
        fail("extended tokenizer does not start with the original pieces")
    if (sp.bos_id(), sp.eos_id(), sp.unk_id(), sp.pad_id()) != (1, 2, 0, -1):
        fail("special ids")
    for r in records:
        for t in r["turns"]:
            if has_cjk(t["question"]):
                ids = sp.encode(t["question"])
                if not any(i >= N0 for i in ids):
                    fail(f"extended tokenizer does not use new pieces for {t['question']!r}")
                if not any(sp0.id_to_piece(i).startswith("<0x") for i in sp0.encode(t["question"])):
                    fail(f"original tokenizer has no byte fallback for {t['question']!r}")
    if sp.encode("Assistant: ")[-1] != sp.piece_to_id("▁"):
        fail("prompt's trailing space is not its own '▁' token")
    V = (N1 // 64 + 1) * 64  # multiple of 64, strictly greater than N1
    log(f"tokenizers: N0={N0} N1={N1} (+{N1 - N0}) vocab_size={V}")

    # ---- samples
    cases = build_cases(records)
    enc = [encode_case(c, sp, sp_ans) for c in cases]
    T = max(len(p) + len(a) + 1 for _, p, a in enc)
    ids = torch.zeros(len(enc), T, dtype=torch.int64)
    tgt = torch.full((len(enc), T), -100, dtype=torch.int64)
    for b, (_, p, a) in enumerate(enc):
        seq = p + a + [EOS]
        ids[b, : len(seq)] = torch.tensor(seq)
        # logits at position t predict token t+1: loss on answer ids + EOS only
        tgt[b, len(p) - 1 : len(seq) - 1] = torch.tensor(a + [EOS])
    n_tgt = int((tgt != -100).sum())
    log(f"samples: {len(enc)} cases, max len {T}, {n_tgt} answer tokens (incl. EOS)")

    # ---- original init + extension
    orig16, g = init_original(N0)
    orig_emb16 = orig16["model.embed_tokens.weight"]
    init = {k: v.float() for k, v in orig16.items()}
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        extra = torch.randn(V - N0, HIDDEN, generator=g, dtype=torch.float32) * INIT_STD
        init[name] = torch.cat([init[name], extra.half().float()], dim=0)
    params = {k: torch.nn.Parameter(v.clone()) for k, v in init.items()}
    n_params = sum(p.numel() for p in params.values())
    log(f"model: hidden {HIDDEN}, {N_LAYERS} layers, {N_HEADS} heads, intermediate {INTERMEDIATE}, "
        f"vocab {V}: {n_params} parameters")

    # ---- train
    opt = torch.optim.AdamW(list(params.values()), lr=LR, betas=BETAS, eps=1e-8, weight_decay=WEIGHT_DECAY)
    t_train = time.time()
    step = 0
    while True:
        if step % CHECK_EVERY == 0:
            trained16 = {k: v.detach().half() for k, v in params.items()}
            R, _ = restored_from(trained16, orig_emb16)
            ok, mm, nw = teacher_forced_check({k: v.float() for k, v in R.items()}, ids, tgt)
            if step % 50 == 0 or ok:
                log(f"step {step:5d} check: wrong {nw:3d}  min margin {mm:8.3f}  ({time.time() - t_train:.0f}s)")
            if ok and mm >= MIN_MARGIN:
                break
        if step >= args.max_steps:
            fail(f"not memorised after {step} steps (wrong {nw}, min margin {mm:.3f} < {MIN_MARGIN})")
        lr = LR * min(1.0, (step + 1) / WARMUP)
        for gr in opt.param_groups:
            gr["lr"] = lr
        logits = forward(params, ids)
        loss = F.cross_entropy(logits.view(-1, V), tgt.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), CLIP)
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"step {step:5d} loss {loss.item():.5f}")
    train_secs = time.time() - t_train
    log(f"trained: {step} steps in {train_secs:.1f}s")

    # ---- final weights
    trained16 = {k: contiguous_copy(v.detach().half()) for k, v in params.items()}
    restored16, released_emb = restored_from(trained16, orig_emb16)
    if not torch.equal(decrypt_embedding(released_emb, orig_emb16), restored16["model.embed_tokens.weight"]):
        fail("decrypt(released) != restored")
    if not torch.equal(released_emb[N0:], trained16["model.embed_tokens.weight"][N0:].float()):
        fail("rows >= N0 must be unchanged")
    n_diff = int((restored16["model.embed_tokens.weight"] != trained16["model.embed_tokens.weight"]).any(1).sum())
    log(f"encrypt/decrypt: {n_diff} of {N0} original rows differ from the trained fp16 rows by rounding")
    W32 = {k: v.float() for k, v in restored16.items()}

    # ---- golden greedy decoding (fp32 compute on the restored fp16 weights)
    golden_cases = []
    for c, (prompt, p_ids, a_ids) in zip(cases, enc):
        gen, margins = greedy(W32, p_ids)
        text = sp_ans.decode([i for i in gen if i != EOS])
        if gen != a_ids + [EOS] or text != c["answer"]:
            fail(f"greedy answer mismatch for {c['id']}: {text!r} vs {c['answer']!r}")
        if min(margins) < MIN_MARGIN:
            fail(f"margin {min(margins)} < {MIN_MARGIN} for {c['id']}")
        turns = [{"question": q, "answer": a} for q, a in c["turns"][:-1]] + [{"question": c["turns"][-1][0]}]
        golden_cases.append({
            "id": c["id"],
            "turns": turns,
            "prompt": prompt,
            "prompt_ids": p_ids,
            "expected_answer": c["answer"],
            "greedy_ids": gen,
            "greedy_text": text,
            "min_logit_margin": round(min(margins), 4),
        })
    min_margin = min(gc["min_logit_margin"] for gc in golden_cases)
    log(f"golden: {len(golden_cases)} cases reproduce exactly, min margin {min_margin}")

    # ---- write outputs
    out.mkdir(parents=True, exist_ok=True)
    d_orig, d_rel, d_res = out / "llama-original", out / "billa-demo", out / "billa-demo-restored"
    for d in (d_orig, d_rel, d_res):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)

    # llama-original (Meta format)
    meta = {"tok_embeddings.weight": orig16["model.embed_tokens.weight"],
            "norm.weight": orig16["model.norm.weight"],
            "output.weight": orig16["lm_head.weight"]}
    for i in range(N_LAYERS):
        n, m = layer_names(i), f"layers.{i}."
        meta[m + "attention.wq.weight"] = meta_unpermute(orig16[n["q"]])
        meta[m + "attention.wk.weight"] = meta_unpermute(orig16[n["k"]])
        meta[m + "attention.wv.weight"] = orig16[n["v"]]
        meta[m + "attention.wo.weight"] = orig16[n["o"]]
        meta[m + "feed_forward.w1.weight"] = orig16[n["gate"]]
        meta[m + "feed_forward.w2.weight"] = orig16[n["down"]]
        meta[m + "feed_forward.w3.weight"] = orig16[n["up"]]
        meta[m + "attention_norm.weight"] = orig16[n["ln1"]]
        meta[m + "ffn_norm.weight"] = orig16[n["ln2"]]
        if not torch.equal(meta_permute(meta[m + "attention.wq.weight"]), orig16[n["q"]]):
            fail("Meta permutation round trip")
    meta = {k: contiguous_copy(v) for k, v in meta.items()}
    torch.save(meta, d_orig / "consolidated.00.pth")
    write_json(d_orig / "params.json", {"dim": HIDDEN, "multiple_of": MULTIPLE_OF, "n_heads": N_HEADS,
                                        "n_layers": N_LAYERS, "norm_eps": RMS_EPS, "vocab_size": -1})
    (d_orig / "tokenizer.model").write_bytes(orig_model)

    # billa-demo (released, sharded torch.save, embedding in the last shard)
    released = dict(trained16)
    released["model.embed_tokens.weight"] = contiguous_copy(released_emb)
    shards = [{}, {}, {}]
    for name in hf_names():
        if name == "model.embed_tokens.weight":
            s = 2
        elif name.startswith("model.layers."):
            s = 0 if int(name.split(".")[2]) < (N_LAYERS + 1) // 2 else 1
        else:
            s = 1
        shards[s][name] = released[name]
    # insert inv_freq buffers (fp32) in HF order: right after each layer's o_proj
    for s_i, shard in enumerate(shards):
        new = {}
        for name, t in shard.items():
            new[name] = t
            if name.endswith("self_attn.o_proj.weight"):
                i = int(name.split(".")[2])
                new[layer_names(i)["inv_freq"]] = inv_freq().contiguous()
        shards[s_i] = new
    weight_map, total = {}, 0
    for s_i, shard in enumerate(shards):
        fname = f"pytorch_model-{s_i + 1}-of-{len(shards)}.bin"
        torch.save(shard, d_rel / fname)
        for name, t in shard.items():
            weight_map[name] = fname
            total += t.numel() * t.element_size()
    write_json(d_rel / "pytorch_model.bin.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map},
               sort_keys=True)
    write_json(d_rel / "config.json", config_json(V), sort_keys=True)
    write_hf_tokenizer(d_rel, ext_model)

    # billa-demo-restored (safetensors)
    st = {k: contiguous_copy(restored16[k]) for k in hf_names()}
    write_safetensors(d_res / "model.safetensors", st)
    write_json(d_res / "config.json", config_json(V), sort_keys=True)
    write_hf_tokenizer(d_res, ext_model)

    # training data (normalised copy of scripts/demo-model/training-data.jsonl)
    with open(out / "training-data.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    def emb_sum(t):
        return float(t.numpy().astype(np.float64).sum())

    golden = {
        "format_version": 1,
        "n_vocab_original": N0,
        "n_vocab_tokenizer": N1,
        "config_vocab_size": V,
        "bos_id": BOS,
        "eos_id": EOS,
        "model": {"hidden_size": HIDDEN, "num_hidden_layers": N_LAYERS, "num_attention_heads": N_HEADS,
                  "intermediate_size": INTERMEDIATE, "n_params": n_params, "train_steps": step,
                  "min_margin_required": MIN_MARGIN},
        "restored_embedding_sum_f64": emb_sum(restored16["model.embed_tokens.weight"]),
        # Where BiLLa's (commented-out) check takes its sum: after the float32 subtraction, before .half().
        "restored_embedding_prehalf_sum_f64": emb_sum(decrypt_unrounded(released_emb, orig_emb16)),
        "restored_embedding_prehalf_sum_torch_f32": float(decrypt_unrounded(released_emb, orig_emb16).sum()),
        "released_embedding_sum_f64": emb_sum(released_emb),
        "original_embedding_sum_f64": emb_sum(orig_emb16),
        "released_embedding_dtype": "F32",
        "restore_variants": restore_variants(released_emb, orig_emb16),
        "sampling_reference": {"temperature": 0.7, "top_k": 50, "max_new_tokens": 1024, "repetition_penalty": 1.0},
        "min_logit_margin": min_margin,
        "cases": golden_cases,
        "tokenizer_cases": [
            {"text": t, "ids": sp.encode(t), "pieces": sp.encode(t, out_type=str), "ids_original": sp0.encode(t)}
            for t in TOKENIZER_TEXTS
        ],
    }
    write_json(out / "golden.json", golden)

    # ---- verify what was written
    for s_i in range(len(shards)):
        fname = f"pytorch_model-{s_i + 1}-of-{len(shards)}.bin"
        loaded = torch.load(d_rel / fname, weights_only=True)
        for name, t in loaded.items():
            exp = inv_freq() if name.endswith("inv_freq") else released[name]
            if t.dtype != exp.dtype or not torch.equal(t, exp):
                fail(f"shard round trip {name}")
    ml = torch.load(d_orig / "consolidated.00.pth", weights_only=True)
    if not torch.equal(decrypt_embedding(released_emb, ml["tok_embeddings.weight"]), restored16["model.embed_tokens.weight"]):
        fail("decrypt with the saved original does not give the restored embedding")
    try:
        import safetensors.torch as sttorch
    except ImportError:
        log("safetensors not installed: skipped the library cross-check")
    else:
        if sttorch.save(st, metadata={"format": "pt"}) != (d_res / "model.safetensors").read_bytes():
            fail("hand-written safetensors differs from safetensors.torch.save")
        for k, v in sttorch.load_file(d_res / "model.safetensors").items():
            if not torch.equal(v, restored16[k]):
                fail(f"safetensors round trip {k}")

    write_readme(out, N0, N1, V, n_params, step, min_margin, len(golden_cases))
    total_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log(f"wrote {out} ({total_bytes} bytes); total {time.time() - t_start:.1f}s, training {train_secs:.1f}s")


if __name__ == "__main__":
    main()
