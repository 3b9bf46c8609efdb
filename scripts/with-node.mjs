// `node scripts/with-node.mjs <command> [args...]`: runs the command on the
// Node.js major production runs (package.json "engines.node", what Vercel reads).
//
// On that major, it just runs the command. On another one it fetches that
// Node.js once from the npm registry (the official binaries, published as the
// `node-<platform>-<arch>` packages) into .muse/tools/, and runs the command
// with it first on PATH — so `npm run demo` and `npm test` work on a fresh
// machine whose Node is older, and what runs is what production runs.
// MUSE_NODE_DOWNLOAD=0 turns the download off: then an older Node stops with
// one clear sentence (scripts/check-node.mjs) instead of a stack trace.
//
// Plain JavaScript with node: imports only, so it runs on any Node still in use.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const wanted = String((pkg.engines && pkg.engines.node) || "");
const wantedMajor = Number((/\d+/.exec(wanted) || [])[0]);
const runningMajor = Number(process.versions.node.split(".")[0]);
/** The exact release fetched when the running Node is not the wanted major (see docs/deploy-vercel.md). */
const PINNED = { 24: "24.9.0" };
const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("usage: node scripts/with-node.mjs <command> [args...]\n");
  process.exit(2);
}

function run(binDir) {
  const env = { ...process.env };
  if (binDir) env.PATH = `${binDir}${path.delimiter}${env.PATH ?? ""}`;
  const result = spawnSync(command, args, { stdio: "inherit", env, shell: process.platform === "win32" });
  if (result.error) {
    process.stderr.write(`${command}: ${result.error.message}\n`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}

function binaryPackage() {
  const platform = { linux: "linux", darwin: "darwin", win32: "win" }[process.platform];
  const arch = { x64: "x64", arm64: "arm64" }[process.arch];
  return platform && arch ? `node-${platform}-${arch}` : undefined;
}

if (!Number.isFinite(wantedMajor) || runningMajor === wantedMajor) run();

const name = binaryPackage();
const version = PINNED[wantedMajor];
if (runningMajor > wantedMajor || !name || !version || process.env.MUSE_NODE_DOWNLOAD === "0") {
  // Newer than production (a warning), or no download: the plain check decides.
  const check = spawnSync(process.execPath, [path.join(root, "scripts", "check-node.mjs")], { stdio: "inherit" });
  if (check.status !== 0) process.exit(check.status ?? 1);
  run();
}

const prefix = path.join(root, ".muse", "tools", `node-${version}`);
const binDir = process.platform === "win32" ? path.join(prefix, "node_modules", name, "bin") : path.join(prefix, "node_modules", name, "bin");
const nodeBin = path.join(binDir, process.platform === "win32" ? "node.exe" : "node");
if (!existsSync(nodeBin)) {
  process.stderr.write(
    `Muse runs on Node.js ${wantedMajor} (what production runs); this machine has ${process.versions.node}. Fetching Node.js ${version} into ${path.relative(root, prefix)} once ...\n`,
  );
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "-E", `${name}@${version}`], {
    stdio: "inherit",
  });
  if (install.status !== 0 || !existsSync(nodeBin)) {
    process.stderr.write(
      `Could not fetch Node.js ${version} (${name}). Install Node.js ${wantedMajor} yourself (e.g. nvm install ${wantedMajor}) and run the command again.\n`,
    );
    process.exit(1);
  }
}
run(binDir);
