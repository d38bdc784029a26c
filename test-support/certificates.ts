/**
 * Certificates for TLS tests, made at test time with the openssl program (no private key is
 * kept in the repository): a CA, a broker certificate it issues, and impostors (a certificate
 * of another CA, a self-signed one) for the same address.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Pem {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function read(certPath: string, keyPath: string): Pem {
  return {
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
  };
}

/** A self-signed certificate; `ca` marks it as a CA that may issue others. */
export function selfSigned(dir: string, name: string, san: string, ca = false): Pem {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}-key.pem`);
  openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    `subjectAltName=${san}`,
    ...(ca
      ? [
          "-addext",
          "basicConstraints=critical,CA:TRUE",
          "-addext",
          "keyUsage=critical,keyCertSign,cRLSign",
        ]
      : []),
  ]);
  return read(certPath, keyPath);
}

/** A certificate for `san` issued by `ca`. */
export function issuedBy(ca: Pem, dir: string, name: string, san: string): Pem {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}-key.pem`);
  const csrPath = join(dir, `${name}.csr`);
  const extPath = join(dir, `${name}.ext`);
  openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    csrPath,
    "-subj",
    `/CN=${name}`,
  ]);
  execFileSync("sh", [
    "-c",
    `printf 'subjectAltName=${san}\\nbasicConstraints=CA:FALSE\\n' > '${extPath}'`,
  ]);
  openssl([
    "x509",
    "-req",
    "-in",
    csrPath,
    "-CA",
    ca.certPath,
    "-CAkey",
    ca.keyPath,
    "-CAcreateserial",
    "-out",
    certPath,
    "-days",
    "2",
    "-extfile",
    extPath,
  ]);
  return read(certPath, keyPath);
}
