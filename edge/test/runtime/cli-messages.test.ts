/**
 * Messages a technician can act on: `<command> --help` explains that command, a virtual
 * profile's self-test points to the simulator, a key-encryption key the shell cannot see is
 * not called missing, and an unreachable fleet says why in words.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../src/cli.js";
import { provision, unreachableReason } from "../../src/runtime/provision.js";
import { TestFleet } from "./test-fleet.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lockfleet-cli-messages-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readLine: async () => "",
    env: {},
  };
  return { cli, out: () => out.join(""), err: () => err.join("") };
}

describe("technician messages", () => {
  it("each subcommand's --help prints that command's help, not the general one", async () => {
    for (const command of ["provision", "run", "status", "selftest", "factory-reset"]) {
      const help = io();
      expect(await main([command, "--help"], help.cli), command).toBe(0);
      expect(help.out(), command).toMatch(new RegExp(`^usage: lockfleet-edge ${command} `));
      expect(help.out(), command).not.toContain("commands:");
    }
    const viaHelp = io();
    expect(await main(["help", "selftest"], viaHelp.cli)).toBe(0);
    expect(viaHelp.out()).toMatch(/^usage: lockfleet-edge selftest /);
  });

  it("selftest --profile virtual points to the simulator instead of a programming hint", async () => {
    const run = io();
    const code = await main(
      [
        "selftest",
        "--profile",
        "virtual",
        "--data",
        join(dir, "data"),
        "--kek-file",
        join(dir, "kek"),
      ],
      run.cli,
    );
    expect(code).toBe(1);
    expect(run.err()).toMatch(/^E_PROFILE_VIRTUAL: profile "virtual" is a virtual lock/);
    expect(run.err()).toContain("npx lockfleet-sim lock");
    expect(run.err()).not.toContain("createVirtualBoard");
  });

  it("an unreachable fleet is said in words, never as (TypeError)", async () => {
    // a port that was free a moment ago: nothing listens there
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 1));
      });
    });
    const error = await provision({
      fleetUrl: `http://127.0.0.1:${port}`,
      token: "x".repeat(32),
      profile: "virtual",
      dataDir: join(dir, "data"),
      kekFile: join(dir, "kek"),
    }).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toMatch(
      /^E_FLEET_UNREACHABLE: .*nothing answers on 127\.0\.0\.1 port \d+ \(ECONNREFUSED\)/,
    );
    expect(error?.message).not.toContain("TypeError");
    const unknownName = unreachableReason(
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } }),
      new URL("https://fleet.bank.example"),
    );
    expect(unknownName).toBe(
      "the name fleet.bank.example is not known (ENOTFOUND); check the address and this device's DNS settings",
    );
    const withoutCode = unreachableReason(
      Object.assign(new TypeError("fetch failed"), { cause: new Error("bad port") }),
      new URL("https://fleet.bank.example"),
    );
    expect(withoutCode).toBe("bad port");
  });

  it("status on a running lock does not call a key-encryption key missing that only the service can see", async () => {
    const fleet = new TestFleet({ brokerUrl: "mqtt://127.0.0.1:1" });
    await fleet.listen();
    try {
      const data = ["--data", join(dir, "data")];
      const provisioned = io();
      const code = await main(
        [
          "provision",
          "--fleet",
          fleet.url,
          "--token",
          fleet.token(),
          "--profile",
          "virtual",
          ...data,
          "--kek-file",
          join(dir, "kek"),
        ],
        provisioned.cli,
      );
      expect(provisioned.err()).toBe("");
      expect(code).toBe(0);
      // as from a technician's shell: no --kek-file, no systemd credential
      const status = io();
      expect(await main(["status", ...data], status.cli)).toBe(0);
      expect(status.out()).not.toMatch(/(^|\s)MISSING/);
      expect(status.out()).toMatch(
        /kek +not readable from this shell .* systemd credential lockfleet-kek/,
      );
    } finally {
      await fleet.close();
    }
  });
});
