// How model facts read in each language: counts, sizes and the memory-fit verdict.
import type { MemoryEstimate, PromptFormat, ResolvedPromptFormat } from "../../../src-main/contract/api.js";
import type { I18n, MessageKey } from "../i18n/i18n.svelte.js";

/** 6738415616 → "6.7B" in English, "67亿" in Chinese: the way each language counts parameters. */
export function parameterCount(i18n: I18n, count: number | null): string {
  if (count === null) return i18n.t("models.unknown");
  return new Intl.NumberFormat(i18n.locale, { notation: "compact", maximumFractionDigits: 1 }).format(count);
}

export function wholeNumber(i18n: I18n, value: number | null): string {
  return value === null ? i18n.t("models.unknown") : new Intl.NumberFormat(i18n.locale).format(value);
}

export const FIT_LABELS: Record<MemoryEstimate["fit"], { key: MessageKey; tone: "ok" | "warn" | "danger" }> = {
  fits: { key: "models.fit.fits", tone: "ok" },
  "fits-partly-on-gpu": { key: "models.fit.partly", tone: "warn" },
  "does-not-fit": { key: "models.fit.no", tone: "danger" },
};

export const PROMPT_FORMAT_LABELS: Record<PromptFormat, MessageKey> = {
  auto: "models.promptFormat.auto",
  billa: "models.promptFormat.billa",
  model: "models.promptFormat.model",
};

const PROMPT_FORMAT_REASONS: Record<ResolvedPromptFormat["reason"], MessageKey> = {
  chosen: "models.promptFormat.reason.chosen",
  "billa-metadata": "models.promptFormat.reason.billaMetadata",
  "billa-template": "models.promptFormat.reason.billaTemplate",
  "no-template": "models.promptFormat.reason.noTemplate",
  "own-template": "models.promptFormat.reason.ownTemplate",
};

/** "BiLLa's format (no chat template in the file)": which format chats use, and why. */
export function promptFormatText(i18n: I18n, resolved: ResolvedPromptFormat): string {
  return i18n.t("models.promptFormat.resolved", {
    format: i18n.t(resolved.format === "billa" ? "models.promptFormat.format.billa" : "models.promptFormat.format.model"),
    reason: i18n.t(PROMPT_FORMAT_REASONS[resolved.reason]),
  });
}

/** The protocols the unencrypted-connection warning names (values, not words to translate). */
export const UNENCRYPTED_PARAMS = { http: "http", https: "https://" };
