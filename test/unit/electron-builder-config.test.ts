// electron-builder.yml, checked with electron-builder's own code since no installer can be built here: its
// config loader and schema validation, then its file matchers (with its own macro expansion) run over the
// native binaries actually in node_modules, for every target the config builds.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { APP_ID } from "../../src-main/transports/electron/app-identity.js";

// electron-builder is CommonJS and untyped at this depth: the few internals used are typed here.
interface FileMatcher {
  patterns: string[];
  createFilter(): (file: string, stat: FakeStat) => boolean;
}
interface FakeStat {
  isDirectory(): boolean;
  moduleFullFilePath?: string;
}
type Config = Record<string, unknown> & {
  appId: string;
  productName: string;
  files: unknown[];
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  fileAssociations: { ext: string; mimeType?: string }[];
  linux: PlatformConfig;
  mac: PlatformConfig;
  win: PlatformConfig;
  npmRebuild?: boolean;
};
interface PlatformConfig {
  target: { target: string; arch: string[] }[];
  files?: string[];
}
type MatcherOptions = { macroExpander: (pattern: string) => string; customBuildOptions: object; globalOutDir: string; defaultSrc: string };

const requireBuilder = createRequire(join(APP_ROOT, "node_modules", "app-builder-lib", "package.json"));
const { getConfig, validateConfiguration } = requireBuilder("./out/util/config/config.js") as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: object | null): Promise<Config>;
  validateConfiguration(config: object, debugLogger: object): Promise<void>;
};
const fileMatcher = requireBuilder("./out/fileMatcher.js") as {
  getNodeModuleFileMatcher(appDir: string, destination: string, expander: MatcherOptions["macroExpander"], platformOptions: object, packager: object): FileMatcher;
  getMainFileMatchers(
    appDir: string,
    destination: string,
    expander: MatcherOptions["macroExpander"],
    platformOptions: object,
    platformPackager: object,
    outDir: string,
    isElectronCompile: boolean,
  ): FileMatcher[];
  getFileMatchers(config: object, name: string, destination: string, options: MatcherOptions): FileMatcher[] | null;
};
const { expandMacro } = requireBuilder("./out/util/macroExpander.js") as {
  expandMacro(pattern: string, arch: string | null, appInfo: object, extra: object): string;
};

const debugLogger = { isEnabled: false, add: () => {} };
const config = await getConfig(APP_ROOT, null, null);
const packageJson = JSON.parse(readFileSync(join(APP_ROOT, "package.json"), "utf8")) as {
  main: string;
  scripts: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

const OSES = ["linux", "mac", "win"] as const;
type Os = (typeof OSES)[number];
/** electron-builder's ${os} → Node's process.platform, as koffi names its packages. */
const NODE_PLATFORM: Record<Os, string> = { linux: "linux", mac: "darwin", win: "win32" };

/** Every (os, arch) the config builds installers for. */
const targets = OSES.flatMap((os) => [...new Set(config[os].target.flatMap((target) => target.arch))].map((arch) => ({ os, arch })));

/** electron-builder's matchers for one target, with the macros expanded as its PlatformPackager expands them. */
function matchersFor(os: Os, arch: string) {
  const platformOptions = config[os];
  const macroExpander = (pattern: string) =>
    expandMacro(pattern, arch, { productName: config.productName, sanitizedProductName: config.productName, version: "0.1.0" }, { os, "/*": "{,/**/*}" });
  const options: MatcherOptions = { macroExpander, customBuildOptions: platformOptions, globalOutDir: join(APP_ROOT, "dist"), defaultSrc: APP_ROOT };
  const info = { config, debugLogger, projectDir: APP_ROOT, buildResourcesDir: "resources", isPrepackedAppAsar: false };
  const nodeModules = fileMatcher.getNodeModuleFileMatcher(APP_ROOT, APP_ROOT, macroExpander, platformOptions, info).createFilter();
  // The app's own files: whatever any of the main matchers takes (the top-level list and the platform's list).
  const appFilters = fileMatcher
    .getMainFileMatchers(APP_ROOT, APP_ROOT, macroExpander, platformOptions, { info }, join(APP_ROOT, "dist"), false)
    .map((matcher) => matcher.createFilter());
  const unpack = fileMatcher.getFileMatchers(config, "asarUnpack", APP_ROOT, options)![0]!.createFilter();
  // Paths relative to the app, as electron-builder hands node_modules files to these filters.
  const asModule = (path: string): [string, FakeStat] => [join(APP_ROOT, path), { isDirectory: () => false, moduleFullFilePath: path }];
  const asAppFile = (path: string): [string, FakeStat] => [join(APP_ROOT, path), { isDirectory: () => false }];
  return {
    packed: (path: string) => nodeModules(...asModule(path)),
    unpacked: (path: string) => unpack(...asModule(path)),
    inApp: (path: string) => appFilters.some((filter) => filter(...asAppFile(path))),
  };
}

const NATIVE = /\.(node|dylib|dll|exe)$|\.so(\.\d+)*$/;
/**
 * The folders of the packages the app ships: package.json's dependencies and optional dependencies, and
 * theirs, found the way Node resolves them (nested node_modules first, then each folder above).
 */
function productionPackages(): string[] {
  const found = new Set<string>();
  const dependenciesOf = (dir: string) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    return Object.keys({ ...manifest["dependencies"], ...manifest["optionalDependencies"] });
  };
  const resolve = (from: string, name: string): string | null => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name);
      if (basename(dir) !== "node_modules" && existsSync(join(candidate, "package.json"))) return candidate;
      if (dir === APP_ROOT) return null; // not installed: an optional dependency for another platform
    }
  };
  const visit = (from: string, name: string) => {
    const dir = resolve(from, name);
    if (dir === null || found.has(dir)) return;
    found.add(dir);
    for (const dependency of dependenciesOf(dir)) visit(dir, dependency);
  };
  for (const dependency of dependenciesOf(APP_ROOT)) visit(APP_ROOT, dependency);
  return [...found];
}

