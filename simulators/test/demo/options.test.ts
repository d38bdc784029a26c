/** `lockfleet-sim demo` options: defaults a newcomer gets, and each bad value named by its flag. */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_DEMO_OPTIONS, parseDemoArgs } from "../../src/demo/options.js";

describe("demo options", () => {
  it("without options: dashboard on 127.0.0.1:8080, broker on 1884, data in .data/demo", () => {
    expect(parseDemoArgs([])).toEqual({
      ...DEFAULT_DEMO_OPTIONS,
      port: 8080,
      mqttPort: 1884,
      host: "127.0.0.1",
      dataDir: resolve(".data/demo"),
    });
  });

  it("each setting is taken from its flag", () => {
    const options = parseDemoArgs([
      "--port",
      "9000",
      "--mqtt-port",
      "0",
      "--data",
      "/tmp/x",
      "--time-delay-min",
      "0",
      "--confirmation-window-min",
      "19",
      "--door-open-sec",
      "5",
      "--routine-sec",
      "0",
      "--no-story",
    ]);
    expect(options).toMatchObject({
      port: 9000,
      mqttPort: 0,
      dataDir: "/tmp/x",
      timeDelayMin: 0,
      confirmationWindowMin: 19,
      doorOpenSec: 5,
      routineSec: 0,
      story: false,
    });
  });

  const refused: [string[], RegExp][] = [
    [["--port", "70000"], /^E_USAGE: --port must be a whole number from 0 to 65535, not "70000"/],
    [["--mqtt-port", "abc"], /^E_USAGE: --mqtt-port must be a whole number/],
    [["--time-delay-min", "100"], /^E_USAGE: --time-delay-min must be a whole number from 0 to 99/],
    [
      ["--confirmation-window-min", "0"],
      /^E_USAGE: --confirmation-window-min must be a whole number from 1 to 19/,
    ],
    [["--colour", "red"], /^E_USAGE: Unknown option '--colour'/],
    [["extra"], /^E_USAGE: unexpected argument "extra"/],
  ];
  for (const [args, message] of refused) {
    it(`refuses ${args.join(" ")}`, () => {
      expect(() => parseDemoArgs(args)).toThrow(message);
    });
  }
});
