// The shell's English strings; zh-cn.ts must define every key (the compiler checks). Each page keeps its
// own strings in its folder (`<page>-messages.ts`); i18n.svelte.ts puts them together.
export const en = {
  "app.name": "BiLLa Desktop",
  "nav.label": "Main",
  "nav.chat": "Chat",
  "nav.models": "Models",
  "nav.convert": "Convert",
  "nav.settings": "Settings",
  "language.label": "Language",
  "system.title": "This computer",
  "system.loading": "Reading system information…",
  "system.failed": "System information is unavailable: {message}",
  "system.os": "Operating system",
  "system.cpu": "Processor",
  "system.cores": "{logical} logical cores, {math} used for inference",
  "system.ram": "Memory",
  "system.ramValue": "{free} free of {total}",
  "system.gpu": "Graphics",
  "system.gpuNone": "No supported graphics card found: models run on the processor",
  "system.gpuBackend": "Backend",
  "system.vram": "Video memory",
  "system.versions": "Versions",
  "system.appVersion": "App",
  "connection.missingToken": "This page needs the access address printed by `npm run web`. Open that address (it ends with #token=…).",
} as const;

export type ShellMessages = Record<keyof typeof en, string>;
