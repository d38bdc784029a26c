import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretBox } from "../../src/secrets.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lockfleet-kek-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("secrets at rest", () => {
  it("a sealed secret opens only for the purpose it was sealed for", () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal(Buffer.from("otp secret bytes"), "otp-secret:lock-1");
    expect(Buffer.from(box.open(sealed, "otp-secret:lock-1")).toString()).toBe("otp secret bytes");
    expect(() => box.open(sealed, "fleet-signing-key:fk_1")).toThrow(/E_SECRET_UNREADABLE/);
    expect(() => box.open(sealed, "otp-secret:lock-2")).toThrow(/E_SECRET_UNREADABLE/);
  });

  it("a sealed secret does not open under another key-encryption key or when altered", () => {
    const sealed = new SecretBox(randomBytes(32)).seal(Buffer.from("x"), "p");
    expect(() => new SecretBox(randomBytes(32)).open(sealed, "p")).toThrow(/E_SECRET_UNREADABLE/);
    const box = new SecretBox(randomBytes(32));
    const mine = box.seal(Buffer.from("abc"), "p").split(".");
    mine[2] = `${mine[2]?.slice(0, -1)}${mine[2]?.endsWith("A") ? "B" : "A"}`;
    expect(() => box.open(mine.join("."), "p")).toThrow(/E_SECRET_UNREADABLE/);
  });

  it("the key file is created 0600 and refused once others may read it", () => {
    const dir = tempDir();
    const first = SecretBox.load(dir, {});
    expect(statSync(join(dir, "kek")).mode & 0o777).toBe(0o600);
    const sealed = first.seal(Buffer.from("s"), "p");
    expect(Buffer.from(SecretBox.load(dir, {}).open(sealed, "p")).toString()).toBe("s");
    chmodSync(join(dir, "kek"), 0o644);
    expect(() => SecretBox.load(dir, {})).toThrow(/E_KEK_PERMISSIONS/);
  });

  it("LOCKFLEET_KEK takes precedence and must be 32 bytes", () => {
    const dir = tempDir();
    const kek = randomBytes(32).toString("base64");
    const box = SecretBox.load(dir, { LOCKFLEET_KEK: kek });
    expect(() => readFileSync(join(dir, "kek"))).toThrow();
    expect(
      Buffer.from(
        new SecretBox(Buffer.from(kek, "base64")).open(box.seal(Buffer.from("k"), "p"), "p"),
      ).toString(),
    ).toBe("k");
    expect(() => SecretBox.load(dir, { LOCKFLEET_KEK: "c2hvcnQ=" })).toThrow(/E_KEK_INVALID/);
  });
});
