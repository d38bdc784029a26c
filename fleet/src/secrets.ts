/**
 * At-rest encryption of the fleet's own secrets (fleet signing private keys, per-lock
 * one-time-code secrets): AES-256-GCM under a key-encryption key (KEK) that never sits in the
 * database. The KEK comes from LOCKFLEET_KEK (base64, 32 bytes) or from `<dataDir>/kek`, which
 * is created with mode 0600 on first start.
 *
 * Each sealed value names what it is (`purpose`, bound as GCM additional data), so a sealed OTP
 * secret copied into the fleet-key column does not open as a fleet key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CodedError, fromBase64url, toBase64url } from "@lockfleet/protocol";

export const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = "v1";

export class SecretBox {
  readonly #kek: Buffer;

  constructor(kek: Uint8Array) {
    if (kek.length !== KEK_BYTES) {
      throw new CodedError("E_KEK_INVALID", `the key-encryption key must be ${KEK_BYTES} bytes`);
    }
    this.#kek = Buffer.from(kek);
  }

  /**
   * The KEK from `env.LOCKFLEET_KEK` when set, else from `<dataDir>/kek` (created 0600 when
   * missing; refused when other users may read it).
   */
  static load(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
    const fromEnv = env.LOCKFLEET_KEK;
    if (fromEnv !== undefined && fromEnv !== "") {
      const kek = Buffer.from(fromEnv, "base64");
      if (kek.length !== KEK_BYTES) {
        throw new CodedError(
          "E_KEK_INVALID",
          `LOCKFLEET_KEK must be ${KEK_BYTES} bytes in base64, got ${kek.length} bytes`,
        );
      }
      return new SecretBox(kek);
    }
    const path = join(dataDir, "kek");
    if (!existsSync(path)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path, `${randomBytes(KEK_BYTES).toString("base64")}\n`, {
        mode: 0o600,
        flag: "wx",
      });
      chmodSync(path, 0o600);
    }
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new CodedError(
        "E_KEK_PERMISSIONS",
        `${path} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`,
      );
    }
    const kek = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (kek.length !== KEK_BYTES) {
      throw new CodedError("E_KEK_INVALID", `${path} does not hold ${KEK_BYTES} bytes in base64`);
    }
    return new SecretBox(kek);
  }

  /** `v1.<iv>.<ciphertext>.<tag>` (base64url parts). */
  seal(plaintext: Uint8Array, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#kek, iv);
    cipher.setAAD(Buffer.from(purpose, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT, toBase64url(iv), toBase64url(ciphertext), toBase64url(tag)].join(".");
  }

  open(sealed: string, purpose: string): Uint8Array {
    const [format, iv, ciphertext, tag] = sealed.split(".");
    if (format !== FORMAT || iv === undefined || ciphertext === undefined || tag === undefined) {
      throw new CodedError("E_SECRET_FORMAT", `sealed ${purpose} is not in ${FORMAT} form`);
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#kek, fromBase64url(iv), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(purpose, "utf8"));
      decipher.setAuthTag(fromBase64url(tag));
      return new Uint8Array(
        Buffer.concat([decipher.update(fromBase64url(ciphertext)), decipher.final()]),
      );
    } catch {
      throw new CodedError(
        "E_SECRET_UNREADABLE",
        `sealed ${purpose} does not open under this key-encryption key`,
      );
    }
  }
}
