// @ts-check
// Lint, and the direction of imports: contract ← services ← transports, with `electron` only in the Electron
// transport and the renderer seeing nothing of src-main but the contract's types.
import { builtinModules } from "node:module";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import tseslint from "typescript-eslint";

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

/** @param {string} layer @param {string} why */
const forbid = (layer, why) => ({ group: [layer], message: why });

export default tseslint.config(
  { ignores: ["build/**", "dist/**", "node_modules/**", "test/artifacts/**", "resources/**"] },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  ...tseslint.configs.recommended,
  ...svelte.configs["flat/recommended"],
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: [".svelte"] } },
  },
  {
    files: ["src-renderer/src/**"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["src-main/**", "scripts/**", "test/**", "src-renderer/vite.config.ts"],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },

  // The contract is shared by every side: schemas and types only, nothing that runs on one platform.
  {
    files: ["src-main/contract/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(?!zod$)(?!\\./)",
              message: "The contract may import only zod and other contract files: it runs in every process.",
            },
          ],
        },
      ],
    },
  },
  // Services are plain Node: they never know which transport carries them.
  {
    files: ["src-main/services/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [{ name: "electron", message: "Services run under plain Node too (web mode, CLI, tests): keep electron in src-main/transports/electron." }],
          patterns: [forbid("**/transports/**", "Services must not depend on a transport; transports depend on services.")],
        },
      ],
    },
  },
  // Web mode, the CLI and the OpenAI-compatible API server run without Electron.
  {
    files: ["src-main/transports/web/**", "src-main/transports/cli/**", "src-main/transports/openai-api/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [{ name: "electron", message: "Only src-main/transports/electron may import electron." }],
          patterns: [forbid("**/transports/electron/**", "Web mode, the CLI and the API server run without Electron.")],
        },
      ],
    },
  },
  // The renderer talks to the services only through the contract's types, over a backend.
  {
    files: ["src-renderer/src/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "electron", message: "The renderer is sandboxed: use the API client, not Electron." },
            ...nodeBuiltins.map((name) => ({ name, message: "The renderer runs in a browser: no Node modules." })),
          ],
          patterns: [
            {
              // Three exceptions, pure functions over the contract's data shared so that the UI and the services
              // agree: conversation-tree.ts (a conversation's branches), output-types.ts (a GGUF's size) and
              // remote-endpoint.ts (a remote server's address, and whether it is unencrypted).
              group: ["**/src-main/contract/**", "!**/src-main/contract/conversation-tree.js", "!**/src-main/contract/output-types.js", "!**/src-main/contract/remote-endpoint.js"],
              allowTypeImports: true,
              message: "The renderer may import the contract's types only (`import type`), conversation-tree.js, output-types.js and remote-endpoint.js.",
            },
            {
              regex: "src-main/(?!contract/)",
              message: "The renderer may not import main-process code; call the services through the API client.",
            },
          ],
        },
      ],
    },
  },
  // A sandboxed preload must be CommonJS, where `import x = require()` is TypeScript's import.
  {
    files: ["src-main/transports/electron/preload.cts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
