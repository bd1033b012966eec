// electron-builder.yml, checked with electron-builder's own code since no installer can be built here: its
// config loader and schema validation, its file matchers (with its own macro expansion) over the native binaries
// actually in node_modules, and its node_modules collection, for every target the config builds, over a stand-in
// project holding every platform's prebuilt packages (npm installs only this platform's here).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_ROOT } from "../../src-main/services/app-root.js";
import { threadedBuildCmakeOptions } from "../../src-main/services/runtime/threaded-build.js";
import { APP_ID } from "../../src-main/transports/electron/app-identity.js";
import { makeTempDir } from "../support/temp-dir.js";

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
interface FileSet {
  files: string[];
  metadata: Map<string, { isFile(): boolean }>;
}
const { computeNodeModuleFileSets } = requireBuilder("./out/util/appFileCopier.js") as {
  computeNodeModuleFileSets(platformPackager: object, mainMatcher: FileMatcher): Promise<FileSet[]>;
};
const { PM } = requireBuilder("./out/node-module-collector/index.js") as { PM: { TRAVERSAL: string } };
const { Platform } = requireBuilder("./out/core.js") as { Platform: Record<"MAC" | "WINDOWS" | "LINUX", object> };
const { TmpDir } = requireBuilder("temp-file") as { TmpDir: new () => { cleanup(): Promise<void> } };

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

/** The macros (${os}, ${arch}, …) expanded as electron-builder's PlatformPackager expands them for one target. */
function macroExpanderFor(os: Os, arch: string): MatcherOptions["macroExpander"] {
  return (pattern: string) =>
    expandMacro(pattern, arch, { productName: config.productName, sanitizedProductName: config.productName, version: "0.1.0" }, { os, "/*": "{,/**/*}" });
}

