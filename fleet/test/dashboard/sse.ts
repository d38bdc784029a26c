/** A Server-Sent Events reader over a real HTTP connection, for tests. */
import { get, type IncomingMessage } from "node:http";

export interface SseEvent {
  id: string;
  event: string;
  data: unknown;
}

export interface SseStream {
  response: IncomingMessage;
  events: SseEvent[];
  /** Resolves with the first event (already received or to come) that matches. */
  next(match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const request = get(
      url,
      { headers: { accept: "text/event-stream", ...headers } },
      (response) => {
        const events: SseEvent[] = [];
        const waiters: Array<{ match: (e: SseEvent) => boolean; done: (e: SseEvent) => void }> = [];
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
            const fields: Record<string, string> = {};
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              if (colon < 0) continue;
              fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
            }
            if (fields.event === undefined || fields.data === undefined) continue;
            const event = {
              id: fields.id ?? "",
              event: fields.event,
              data: JSON.parse(fields.data) as unknown,
            };
            events.push(event);
            for (const waiter of [...waiters]) {
              if (waiter.match(event)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.done(event);
              }
            }
          }
        });
        resolve({
          response,
          events,
          next(match, timeoutMs = 3000) {
            const found = events.find(match);
            if (found !== undefined) return Promise.resolve(found);
            return new Promise((done, fail) => {
              const timer = setTimeout(
                () => fail(new Error("no matching event in time")),
                timeoutMs,
              );
              waiters.push({
                match,
                done: (event) => {
                  clearTimeout(timer);
                  done(event);
                },
              });
            });
          },
          close() {
            request.destroy();
          },
        });
      },
    );
    request.on("error", reject);
  });
}
