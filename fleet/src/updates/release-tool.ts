/**
 * The offline release tool (`lockfleet-fleet release keygen|sign|verify`), run by the release
 * manager on a machine the fleet service never sees. The release key is separate from the
 * fleet's command key: the fleet only keeps and relays what this tool signed, and the locks
 * trust only the public half installed with them (/etc/lockfleet/release-keys.json).
 *
 * Key rotation and revocation are signed key sets (`keyset-new`, then `keyset-sign` once by each
 * key that vouches for the set and each key the set names, on that key's own machine); the
 * fleet keeps the result and relays it to the locks (docs/operations.md, key ceremony).
 *
 * The private key file is encrypted with a passphrase (scrypt, AES-256-GCM) read from
 * LOCKFLEET_RELEASE_PASSPHRASE; it is never written in clear.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  CodedError,
  checkTarget,
  ed25519,
  fromBase64url,
  openRelease,
  parseReleaseKeyFile,
  type ReleaseKeySetMetadata,
  type ReleaseMetadata,
  type SignedRelease,
  type SignedReleaseKeySet,
  signRelease,
  signReleaseKeySet,
  toBase64url,
} from "@lockfleet/protocol";

export const RELEASE_TOOL_USAGE = `usage: lockfleet-fleet release <keygen|sign|verify|keyset-new|keyset-sign> [options]

Offline: run where the release key lives, never on the fleet's machine.

  keygen --key-id ID --out FILE
      new Ed25519 release key: FILE (private, encrypted with $LOCKFLEET_RELEASE_PASSPHRASE)
      and FILE.pub.json (the public half, for /etc/lockfleet/release-keys.json on each lock)
  sign --key FILE --target ARCHIVE --version X.Y.Z --profiles ID[,ID] --min-from X.Y.Z
       [--release-id ID] [--expires-days N (30)] [--notes TEXT] --out RELEASE.json
      signed release metadata for the archive (length and SHA-256 taken from it)
  verify --keys RELEASE-KEYS.json --release RELEASE.json [--target ARCHIVE]
      checks the signature (and the archive) as a lock would
  keyset-new --version N --public FILE.pub.json[,FILE.pub.json] [--threshold T (1)]
       [--expires-days N (365)] [--notes TEXT] --out KEYSET.json
      a release-key set, not yet signed: the keys the locks trust once it is accepted
  keyset-sign --key FILE --keyset KEYSET.json
      adds this key's signature; a set needs a threshold of the keys trusted now and of its own`;

export interface ToolOutput {
  out(text: string): void;
  err(text: string): void;
}

interface KeyFile {
  v: 1;
  keyId: string;
  publicKey: string;
  kdf: { name: "scrypt"; salt: string; N: number; r: number; p: number };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string; data: string };
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

function passphrase(env: NodeJS.ProcessEnv): string {
  const text = env.LOCKFLEET_RELEASE_PASSPHRASE;
  if (text === undefined || text.length < 12)
    throw new Error(
      "E_RELEASE_PASSPHRASE: set LOCKFLEET_RELEASE_PASSPHRASE (12 characters or more)",
    );
  return text;
}

function keyFromPassphrase(
  text: string,
  salt: Buffer,
  kdf: { N: number; r: number; p: number },
): Buffer {
  return scryptSync(text, salt, 32, { ...kdf, maxmem: 256 * kdf.N * kdf.r });
}

export function keygen(keyId: string, out: string, env: NodeJS.ProcessEnv): { publicKeys: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(keyId))
    throw new CodedError("E_USAGE", `key id "${keyId}" must be letters, digits, _ . : - (1–64)`);
  if (existsSync(out))
    throw new CodedError("E_EXISTS", `${out} exists; a release key is never overwritten`);
  const pair = ed25519.generateKeyPair();
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv(
    "aes-256-gcm",
    keyFromPassphrase(passphrase(env), salt, SCRYPT),
    iv,
  );
  const data = Buffer.concat([cipher.update(pair.secretKey.subarray(0, 32)), cipher.final()]);
  pair.secretKey.fill(0);
  const file: KeyFile = {
    v: 1,
    keyId,
    publicKey: toBase64url(pair.publicKey),
    kdf: { name: "scrypt", salt: toBase64url(salt), ...SCRYPT },
    cipher: {
      name: "aes-256-gcm",
      iv: toBase64url(iv),
      tag: toBase64url(cipher.getAuthTag()),
      data: toBase64url(data),
    },
  };
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  const publicKeys = `${JSON.stringify({ keys: [{ keyId, publicKey: file.publicKey }] }, null, 2)}\n`;
  writeFileSync(`${out}.pub.json`, publicKeys, { mode: 0o644 });
  return { publicKeys };
}

function openKey(path: string, env: NodeJS.ProcessEnv): { keyId: string; secretKey: Uint8Array } {
  const file = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
  if (file.v !== 1 || file.kdf?.name !== "scrypt" || file.cipher?.name !== "aes-256-gcm")
    throw new CodedError("E_RELEASE_KEY", `${path} is not a release key file`);
  const decipher = createDecipheriv(
    "aes-256-gcm",
    keyFromPassphrase(passphrase(env), Buffer.from(fromBase64url(file.kdf.salt)), file.kdf),
    fromBase64url(file.cipher.iv),
  );
  decipher.setAuthTag(fromBase64url(file.cipher.tag));
  let seed: Buffer;
  try {
    seed = Buffer.concat([decipher.update(fromBase64url(file.cipher.data)), decipher.final()]);
  } catch {
    throw new CodedError("E_RELEASE_PASSPHRASE", `the passphrase does not open ${path}`);
  }
  const pair = ed25519.keyPairFromSeed(seed);
  seed.fill(0);
  if (toBase64url(pair.publicKey) !== file.publicKey)
    throw new CodedError(
      "E_RELEASE_KEY",
      `${path} holds a key that does not match its public half`,
    );
  return { keyId: file.keyId, secretKey: pair.secretKey };
}

export function signReleaseFile(
  options: {
    key: string;
    target: string;
    version: string;
    profiles: string[];
    minFrom: string;
    releaseId?: string;
    expiresDays: number;
    notes?: string;
    now?: number;
  },
  env: NodeJS.ProcessEnv,
): SignedRelease {
  const { keyId, secretKey } = openKey(options.key, env);
  const bytes = readFileSync(options.target);
  const now = options.now ?? Date.now();
  const name = options.target.split(/[\\/]/).at(-1) ?? "target.tar.gz";
  const metadata: ReleaseMetadata = {
    v: 1,
    type: "release",
    releaseId: options.releaseId ?? `rel-${options.version}`,
    version: options.version,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + options.expiresDays * 86_400_000).toISOString(),
    keyId,
    target: {
      name,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      length: bytes.byteLength,
    },
    hardwareProfiles: options.profiles,
    minimumFromVersion: options.minFrom,
    ...(options.notes === undefined ? {} : { notes: options.notes }),
  };
  try {
    return signRelease(metadata, secretKey);
  } finally {
    secretKey.fill(0);
  }
}

/** A new key set from the public halves `keygen` wrote; signatures are added one by one. */
export function newKeySet(options: {
  version: number;
  publicFiles: string[];
  threshold: number;
  expiresDays: number;
  notes?: string;
  now?: number;
}): { payload: string; signatures: SignedReleaseKeySet["signatures"] } {
  const keys = options.publicFiles.flatMap((file) => {
    const parsed = parseReleaseKeyFile(readFileSync(file, "utf8"), file);
    if (!parsed.ok) throw new CodedError(parsed.error.code, parsed.error.message);
    return [...parsed.value.keys].map(([keyId, publicKey]) => ({
      keyId,
      publicKey: toBase64url(publicKey),
    }));
  });
  const now = options.now ?? Date.now();
  const metadata: ReleaseKeySetMetadata = {
    v: 1,
    type: "releaseKeys",
    version: options.version,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + options.expiresDays * 86_400_000).toISOString(),
    threshold: options.threshold,
    keys,
    ...(options.notes === undefined ? {} : { notes: options.notes }),
  };
  return { payload: signReleaseKeySet(metadata, []).payload, signatures: [] };
}

