/** `npm run muse -- <command>`: the maintainers' command line. */
import { runCli } from "../lib/cli";

process.exitCode = await runCli(process.argv.slice(2));
