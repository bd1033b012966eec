// The piece of a message shown under a search result, with the words that matched marked. Built here
// rather than with FTS5's snippet(), because scanned short words (a 2-character Chinese query) have no
// index to highlight from, and one way of doing it keeps both kinds of result alike.
import type { SearchResult } from "../../contract/api.js";

const CONTEXT_BEFORE = 40;
const LENGTH = 160;

export function snippetOf(text: string, words: readonly string[]): SearchResult["snippet"] {
  const pattern = new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "giu");
  const first = Math.max(0, text.search(pattern));
  const start = Math.max(0, first - CONTEXT_BEFORE);
  const end = Math.min(text.length, start + LENGTH);
  const window = text.slice(start, end).replace(/\s+/g, " ");
  const parts: SearchResult["snippet"] = [];
  if (start > 0) parts.push({ text: "…", match: false });
  let last = 0;
  for (const match of window.matchAll(pattern)) {
    if (match.index > last) parts.push({ text: window.slice(last, match.index), match: false });
    parts.push({ text: match[0], match: true });
    last = match.index + match[0].length;
  }
  if (last < window.length) parts.push({ text: window.slice(last), match: false });
  if (end < text.length) parts.push({ text: "…", match: false });
  return parts;
}
