/**
 * TLS between locks and the broker: which CA certificate locks are told to trust (and pin), a
 * check that the configured certificate, key and CA belong together, and a self-signed broker
 * certificate for a fleet that has none (the demo), made with the openssl program.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { certificatePin } from "@lockfleet/protocol";
import { FleetError } from "../errors.js";

/** The embedded broker's certificate (chain), key and optionally the CA that issued it, all PEM. */
export interface BrokerTlsOptions {
  cert: string;
  key: string;
  /** CA certificate locks trust; absent: the broker certificate itself, which must be self-signed. */
  ca?: string;
}

/** What locks are handed at enrolment: the CA to trust and its pin (token suffix). */
export interface LockTrust {
  caPem: string;
  pin: string;
}

function tlsError(message: string): FleetError {
  return new FleetError("E_MQTT_TLS", message, 500);
}

function firstCertificate(pem: string, what: string): { pem: string; x509: X509Certificate } {
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (match === null) throw tlsError(`the ${what} holds no PEM certificate`);
  try {
    return { pem: `${match[0]}\n`, x509: new X509Certificate(match[0]) };
  } catch (error) {
    throw tlsError(`the ${what} is not a readable certificate: ${(error as Error).message}`);
  }
}

/**
 * Checks the embedded broker's TLS settings and returns what locks must trust: refuses a key
 * that is not the certificate's, a certificate the CA did not issue, and — without a CA — a
 * certificate that is not self-signed (a lock could not verify it against itself alone).
 */
export function embeddedLockTrust(tls: BrokerTlsOptions): LockTrust {
  const leaf = firstCertificate(tls.cert, "broker certificate");
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(tls.key);
  } catch {
    throw tlsError("the broker key is not a readable PEM private key");
  }
  if (!leaf.x509.checkPrivateKey(key)) {
    throw tlsError("the broker key does not belong to the broker certificate");
  }
  if (Date.parse(leaf.x509.validTo) <= Date.now()) {
    throw tlsError(`the broker certificate expired on ${leaf.x509.validTo}`);
  }
  if (tls.ca === undefined) {
    const selfSigned = leaf.x509.checkIssued(leaf.x509) && leaf.x509.verify(leaf.x509.publicKey);
    if (!selfSigned) {
      throw tlsError(
        "the broker certificate is not self-signed; give the CA that issued it (--mqtt-tls-ca) so locks can verify it",
      );
    }
    return { caPem: leaf.pem, pin: certificatePin(leaf.pem) };
  }
  const ca = firstCertificate(tls.ca, "CA certificate");
  const chain = [
    ...tls.cert.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g),
  ].map((m) => new X509Certificate(m[0]));
  const issuedByCa = chain.some(
    (cert) => cert.checkIssued(ca.x509) && cert.verify(ca.x509.publicKey),
  );
  if (!issuedByCa) {
    throw tlsError(
      "the broker certificate (chain) is not issued by the CA given with --mqtt-tls-ca",
    );
  }
  return { caPem: ca.pem, pin: certificatePin(ca.pem) };
}

/**
 * The embedded broker's TLS from its options: the given certificate, one made in
 * `<dataDir>/mqtt-tls` ("self-signed"), or none when plain MQTT was asked for explicitly.
 */
export function embeddedBrokerTls(
  options: {
    host?: string;
    deviceUrl?: string;
    tls?: BrokerTlsOptions | "self-signed";
    plain?: boolean;
  },
  dataDir: string,
): { tls?: BrokerTlsOptions; trust?: LockTrust } {
  if (options.tls === undefined) {
    if (options.plain === true) return {};
    throw new FleetError(
      "E_MQTT_TLS_REQUIRED",
      "the embedded broker needs a TLS certificate and key, or plain MQTT enabled explicitly",
      500,
    );
  }
  const tls =
    options.tls === "self-signed"
      ? ensureSelfSignedBrokerCertificate(
          join(dataDir, "mqtt-tls"),
          certificateHosts(options.host, options.deviceUrl),
        )
      : options.tls;
  return { tls, trust: embeddedLockTrust(tls) };
}

/** For an external mqtts:// broker: the CA locks (and the fleet) trust for it. */
export function externalLockTrust(caPem: string): LockTrust {
  const ca = firstCertificate(caPem, "broker CA certificate");
  return { caPem: ca.pem, pin: certificatePin(ca.pem) };
}

/**
 * The names a self-signed broker certificate covers: the listening address (or, on a wildcard,
 * every address of this machine and its host name), the host locks are told, and loopback.
 */
export function certificateHosts(
  host: string | undefined,
  deviceUrl: string | undefined,
): string[] {
  const hosts = ["localhost", "127.0.0.1", "::1"];
  if (host === undefined || host === "0.0.0.0" || host === "::") {
    hosts.push(hostname());
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) {
        if (!address.address.includes("%")) hosts.push(address.address);
      }
    }
  } else hosts.push(host);
  if (deviceUrl !== undefined) {
    try {
      hosts.push(new URL(deviceUrl).hostname.replace(/^\[|\]$/g, ""));
    } catch {
      // the configuration checked it; an unparsable one adds no name
    }
  }
  return hosts;
}

/** Where `ensureSelfSignedBrokerCertificate` keeps its files. */
export function brokerCertificatePaths(dir: string): { cert: string; key: string } {
  return { cert: join(dir, "broker-cert.pem"), key: join(dir, "broker-key.pem") };
}

/**
 * A self-signed broker certificate (EC P-256, 825 days) for the given host names and addresses,
 * made once in `dir` with the openssl program and reused while it is valid and covers them.
 * The key file is kept 0600; it never leaves `dir`.
 */
export function ensureSelfSignedBrokerCertificate(dir: string, hosts: string[]): BrokerTlsOptions {
  const paths = brokerCertificatePaths(dir);
  const names = [
    ...new Set(hosts.filter((host) => host !== "" && host !== "0.0.0.0" && host !== "::")),
  ];
  if (existsSync(paths.cert) && existsSync(paths.key)) {
    const cert = readFileSync(paths.cert, "utf8");
    const x509 = new X509Certificate(cert);
    const covered = names.every((host) =>
      isIP(host) ? x509.checkIP(host) !== undefined : x509.checkHost(host) !== undefined,
    );
    if (covered && Date.parse(x509.validTo) > Date.now() + 7 * 86_400_000) {
      return { cert, key: readFileSync(paths.key, "utf8") };
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const san = names.map((host) => (isIP(host) ? `IP:${host}` : `DNS:${host}`)).join(",");
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        paths.key,
        "-out",
        paths.cert,
        "-days",
        "825",
        "-subj",
        "/CN=lockfleet embedded broker",
        "-addext",
        `subjectAltName=${san}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE,pathlen:0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    chmodSync(paths.key, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw tlsError(
      code === "ENOENT"
        ? "making a broker certificate needs the openssl program, which is not installed"
        : `openssl could not make a broker certificate: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`,
    );
  }
  return { cert: readFileSync(paths.cert, "utf8"), key: readFileSync(paths.key, "utf8") };
}