/** Adds one key's signature to a key set file (the payload is never changed). */
export function signKeySetFile(
  keyFile: string,
  keySetFile: string,
  env: NodeJS.ProcessEnv,
): string {
  const keySet = JSON.parse(readFileSync(keySetFile, "utf8")) as {
    payload: string;
    signatures: SignedReleaseKeySet["signatures"];
  };
  const { keyId, secretKey } = openKey(keyFile, env);
  try {
    const signature = toBase64url(
      ed25519.sign(new TextEncoder().encode(keySet.payload), secretKey),
    );
    const signatures = [
      ...keySet.signatures.filter((entry) => entry.keyId !== keyId),
      { keyId, signature },
    ];
    writeFileSync(`${keySetFile}.tmp`, `${JSON.stringify({ ...keySet, signatures }, null, 2)}\n`);
    renameSync(`${keySetFile}.tmp`, keySetFile);
    return keyId;
  } finally {
    secretKey.fill(0);
  }
}

export async function runReleaseTool(
  argv: string[],
  output: ToolOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      "key-id": { type: "string" },
      out: { type: "string" },
      key: { type: "string" },
      keys: { type: "string" },
      target: { type: "string" },
      release: { type: "string" },
      version: { type: "string" },
      profiles: { type: "string" },
      "min-from": { type: "string" },
      "release-id": { type: "string" },
      "expires-days": { type: "string" },
      notes: { type: "string" },
      public: { type: "string" },
      threshold: { type: "string" },
      keyset: { type: "string" },
    },
  });
  const need = (name: keyof typeof values): string => {
    const value = values[name];
    if (typeof value !== "string")
      throw new CodedError("E_USAGE", `release ${action} needs --${name}\n${RELEASE_TOOL_USAGE}`);
    return value;
  };
  switch (action) {
    case "keygen": {
      const { publicKeys } = keygen(need("key-id"), need("out"), env);
      output.out(`release key written to ${need("out")} (encrypted); public half:\n${publicKeys}`);
      return 0;
    }
    case "sign": {
      const expiresDays = Number(values["expires-days"] ?? "30");
      if (!Number.isInteger(expiresDays) || expiresDays < 1 || expiresDays > 366)
        throw new CodedError("E_USAGE", "--expires-days is a whole number of days, 1 to 366");
      const signed = signReleaseFile(
        {
          key: need("key"),
          target: need("target"),
          version: need("version"),
          profiles: need("profiles")
            .split(",")
            .filter((id) => id.length > 0),
          minFrom: need("min-from"),
          expiresDays,
          ...(values["release-id"] === undefined ? {} : { releaseId: values["release-id"] }),
          ...(values.notes === undefined ? {} : { notes: values.notes }),
        },
        env,
      );
      writeFileSync(need("out"), `${JSON.stringify(signed, null, 2)}\n`, { flag: "wx" });
      output.out(`signed release written to ${need("out")}`);
      return 0;
    }
    case "verify": {
      const keys = JSON.parse(readFileSync(need("keys"), "utf8")) as {
        keys: Array<{ keyId: string; publicKey: string }>;
      };
      const trusted = new Map(keys.keys.map((key) => [key.keyId, fromBase64url(key.publicKey)]));
      const signed = JSON.parse(readFileSync(need("release"), "utf8")) as SignedRelease;
      const opened = openRelease(signed, trusted);
      if (!opened.ok) {
        output.err(`${opened.error.code}: ${opened.error.message}`);
        return 1;
      }
      if (values.target !== undefined) {
        const bytes = readFileSync(values.target);
        const checked = checkTarget(opened.value.metadata, {
          length: bytes.byteLength,
          sha256: createHash("sha256").update(bytes).digest("hex"),
        });
        if (!checked.ok) {
          output.err(`${checked.error.code}: ${checked.error.message}`);
          return 1;
        }
      }
      const { metadata } = opened.value;
      output.out(
        `release ${metadata.releaseId} ${metadata.version} signed by ${metadata.keyId}, expires ${metadata.expiresAt}`,
      );
      return 0;
    }
    case "keyset-new": {
      const version = Number(need("version"));
      const threshold = Number(values.threshold ?? "1");
      const expiresDays = Number(values["expires-days"] ?? "365");
      if (!Number.isInteger(version) || version < 2)
        throw new CodedError(
          "E_USAGE",
          "--version is a whole number above the trusted set's (2 or more)",
        );
      if (!Number.isInteger(threshold) || threshold < 1)
        throw new CodedError("E_USAGE", "--threshold is a whole number from 1");
      if (!Number.isInteger(expiresDays) || expiresDays < 1 || expiresDays > 3660)
        throw new CodedError("E_USAGE", "--expires-days is a whole number of days, 1 to 3660");
      const keySet = newKeySet({
        version,
        publicFiles: need("public")
          .split(",")
          .filter((file) => file.length > 0),
        threshold,
        expiresDays,
        ...(values.notes === undefined ? {} : { notes: values.notes }),
      });
      writeFileSync(need("out"), `${JSON.stringify(keySet, null, 2)}\n`, { flag: "wx" });
      output.out(`release key set ${version} written to ${need("out")}; now sign it (keyset-sign)`);
      return 0;
    }
    case "keyset-sign": {
      const keyId = signKeySetFile(need("key"), need("keyset"), env);
      output.out(`signed ${need("keyset")} with ${keyId}`);
      return 0;
    }
    default:
      output.err(RELEASE_TOOL_USAGE);
      return 2;
  }
}
