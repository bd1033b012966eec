// Which words of an answer are not in the reference answer: jsdiff's longest-common-subsequence diff over words,
// cut by Intl.Segmenter, which knows Chinese words as well as English ones (a Chinese sentence has no spaces).
import { diffArrays } from "diff";

export interface AnswerPiece {
  text: string;
  /** Not in the reference answer (added or changed). */
  changed: boolean;
}

/** Words with the spaces and punctuation between them, so that joining them gives the text back. */
export function words(text: string, locale: string): string[] {
  return [...new Intl.Segmenter(locale, { granularity: "word" }).segment(text)].map((segment) => segment.segment);
}

/** The answer in pieces, each marked when it differs from the reference; neighbouring pieces of a kind are joined. */
export function againstReference(reference: string, answer: string, locale: string): AnswerPiece[] {
  const pieces: AnswerPiece[] = [];
  for (const part of diffArrays(words(reference, locale), words(answer, locale))) {
    if (part.removed) continue;
    const changed = part.added === true;
    const last = pieces.at(-1);
    if (last && last.changed === changed) last.text += part.value.join("");
    else pieces.push({ text: part.value.join(""), changed });
  }
  return pieces;
}