/** Every native binary in the packages the app ships, as node_modules/… paths. */
function nativeBinaries(): string[] {
  return productionPackages().flatMap((dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && NATIVE.test(entry.name))
      .map((entry) => relative(APP_ROOT, join(entry.parentPath, entry.name)).split(sep).join("/"))
      // A nested node_modules holds packages of its own, visited separately (and maybe not shipped).
      .filter((path) => !path.slice(relative(APP_ROOT, dir).length).includes("/node_modules/")),
  );
}

/** The os-arch a binary is built for, read off its package's name; null for those rebuilt for every target. */
function builtFor(path: string): { os: Os; arch: string } | null {
  const llama = /^node_modules\/(?:@node-llama-cpp\/|node-llama-cpp\/(?:bins|llama\/localBuilds)\/)(linux|mac|win)-(x64|arm64|armv7l|riscv64)/.exec(path);
  if (llama) return { os: llama[1] as Os, arch: llama[2]! };
  // koffi's and reflink's packages are named by Node's platform names: koffi-darwin-arm64, reflink-linux-x64-gnu.
  const byNodePlatform = /^node_modules\/@(?:koromix\/koffi|reflink\/reflink)-([a-z0-9]+)-([a-z0-9]+)[-/]/.exec(path);
  if (byNodePlatform) {
    const os = OSES.find((candidate) => NODE_PLATFORM[candidate] === byNodePlatform[1]);
    return { os: os ?? ("other" as Os), arch: byNodePlatform[2]! };
  }
  return null;
}

