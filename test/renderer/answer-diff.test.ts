// The side-by-side view's highlighting: words of an answer that are not in the first model's answer, in English
// and in Chinese (no spaces between words), and the text always given back whole.
import { describe, expect, it } from "vitest";
import { againstReference, words } from "../../src-renderer/src/quality/answer-diff.js";

describe("differences between two answers", () => {
  it("marks the words that changed, keeping the rest as it is", () => {
    const pieces = againstReference("The capital of France is Paris.", "The capital of France is Lyon, I think.", "en");
    expect(pieces.map((piece) => piece.text).join("")).toBe("The capital of France is Lyon, I think.");
    expect(pieces.filter((piece) => piece.changed).map((piece) => piece.text.trim())).toEqual(["Lyon, I think"]);
  });

  it("cuts Chinese into words, so one changed word is marked and not the whole sentence", () => {
    expect(words("北京是中国的首都。", "zh-CN").length).toBeGreaterThan(3);
    const pieces = againstReference("北京是中国的首都。", "上海是中国的首都。", "zh-CN");
    expect(pieces.map((piece) => piece.text).join("")).toBe("上海是中国的首都。");
    expect(pieces.filter((piece) => piece.changed).map((piece) => piece.text)).toEqual(["上海"]);
  });

  it("marks nothing in an identical answer", () => {
    expect(againstReference("17 + 25 = 42.", "17 + 25 = 42.", "en")).toEqual([{ text: "17 + 25 = 42.", changed: false }]);
  });
});
