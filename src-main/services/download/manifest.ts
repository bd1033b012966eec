// Which files of a repository conversion needs, and how much room they and the conversion's output take.
// The choice of weights follows the conversion's own order (checkpoint-folder.ts): safetensors first, then
// PyTorch shards with or without their index, then a single pytorch_model.bin.
import { estimatedFileBytes, type OutputTypeName } from "../../contract/output-types.js";
import { BillaError } from "../../contract/errors.js";
import type { HubFile } from "./hub-client.js";

/** Read by the conversion besides the weights (tokenizer_config.json and added_tokens.json when present). */
const REQUIRED = ["config.json", "tokenizer.model"];
const OPTIONAL = ["tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"];

const SAFETENSORS_SHARD = /^model-\d+-of-\d+\.safetensors$/;
const TORCH_SHARD = /^pytorch_model-\d+-of-\d+\.bin$/;
/** What a file may be called in the destination: a plain name, nothing that climbs out of the folder. */
const PLAIN_NAME = /^[A-Za-z0-9_][\w.-]*$/;

function weightFiles(names: Set<string>): string[] {
  const all = [...names].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (names.has("model.safetensors.index.json")) return ["model.safetensors.index.json", ...all.filter((name) => SAFETENSORS_SHARD.test(name))];
  if (names.has("model.safetensors")) return ["model.safetensors"];
  const torchShards = all.filter((name) => TORCH_SHARD.test(name));
  if (torchShards.length > 0) return [...(names.has("pytorch_model.bin.index.json") ? ["pytorch_model.bin.index.json"] : []), ...torchShards];
  if (names.has("pytorch_model.bin")) return ["pytorch_model.bin"];
  return [];
}

/** The files to download, in the order they should come: small ones first, so a broken repository shows early. */
export function conversionFiles(repo: string, commit: string, files: HubFile[]): HubFile[] {
  // Conversion reads one folder: files in sub-folders are not part of it.
  const topLevel = new Map(files.filter((file) => !file.path.includes("/") && PLAIN_NAME.test(file.path)).map((file) => [file.path, file]));
  const names = new Set(topLevel.keys());
  const weights = weightFiles(names);
  const missing = [...REQUIRED.filter((name) => !names.has(name)), ...(weights.length === 0 ? ["model weights (pytorch_model*.bin or model*.safetensors)"] : [])];
  if (missing.length > 0) {
    throw new BillaError("bad_file", `${repo} (commit ${commit.slice(0, 7)}) has no ${missing.join(", ")}: it is not a release BiLLa Desktop can convert. Check the repository name.`);
  }
  const chosen = [...REQUIRED, ...OPTIONAL.filter((name) => names.has(name)), ...weights].map((name) => topLevel.get(name)!);
  return chosen.sort((a, b) => a.size - b.size);
}

/** Released weights are float16: two bytes a parameter (BiLLa's float32 embedding makes this a little high, which is safe here). */
export function conversionOutputBytes(files: HubFile[], outType: OutputTypeName): number {
  const weightBytes = files.filter((file) => /\.(bin|safetensors)$/.test(file.path)).reduce((sum, file) => sum + file.size, 0);
  return estimatedFileBytes(outType, weightBytes / 2);
}
