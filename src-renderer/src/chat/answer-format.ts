// How an answer's numbers read: the quiet stats line under it, and its Markdown renderer per language.
import type { GenerationStats } from "../../../src-main/contract/api.js";
import type { I18n, MessageKey } from "../i18n/i18n.svelte.js";
import { createMarkdownRenderer, type RenderMarkdown } from "../markdown/render-markdown.js";

const STOP_REASONS: Record<GenerationStats["stopReason"], MessageKey> = {
  eos: "chat.stop.eos",
  "stop-text": "chat.stop.stopText",
  "max-tokens": "chat.stop.maxTokens",
  stopped: "chat.stop.stopped",
};

export function formatDuration(i18n: I18n, ms: number): string {
  const number = (value: number, digits: number) => new Intl.NumberFormat(i18n.locale, { maximumFractionDigits: digits }).format(value);
  return ms < 1000 ? i18n.t("chat.ms", { value: number(ms, 0) }) : i18n.t("chat.seconds", { value: number(ms / 1000, 1) });
}

export function formatStats(i18n: I18n, stats: GenerationStats): string {
  const speed = new Intl.NumberFormat(i18n.locale, { maximumFractionDigits: 1 }).format(stats.tokensPerSecond);
  const parts = [i18n.t("chat.statsTokens", { count: stats.newTokens }), i18n.t("chat.statsSpeed", { speed })];
  if (stats.timeToFirstTokenMs !== null) parts.push(i18n.t("chat.statsFirstToken", { time: formatDuration(i18n, stats.timeToFirstTokenMs) }));
  parts.push(i18n.t(STOP_REASONS[stats.stopReason]));
  return parts.join(" · ");
}

const renderers = new Map<string, RenderMarkdown>();

/** One Markdown renderer per language (the copy buttons' text is part of the HTML). */
export function markdownFor(i18n: I18n): RenderMarkdown {
  let render = renderers.get(i18n.locale);
  if (!render) {
    render = createMarkdownRenderer({ copyCode: i18n.t("chat.copyCode"), remoteImage: i18n.t("chat.remoteImage") });
    renderers.set(i18n.locale, render);
  }
  return render;
}
