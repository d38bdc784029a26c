/**
 * `lockfleet-sim scenario FILE.json [--db PATH]`: every audit record as a JSON line on
 * stdout, the verdict on stderr. Exit 0 when every expectation holds; 1 when one does not
 * (or the lock core faulted); 2 when the scenario file or the command line is wrong, so a
 * pipeline can tell "the policy does not hold" from "the test is broken".
 */
import { parseArgs } from "node:util";
import { readScenarioFile, runScenario, SCENARIO_FILE_FAULTS } from "./run-scenario.js";
import { scenarioStoreFor } from "./stores.js";

export interface CommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** An expectation failed or the lock core faulted. */
export const EXIT_FAILED = 1;
/** The command line or the scenario file is wrong. */
export const EXIT_BAD_INPUT = 2;

export const scenarioCommand = {
  usage: "scenario FILE.json [--db PATH]",
  summary: "run one virtual lock through a scripted scenario, printing its audit records",
  async run(args: readonly string[], io: CommandIo): Promise<number> {
    let parsed: ReturnType<typeof parseScenarioArgs>;
    try {
      parsed = parseScenarioArgs(args);
    } catch (error) {
      io.stderr(`E_USAGE: ${error instanceof Error ? error.message : error}`);
      io.stderr(`usage: lockfleet-sim ${scenarioCommand.usage}`);
      return EXIT_BAD_INPUT;
    }
    const openStore = scenarioStoreFor(parsed.db);
    if (!openStore.ok) {
      io.stderr(openStore.message);
      return EXIT_BAD_INPUT;
    }
    const file = await readScenarioFile(parsed.file);
    if (!file.ok) {
      io.stderr(file.message);
      return EXIT_BAD_INPUT;
    }
    const result = await runScenario(file.value, {
      onEvent: (record) => io.stdout(JSON.stringify(record)),
      openStore: openStore.value,
    });
    if (result.status === "failed") {
      io.stderr(result.message);
      return SCENARIO_FILE_FAULTS.includes(result.code) ? EXIT_BAD_INPUT : EXIT_FAILED;
    }
    io.stderr(
      `PASSED ${parsed.file}: ${result.steps} steps, ${result.events} audit records, lock time ${result.endedAt}, store ${result.store}`,
    );
    return 0;
  },
};

function parseScenarioArgs(args: readonly string[]): { file: string; db?: string } {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { db: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new Error("give exactly one scenario file");
  const file = positionals[0] as string;
  return values.db === undefined ? { file } : { file, db: values.db };
}
