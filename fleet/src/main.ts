/** Entry point of `lockfleet-fleet` (see cli.ts). `serve` keeps running; others exit. */
import { runCli } from "./cli.js";

const code = await runCli(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== "serve") process.exitCode = code;