describe("electron-builder.yml", () => {
  it("is valid by electron-builder's own schema and validation", async () => {
    await expect(validateConfiguration(structuredClone(config), debugLogger)).resolves.toBeUndefined();
  });

  it("is valid by its JSON schema without electron-builder's type coercion", () => {
    const Ajv = requireBuilder("ajv") as { default: new (options: object) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown } } };
    const schema = JSON.parse(readFileSync(requireBuilder.resolve("./scheme.json"), "utf8")) as object;
    const validate = new Ajv.default({ allErrors: true, strict: false, coerceTypes: false }).compile(schema);
    expect(validate(structuredClone(config)), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("would have its mistakes caught by that validation", async () => {
    await expect(validateConfiguration({ ...structuredClone(config), asarUnpackk: ["x"] }, debugLogger)).rejects.toThrow(/asarUnpackk/);
    await expect(validateConfiguration({ ...structuredClone(config), nsis: { oneClick: "maybe" } }, debugLogger)).rejects.toThrow(/oneClick/);
  });

  it("builds AppImage and deb for Linux, dmg for both Mac architectures and nsis for Windows", () => {
    expect(config.linux.target.map((target) => target.target).sort()).toEqual(["AppImage", "deb"]);
    expect(config.mac.target).toEqual([{ target: "dmg", arch: ["arm64", "x64"] }]);
    expect(config.win.target.map((target) => target.target)).toEqual(["nsis"]);
  });

  it("names the app as the code does, with its icon and the .gguf association", () => {
    expect(config.appId).toBe(APP_ID);
    expect(config.productName).toBe("BiLLa Desktop");
    const icon = readFileSync(join(APP_ROOT, String(config["icon"])));
    expect(icon.subarray(1, 4).toString()).toBe("PNG");
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect([icon.readUInt32BE(16), icon.readUInt32BE(20)]).toEqual([512, 512]);
    expect(config.fileAssociations).toContainEqual(expect.objectContaining({ ext: "gguf", mimeType: "application/x-gguf" }));
  });

  it("ships the demo checkpoint as an extra resource, beside app.asar", () => {
    expect(config.extraResources).toContainEqual(expect.objectContaining({ from: "resources/demo", to: "demo" }));
    const matchers = fileMatcher.getFileMatchers(config, "extraResources", join(APP_ROOT, "dist", "resources"), {
      macroExpander: (pattern) => pattern,
      customBuildOptions: {},
      globalOutDir: join(APP_ROOT, "dist"),
      defaultSrc: APP_ROOT,
    })!;
    const demo = matchers.find((matcher) => (matcher as unknown as { from: string }).from === join(APP_ROOT, "resources", "demo"))!;
    const filter = demo.createFilter();
    for (const file of ["golden.json", "billa-demo/config.json", "billa-demo/tokenizer.model", "billa-demo-restored/model.safetensors"]) {
      expect(existsSync(join(APP_ROOT, "resources", "demo", file)), file).toBe(true);
      expect(filter(join(APP_ROOT, "resources", "demo", file), { isDirectory: () => false }), file).toBe(true);
    }
  });

  it("packs the compiled app and its package.json into app.asar, and no sources or build resources", () => {
    for (const { os, arch } of targets) {
      const { inApp } = matchersFor(os, arch);
      const packed = [
        packageJson.main,
        "build/main/transports/electron/preload.cjs",
        "build/main/services/create-services.js",
        "build/renderer/index.html",
        "package.json",
      ];
      const left = [
        "src-main/transports/electron/main.ts",
        "test/unit/electron-shell.test.ts",
        "resources/demo/golden.json",
        "resources/icon.png",
        "build/main/transports/electron/main.js.map",
        "electron-builder.yml",
      ];
      for (const file of packed) expect(inApp(file), `${file} (${os}-${arch})`).toBe(true);
      for (const file of left) expect(inApp(file), `${file} (${os}-${arch})`).toBe(false);
    }
  });

  describe("native binaries (node_modules as installed here)", () => {
    const binaries = nativeBinaries();

    it("finds the binaries of better-sqlite3, koffi and node-llama-cpp among the app's dependencies", () => {
      expect(binaries).toContain("node_modules/better-sqlite3/build/Release/better_sqlite3.node");
      expect(binaries.some((path) => path.startsWith("node_modules/@koromix/koffi-"))).toBe(true);
      expect(binaries.some((path) => path.startsWith("node_modules/@node-llama-cpp/") && path.endsWith("llama-addon.node"))).toBe(true);
    });

    for (const { os, arch } of targets) {
      it(`packs only ${os}-${arch}'s binaries, every one of them unpacked from asar`, () => {
        const { packed, unpacked } = matchersFor(os, arch);
        for (const path of binaries.filter(packed)) {
          expect(unpacked(path), `${path} is packed for ${os}-${arch} but left inside app.asar`).toBe(true);
          const target = builtFor(path);
          if (target !== null) expect(target, `${path} does not belong in the ${os}-${arch} installer`).toEqual({ os, arch });
        }
        // Whatever is installed for this target goes in: every backend of node-llama-cpp, koffi, better-sqlite3.
        for (const path of binaries) {
          const target = builtFor(path);
          if (target !== null && target.os === os && target.arch === arch) expect(packed(path), `${path} is missing from the ${os}-${arch} installer`).toBe(true);
        }
        expect(packed("node_modules/better-sqlite3/build/Release/better_sqlite3.node")).toBe(true);
        expect(packed("node_modules/better-sqlite3/build/Release/test_extension.node")).toBe(false);
      });
    }

    it("packs this machine's own binaries for its own target (CPU, CUDA and Vulkan backends)", () => {
      const host = { os: ({ linux: "linux", darwin: "mac", win32: "win" } as Record<string, Os>)[process.platform]!, arch: process.arch };
      const hostTarget = targets.find((target) => target.os === host.os && target.arch === host.arch);
      if (hostTarget === undefined) return; // this machine is no build target; the per-target checks above still ran
      const { packed } = matchersFor(host.os, host.arch);
      const packedHere = binaries.filter(packed);
      expect(packedHere.some((path) => path.startsWith("node_modules/@koromix/koffi-"))).toBe(true);
      expect(packedHere.some((path) => new RegExp(`^node_modules/@node-llama-cpp/${host.os}-${host.arch}/.*llama-addon\\.node$`).test(path))).toBe(true);
      for (const backend of ["cuda", "vulkan"]) {
        const installed = binaries.filter((path) => path.startsWith(`node_modules/@node-llama-cpp/${host.os}-${host.arch}-${backend}/`));
        for (const path of installed) expect(packed(path), path).toBe(true);
      }
    });
  });

  it("rebuilds better-sqlite3 for Electron while packaging only, and gives Node its build back", () => {
    expect(config.npmRebuild).toBe(true);
    expect(packageJson.scripts["dist"]).toBe("npm run build && electron-builder && npm rebuild better-sqlite3");
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) expect(packageJson.scripts[hook] ?? "").not.toMatch(/rebuild|electron-builder/);
    expect(packageJson.allowScripts["electron"]).toBe(false);
  });
});
