// Two languages, switchable at run time. A typed dictionary, not an i18n library: with two locales and
// no plural rules, the compiler checking every key in both languages is worth more than ICU formatting.
import * as chat from "../chat/chat-messages.js";
import * as convert from "../convert/convert-messages.js";
import * as models from "../models/models-messages.js";
import * as quality from "../quality/quality-messages.js";
import * as settings from "../settings/settings-messages.js";
import { en as shellEn } from "./en.js";
import { zhCN as shellZhCN } from "./zh-cn.js";

const en = { ...shellEn, ...chat.en, ...models.en, ...quality.en, ...convert.en, ...settings.en };
export type MessageKey = keyof typeof en;
type Messages = Record<MessageKey, string>;
const zhCN: Messages = { ...shellZhCN, ...chat.zhCN, ...models.zhCN, ...quality.zhCN, ...convert.zhCN, ...settings.zhCN };

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];

const dictionaries: Record<Locale, Messages> = { en, "zh-CN": zhCN };
const STORAGE_KEY = "billa.locale";

/** Chinese for any zh-* system language, English otherwise. */
export function localeFromSystem(languages: readonly string[]): Locale {
  return languages.some((language) => language.toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

export class I18n {
  locale: Locale = $state("en");

  constructor(initial: Locale, private readonly storage?: Storage) {
    this.locale = initial;
  }

  static fromEnvironment(navigatorLanguages: readonly string[], storage: Storage): I18n {
    const saved = storage.getItem(STORAGE_KEY);
    const initial = (LOCALES as readonly string[]).includes(saved ?? "") ? (saved as Locale) : localeFromSystem(navigatorLanguages);
    return new I18n(initial, storage);
  }

  setLocale(locale: Locale): void {
    this.locale = locale;
    this.storage?.setItem(STORAGE_KEY, locale);
  }

  t(key: MessageKey, params: Record<string, string | number> = {}): string {
    return dictionaries[this.locale][key].replace(/\{(\w+)\}/g, (match, name: string) => String(params[name] ?? match));
  }

  /** Sizes in binary units, with the locale's digits and separators. */
  bytes(count: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = count;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${new Intl.NumberFormat(this.locale, { maximumFractionDigits: 1 }).format(value)} ${units[unit]}`;
  }
}