/** electron-builder's matchers for one target. */
function matchersFor(os: Os, arch: string) {
  const platformOptions = config[os];
  const macroExpander = macroExpanderFor(os, arch);
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

  describe("native binaries of every target (every platform's packages, as electron-builder collects them)", () => {
    /**
     * A stand-in project with every platform's prebuilt packages installed, as empty files: the packages that
     * carry native code (node-llama-cpp, and ipull for @reflink; koffi; better-sqlite3) laid out as installed here,
     * their per-platform packages as installed here or, for other platforms, as published
     * (test/fixtures/other-platform-packages.json). Each package.json keeps its name, version and optional
     * dependencies; production dependencies without native code are left out of the stand-in and of its manifests.
     */
    const standIn = makeTempDir("billa-builder-stand-in-");
    /** The packages with native code, and which of their production dependencies the stand-in keeps (ipull brings @reflink/reflink as an optional one). */
    const PARENTS: Record<string, string[]> = { "node-llama-cpp": ["ipull"], ipull: [], "@reflink/reflink": [], koffi: [], "better-sqlite3": [] };
    const PER_PLATFORM = /^@(node-llama-cpp|koromix|reflink)\/(?!reflink$)/;
    const published = JSON.parse(readFileSync(join(APP_ROOT, "test", "fixtures", "other-platform-packages.json"), "utf8")) as {
      packages: { name: string; version: string; os: string[]; cpu: string[]; files: string[] }[];
    };
    const manifests = new Map<string, { name: string; os?: string[] }>();
    const tempDirs = new TmpDir();

    function layOut(name: string, files: string[], manifest: Record<string, unknown>): void {
      const dir = join(standIn.path, "node_modules", name);
      for (const file of files) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), "");
      }
      writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
      manifests.set(name, manifest as { name: string; os?: string[] });
    }
    const installedFiles = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"));

    beforeAll(() => {
      const real = (name: string) => JSON.parse(readFileSync(join(APP_ROOT, "node_modules", name, "package.json"), "utf8")) as Record<string, unknown>;
      const isInstalled = (name: string) => existsSync(join(APP_ROOT, "node_modules", name, "package.json"));
      writeFileSync(join(standIn.path, "package.json"), JSON.stringify({ name: "billa-desktop", version: "0.1.0", dependencies: { "node-llama-cpp": "*", koffi: "*", "better-sqlite3": "*" } }));
      for (const [name, kept] of Object.entries(PARENTS)) {
        const manifest = real(name);
        const optional = (manifest["optionalDependencies"] ?? {}) as Record<string, string>;
        // A threaded build made on this machine is laid out below, for every target alike.
        const files = installedFiles(join(APP_ROOT, "node_modules", name)).filter((file) => file !== "package.json" && !file.includes("node_modules/") && !file.startsWith("llama/localBuilds/"));
        layOut(name, files, { name, version: manifest["version"], dependencies: Object.fromEntries(kept.map((dependency) => [dependency, "*"])), optionalDependencies: optional });
        for (const dependency of Object.keys(optional).filter((candidate) => !(candidate in PARENTS) && isInstalled(candidate))) {
          const installed = real(dependency);
          const dependencyFiles = installedFiles(join(APP_ROOT, "node_modules", dependency)).filter((file) => file !== "package.json");
          layOut(dependency, dependencyFiles, { name: dependency, version: installed["version"], os: installed["os"], cpu: installed["cpu"] });
        }
      }
      for (const { name, version, os, cpu, files } of published.packages) {
        layOut(name, files.filter((file) => file !== "package.json"), { name, version, os, cpu });
      }
      for (const { os, arch } of targets) layOutThreadedBuild(os, arch);
    });

    /**
     * What `npm run build:llama` leaves in node-llama-cpp's local builds on a system that has a threaded build (none
     * on macOS): the binaries in Release/ with the OpenMP runtime copied beside them, and the compiler's leftovers,
     * a second copy of the libraries among them (as on Linux here).
     */
    function layOutThreadedBuild(os: Os, arch: string): void {
      if (threadedBuildCmakeOptions(NODE_PLATFORM[os] as NodeJS.Platform) === null) return;
      const library = (name: string) => (os === "win" ? `${name}.dll` : `lib${name}.so`);
      const build = join(standIn.path, "node_modules", "node-llama-cpp", "llama", "localBuilds", `${os}-${arch}-3c692g6e491f414t5r6m5p5r6c263h1i13x5z1b`);
      const files = [
        ...["llama-addon.node", library("ggml-base"), library("ggml-cpu-x64"), library("llama"), os === "win" ? "vcomp140.dll" : "libgomp.so.1", "_nlcBuildMetadata.json"].map((file) => `Release/${file}`),
        `bin/${library("ggml-base")}`,
        `bin/${library("ggml-cpu-x64")}`,
        "CMakeFiles/llama-addon.dir/addon/addon.cpp.o",
        "build.ninja",
        "llama.cpp/ggml/src/ggml.c",
      ];
      for (const file of files) {
        mkdirSync(dirname(join(build, file)), { recursive: true });
        writeFileSync(join(build, file), "");
      }
    }
    afterAll(async () => {
      await tempDirs.cleanup();
      standIn.remove();
    });

    /** What electron-builder's node_modules collection (as `npm run dist` runs it) puts in one target's installer. */
    async function collectedFor(os: Os, arch: string): Promise<string[]> {
      const info = {
        config,
        debugLogger,
        projectDir: standIn.path,
        appDir: standIn.path,
        tempDirManager: tempDirs,
        getWorkspaceRoot: () => Promise.resolve(standIn.path),
        getPackageManager: () => Promise.resolve(PM.TRAVERSAL),
        originalMetadata: JSON.parse(readFileSync(join(standIn.path, "package.json"), "utf8")) as object,
        nodePackageName: "billa-desktop",
        appInfo: { type: "module" },
      };
      const platform = { mac: Platform.MAC, win: Platform.WINDOWS, linux: Platform.LINUX }[os];
      const mainMatcher = fileMatcher.getNodeModuleFileMatcher(standIn.path, join(standIn.path, "app"), macroExpanderFor(os, arch), config[os], info);
      const fileSets = await computeNodeModuleFileSets({ info, config, platform }, mainMatcher);
      return fileSets.flatMap((set) => set.files.filter((file) => set.metadata.get(file)?.isFile()).map((file) => relative(standIn.path, file).split(sep).join("/")));
    }

    /** The stand-in's binaries, but for the compiler's leftovers beside a threaded build, which no installer takes. */
    const standInBinaries = () => installedFiles(standIn.path).filter((path) => NATIVE.test(path) && !/\/llama\/localBuilds\/[^/]+\/(?!Release\/)/.test(path));
    /** The one native binary that is not per platform: rebuilt for Electron on each target while packaging. */
    const EVERY_TARGET = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
    const packageOf = (path: string) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)![1]!;

    it("holds every platform's packages, each named for the system its own manifest says it runs on", () => {
      const perPlatform = [...manifests.keys()].filter((name) => PER_PLATFORM.test(name));
      for (const name of perPlatform) {
        const target = builtFor(`node_modules/${name}/`);
        expect(target, name).not.toBeNull();
        expect(manifests.get(name)!.os, name).toEqual([NODE_PLATFORM[target!.os]]);
      }
      for (const { os, arch } of targets) {
        const forTarget = perPlatform.filter((name) => builtFor(`node_modules/${name}/`)?.os === os && builtFor(`node_modules/${name}/`)?.arch === arch);
        expect(forTarget.length, `${os}-${arch}`).toBeGreaterThan(1);
      }
    });

    for (const { os, arch } of targets) {
      it(`packs exactly ${os}-${arch}'s binaries, every one unpacked from asar, and leaves every other platform's out`, async () => {
        const collected = await collectedFor(os, arch);
        const packedBinaries = collected.filter((path) => NATIVE.test(path));
        const ours = standInBinaries().filter((path) => {
          const target = builtFor(path);
          return target === null ? path === EVERY_TARGET : target.os === os && target.arch === arch;
        });
        expect(ours.length).toBeGreaterThan(2);
        expect(packedBinaries.sort()).toEqual(ours.sort());
        const { unpacked } = matchersFor(os, arch);
        for (const path of packedBinaries) expect(unpacked(path), `${path} is left inside app.asar`).toBe(true);
        // Not the binaries alone: nothing at all of another platform's packages goes in.
        const otherPlatforms = collected.filter((path) => PER_PLATFORM.test(packageOf(path)) && !ours.some((binary) => packageOf(binary) === packageOf(path)));
        expect(otherPlatforms).toEqual([]);
        // A threaded build goes in as its Release folder with its OpenMP runtime, nothing around it.
        const threaded = collected.filter((path) => path.startsWith("node_modules/node-llama-cpp/llama/localBuilds/"));
        const openMp = { linux: "libgomp.so.1", win: "vcomp140.dll", mac: null }[os];
        if (openMp === null) expect(threaded).toEqual([]);
        else expect(threaded.filter((path) => path.endsWith(`/Release/${openMp}`) || path.endsWith("/Release/llama-addon.node"))).toHaveLength(2);
        expect(threaded.filter((path) => !/^node_modules\/node-llama-cpp\/llama\/localBuilds\/[^/]+\/Release\//.test(path))).toEqual([]);
        // What is left out of every installer: llama.cpp's source bundle, better-sqlite3's test extension and objects.
        expect(collected).not.toContain("node_modules/node-llama-cpp/llama/gitRelease.bundle");
        expect(collected.filter((path) => path.startsWith("node_modules/better-sqlite3/") && /\.node$/.test(path))).toEqual([EVERY_TARGET]);
        expect(collected).toContain("node_modules/node-llama-cpp/package.json");
      });
    }

    it("packs each target's own packages by name", async () => {
      const packagesWithBinaries = async (os: Os, arch: string) =>
        [...new Set((await collectedFor(os, arch)).filter((path) => NATIVE.test(path)).map(packageOf))].sort();
      expect(await packagesWithBinaries("linux", "x64")).toEqual([
        "@koromix/koffi-linux-x64",
        "@node-llama-cpp/linux-x64",
        "@node-llama-cpp/linux-x64-cuda",
        "@node-llama-cpp/linux-x64-cuda-ext",
        "@node-llama-cpp/linux-x64-vulkan",
        "@reflink/reflink-linux-x64-gnu",
        "better-sqlite3",
        "node-llama-cpp",
      ]);
      expect(await packagesWithBinaries("mac", "arm64")).toEqual(["@koromix/koffi-darwin-arm64", "@node-llama-cpp/mac-arm64-metal", "@reflink/reflink-darwin-arm64", "better-sqlite3"]);
      expect(await packagesWithBinaries("mac", "x64")).toEqual(["@koromix/koffi-darwin-x64", "@node-llama-cpp/mac-x64", "@reflink/reflink-darwin-x64", "better-sqlite3"]);
      expect(await packagesWithBinaries("win", "x64")).toEqual([
        "@koromix/koffi-win32-x64",
        "@node-llama-cpp/win-x64",
        "@node-llama-cpp/win-x64-cuda",
        "@node-llama-cpp/win-x64-cuda-ext",
        "@node-llama-cpp/win-x64-vulkan",
        "@reflink/reflink-win32-x64-msvc",
        "better-sqlite3",
        "node-llama-cpp",
      ]);
    });
  });

  it("makes the threaded llama.cpp build first, rebuilds better-sqlite3 for Electron while packaging only, and gives Node its build back", () => {
    expect(config.npmRebuild).toBe(true);
    expect(packageJson.scripts["dist"]).toBe("npm run build:llama && electron-builder && npm rebuild better-sqlite3");
    expect(packageJson.scripts["build:llama"]).toBe("npm run build && node scripts/build-llama.js");
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) expect(packageJson.scripts[hook] ?? "").not.toMatch(/rebuild|electron-builder/);
    expect(packageJson.allowScripts["electron"]).toBe(false);
  });
});
