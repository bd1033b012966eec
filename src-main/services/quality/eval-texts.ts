// The texts perplexity is measured on: the two shipped with the app (resources/eval-texts, see its README for
// their licence), or any UTF-8 text file the user gives. Files from users are untrusted: size-limited, decoded
// strictly, and refused with a reason when empty or not UTF-8.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { BuiltinText, EvalText } from "../../contract/api.js";
import { BillaError } from "../../contract/errors.js";
import { EVAL_TEXTS_DIR } from "../app-root.js";

/** Far more than a useful evaluation text (a few thousand tokens); a bigger file is probably not one. */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

const BUILTIN_NAMES: Record<BuiltinText, string> = { zh: "中文 (zh)", en: "English (en)" };

export interface LoadedText {
  id: string;
  name: string;
  sha256: string;
  content: string;
}

export async function loadEvalText(text: EvalText): Promise<LoadedText> {
  const path = "builtin" in text ? join(EVAL_TEXTS_DIR, `${text.builtin}.txt`) : text.file;
  const name = "builtin" in text ? BUILTIN_NAMES[text.builtin] : basename(path);
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new BillaError("not_found", `There is no text file at ${path}. Check the path.`);
  if (info.size > MAX_TEXT_BYTES) throw new BillaError("bad_file", `${name} is ${Math.round(info.size / 2 ** 20)} MiB; an evaluation text should be a few thousand words (at most 64 MiB).`);
  const bytes = await readFile(path);
  let content: string;
  try {
    content = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BillaError("bad_file", `${name} is not UTF-8 text. Save it as UTF-8 (or choose a .txt file), then measure again.`);
  }
  // llama-perplexity drops one final newline of the file it reads (common/arg.cpp, --file): so do we.
  if (content.endsWith("\n")) content = content.slice(0, -1);
  if (!content.trim()) throw new BillaError("invalid_input", `${name} is empty. Choose a text of a few thousand words.`);
  return {
    id: "builtin" in text ? `builtin:${text.builtin}` : `file:${name}`,
    name,
    sha256: createHash("sha256").update(content).digest("hex"),
    content,
  };
}
