/**
 * Ranged downloads of a release target over real HTTP: a download cut short resumes where its
 * partial file ends; a server that answers with more than it was asked for, or not with a
 * range, is refused with a stable code and nothing beyond the asked range is kept.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadTarget, measureFile } from "../../src/update/download.js";

const target = randomBytes(10_000);
const dir = mkdtempSync(join(tmpdir(), "lockfleet-download-"));
const asked: string[] = [];
let mode: "ok" | "greedy" | "whole" = "ok";
let server: Server;
let url = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.headers.range ?? "");
    if (req.headers["x-lockfleet-download-token"] !== "t".repeat(32))
      return void res.writeHead(401).end();
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (mode === "whole" || range === null) return void res.writeHead(200).end(target);
    const start = Number(range[1]);
    const end = mode === "greedy" ? target.byteLength - 1 : Number(range[2]);
    res.writeHead(206).end(target.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const request = (partPath: string) => ({
  url,
  token: "t".repeat(32),
  length: target.byteLength,
  partPath,
  chunkBytes: 4096,
});

describe("ranged target download", () => {
  it("a download cut short resumes after the bytes it already holds", async () => {
    const part = join(dir, "resume.part");
    writeFileSync(part, target.subarray(0, 5000));
    asked.length = 0;
    mode = "ok";
    await downloadTarget(request(part));
    expect(asked).toEqual(["bytes=5000-9095", "bytes=9096-9999"]);
    expect(Buffer.compare(readFileSync(part), target)).toBe(0);
    expect((await measureFile(part)).length).toBe(target.byteLength);
  });

  it("more bytes than the range asked for are refused, and not kept", async () => {
    const part = join(dir, "greedy.part");
    mode = "greedy";
    await expect(downloadTarget(request(part))).rejects.toThrow(/^E_UPDATE_LENGTH/);
    expect(() => readFileSync(part)).toThrow();
  });

  it("an answer that is not a range, or a wrong token, is refused with E_UPDATE_DOWNLOAD", async () => {
    mode = "whole";
    await expect(downloadTarget(request(join(dir, "whole.part")))).rejects.toThrow(
      /^E_UPDATE_DOWNLOAD: the fleet answered 200/,
    );
    mode = "ok";
    await expect(
      downloadTarget({ ...request(join(dir, "token.part")), token: "x".repeat(32) }),
    ).rejects.toThrow(/^E_UPDATE_DOWNLOAD: the fleet answered 401/);
  });
});
