/**
 * The offline release tool: a release key made with a passphrase (never in clear on disk), a
 * release signed for an archive, verified as a lock verifies it; a wrong passphrase, a changed
 * archive and a key file overwrite are refused with their codes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  advanceReleaseKeys,
  fromBase64url,
  openRelease,
  parseReleaseKeyFile,
  type SignedRelease,
  type SignedReleaseKeySet,
} from "@lockfleet/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { runReleaseTool } from "../../src/updates/release-tool.js";

const dir = mkdtempSync(join(tmpdir(), "lockfleet-release-tool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { LOCKFLEET_RELEASE_PASSPHRASE: "correct horse battery staple" };

function capture() {
  const lines: string[] = [];
  return {
    lines,
    output: { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) },
  };
}

describe("lockfleet-fleet release", () => {
  const key = join(dir, "release.key");
  const archive = join(dir, "lockfleet-1.2.0.tar.gz");
  writeFileSync(archive, "not really a tarball, but bytes with a hash");

  it("keygen writes an encrypted key and its public half; sign and verify use them", async () => {
    const { output } = capture();
    expect(
      await runReleaseTool(["keygen", "--key-id", "release-2026", "--out", key], output, env),
    ).toBe(0);
    const file = readFileSync(key, "utf8");
    const publicKeys = JSON.parse(readFileSync(`${key}.pub.json`, "utf8"));
    expect(publicKeys.keys[0].keyId).toBe("release-2026");
    // The seed is not in the file in any plain encoding.
    expect(file).not.toMatch(/secretKey|seed/);
    const out = join(dir, "release.json");
    const signed = capture();
    const code = await runReleaseTool(
      [
        "sign",
        "--key",
        key,
        "--target",
        archive,
        "--version",
        "1.2.0",
        "--profiles",
        "raspberry-pi,virtual",
        "--min-from",
        "1.0.0",
        "--out",
        out,
      ],
      signed.output,
      env,
    );
    expect(code, signed.lines.join("\n")).toBe(0);
    const release = JSON.parse(readFileSync(out, "utf8")) as SignedRelease;
    const opened = openRelease(
      release,
      new Map([["release-2026", fromBase64url(publicKeys.keys[0].publicKey)]]),
    );
    expect(opened.ok && opened.value.metadata.hardwareProfiles).toEqual([
      "raspberry-pi",
      "virtual",
    ]);
    const keysFile = `${key}.pub.json`;
    expect(
      await runReleaseTool(
        ["verify", "--keys", keysFile, "--release", out, "--target", archive],
        capture().output,
        env,
      ),
    ).toBe(0);
    writeFileSync(archive, "changed bytes");
    const changed = capture();
    expect(
      await runReleaseTool(
        ["verify", "--keys", keysFile, "--release", out, "--target", archive],
        changed.output,
        env,
      ),
    ).toBe(1);
    expect(changed.lines.join("")).toMatch(/^E_UPDATE_LENGTH|^E_UPDATE_HASH/);
  });

  it("a wrong passphrase and an existing key file are refused", async () => {
    await expect(
      runReleaseTool(
        [
          "sign",
          "--key",
          key,
          "--target",
          archive,
          "--version",
          "1.3.0",
          "--profiles",
          "virtual",
          "--min-from",
          "1.0.0",
          "--out",
          join(dir, "x.json"),
        ],
        capture().output,
        { LOCKFLEET_RELEASE_PASSPHRASE: "a different passphrase" },
      ),
    ).rejects.toThrow(/^E_RELEASE_PASSPHRASE/);
    await expect(
      runReleaseTool(["keygen", "--key-id", "again", "--out", key], capture().output, env),
    ).rejects.toThrow(/^E_EXISTS/);
  });

  it("a key set for a rotation is drafted, signed by the old and the new key, and moves trust as a lock would", async () => {
    const next = join(dir, "release-2027.key");
    await runReleaseTool(
      ["keygen", "--key-id", "release-2027", "--out", next],
      capture().output,
      env,
    );
    const keySetFile = join(dir, "keyset-2.json");
    const draft = [
      "keyset-new",
      "--version",
      "2",
      "--public",
      `${next}.pub.json`,
      "--out",
      keySetFile,
    ];
    expect(await runReleaseTool(draft, capture().output, env)).toBe(0);
    for (const signer of [key, next])
      expect(
        await runReleaseTool(
          ["keyset-sign", "--key", signer, "--keyset", keySetFile],
          capture().output,
          env,
        ),
      ).toBe(0);
    const keySet = JSON.parse(readFileSync(keySetFile, "utf8")) as SignedReleaseKeySet;
    const installed = parseReleaseKeyFile(readFileSync(`${key}.pub.json`, "utf8"), "pub");
    if (!installed.ok) throw new Error(installed.error.message);
    const moved = advanceReleaseKeys(installed.value, keySet);
    expect(moved.ok && moved.value.revokedNow).toEqual(["release-2026"]);
    expect(keySet.signatures.map((entry) => entry.keyId)).toEqual(["release-2026", "release-2027"]);
  });
});
