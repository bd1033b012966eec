import type { I18n } from "../i18n/i18n.svelte.js";

/** "3 min 20 s" / "45 s" in the user's language, for the time a conversion or a download has left. */
export function duration(i18n: I18n, seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? i18n.t("convert.run.minutes", { minutes, seconds: whole % 60 }) : i18n.t("convert.run.seconds", { seconds: whole });
}
