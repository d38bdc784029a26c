/**
 * Fetches a release target from the fleet in ranges (HTTP `Range: bytes=a-b`), appending each
 * to a partial file that survives restarts: a download cut by the network or a power loss
 * resumes where it stopped. Nothing here trusts the bytes: the caller checks length and
 * SHA-256 against the signed release before anything else is touched.
 */
import { createHash } from "node:crypto";
import { appendFileSync, createReadStream, existsSync, statSync, truncateSync } from "node:fs";
import { UpdateError } from "../errors.js";

export const DEFAULT_CHUNK_BYTES = 256 * 1024;

/** A download cut or refused; the partial file stays and the next start resumes it. */
export class DownloadError extends UpdateError {
  // the code says which: E_UPDATE_DOWNLOAD or E_UPDATE_LENGTH
}

export interface DownloadRequest {
  url: string;
  token: string;
  /** The length the signed release names; a server that sends more is cut off there. */
  length: number;
  partPath: string;
  chunkBytes?: number;
  /** Called after every chunk with the bytes held so far. */
  progress?: (bytes: number) => void;
  /** True when the download should stop (the runtime stops). */
  cancelled?: () => boolean;
}

export async function downloadTarget(request: DownloadRequest): Promise<void> {
  const chunk = Math.max(1024, request.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  let held = existsSync(request.partPath) ? statSync(request.partPath).size : 0;
  if (held > request.length) {
    truncateSync(request.partPath, 0);
    held = 0;
  }
  while (held < request.length) {
    if (request.cancelled?.() === true)
      throw new DownloadError("E_UPDATE_DOWNLOAD", "download stopped with the lock");
    const end = Math.min(request.length, held + chunk) - 1;
    let response: Response;
    try {
      response = await fetch(request.url, {
        headers: { "x-lockfleet-download-token": request.token, range: `bytes=${held}-${end}` },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new DownloadError(
        "E_UPDATE_DOWNLOAD",
        `the fleet did not answer for bytes ${held}-${end}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.status !== 206) {
      const text = (await response.text().catch(() => "")).slice(0, 200);
      throw new DownloadError(
        "E_UPDATE_DOWNLOAD",
        `the fleet answered ${response.status} for bytes ${held}-${end}${text === "" ? "" : `: ${text}`}`,
      );
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength === 0)
      throw new DownloadError("E_UPDATE_DOWNLOAD", `the fleet sent no bytes from ${held}`);
    if (bytes.byteLength > end - held + 1)
      throw new DownloadError(
        "E_UPDATE_LENGTH",
        `the fleet sent ${bytes.byteLength} bytes for a range of ${end - held + 1}`,
      );
    appendFileSync(request.partPath, bytes);
    held += bytes.byteLength;
    request.progress?.(held);
  }
}

/** Length and SHA-256 of a file, streamed (a target may be larger than the memory to spare). */
export async function measureFile(path: string): Promise<{ length: number; sha256: string }> {
  const hash = createHash("sha256");
  let length = 0;
  for await (const piece of createReadStream(path)) {
    const bytes = piece as Buffer;
    hash.update(bytes);
    length += bytes.byteLength;
  }
  return { length, sha256: hash.digest("hex") };
}
