import { projectRoot } from "../../lib/local-clickhouse/launcher";
import path from "node:path";
import { serveDemoSite } from "../helpers/demo-site";

/**
 * The browser tests run against the demo site built the way a deployment sees
 * it (tests/helpers/demo-site.ts), in a copy of the app under
 * `.muse/browser-site`.
 */

const say = (line: string) => process.stderr.write(`[browser-setup] ${line}\n`);

export default async function setup() {
  const started = Date.now();
  const site = await serveDemoSite({ appDir: path.join(projectRoot, ".muse", "browser-site"), name: "muse-browser", say });
  process.env.MUSE_BROWSER_BASE_URL = site.baseUrl;
  process.env.MUSE_BROWSER_CONTENT_DIR = site.contentDir;
  say(`site ready on ${site.baseUrl} in ${Math.round((Date.now() - started) / 1000)} s`);
  return () => site.stop();
}
