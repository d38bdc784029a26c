/**
 * Strict input for every route: request bodies are validated without type coercion (a string
 * never becomes a number, nor a number a string), JSON with a key given twice, text that is not
 * UTF-8, lone surrogates or control characters, and instants or dates that do not exist on the
 * calendar are refused with a stable `E_*` code before any handler runs, so nothing is stored.
 * Query strings and path parameters are text by nature and keep their coercion.
 */
import { AjvCompiler } from "@fastify/ajv-compiler";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FleetError } from "./errors.js";

type ValidatorFactory = ReturnType<typeof AjvCompiler>;
type ServerAjvOptions = Parameters<ValidatorFactory>[1];

/** Bodies compiled with `coerceTypes: false`; querystring, params and headers as configured. */
export function strictBodyValidators(
  externalSchemas: Parameters<ValidatorFactory>[0],
  options: ServerAjvOptions,
): ReturnType<ValidatorFactory> {
  const coercing = AjvCompiler()(externalSchemas, options);
  // the server's ajv options are plain (non-JTD) ajv options; only coercion changes
  const strictOptions = {
    ...options,
    customOptions: { ...(options?.customOptions ?? {}), coerceTypes: false },
  } as ServerAjvOptions;
  const strict = AjvCompiler()(externalSchemas, strictOptions);
  return (route) => (route.httpPart === "body" ? strict(route) : coercing(route));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
// C0 controls except tab, line feed and carriage return; DEL; C1 controls
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Where in a JSON text an object names a key twice, or undefined. JSON.parse checked syntax. */
export function duplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === "[") {
      stack.push(null);
      expectKey = false;
    } else if (ch === "}" || ch === "]") {
      stack.pop();
      expectKey = false;
    } else if (ch === ",") {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = stack[stack.length - 1];
        if (keys instanceof Set) {
          if (keys.has(key)) return key;
          keys.add(key);
        }
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

/** Refuses lone surrogates, control characters and prototype keys anywhere in a parsed body. */
function checkText(value: unknown, path: string): void {
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) {
      throw new FleetError("E_TEXT_ENCODING", `${path} holds a lone surrogate (not Unicode text)`);
    }
    if (CONTROL.test(value)) {
      throw new FleetError("E_TEXT_CONTROL", `${path} holds a control character`);
    }
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) checkText(item, `${path}/${index}`);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key))
        throw new FleetError("E_JSON_KEY", `${path}/${key} is not allowed`);
      checkText(key, `${path} key`);
      checkText(item, `${path}/${key}`);
    }
  }
}

export function parseStrictJson(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new FleetError("E_TEXT_ENCODING", "the body is not UTF-8");
  }
  if (text.trim() === "") throw new FleetError("E_JSON", "the JSON body is empty");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FleetError("E_JSON", `the body is not JSON (${(error as Error).message})`);
  }
  const twice = duplicateKey(text);
  if (twice !== undefined) {
    throw new FleetError("E_JSON_DUPLICATE_KEY", `the key "${twice}" is given twice in one object`);
  }
  checkText(parsed, "body");
  return parsed;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}))?$/;

/** Whether a date or instant string names a day and time that exist (2026-02-30 does not). */
export function realDate(text: string): boolean {
  const match = INSTANT.exec(text);
  if (match === null) return true; // not a date: other rules decide
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return false;
  }
  if (match[4] === undefined) return true;
  return Number(match[5]) <= 23 && Number(match[6]) <= 59 && Number(match[7]) <= 59;
}

function checkDates(value: unknown, path: string): void {
  if (typeof value === "string") {
    if (!realDate(value)) {
      throw new FleetError("E_DATE", `${path} "${value}" is not a date that exists`);
    }
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) checkDates(item, `${path}/${index}`);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) checkDates(item, `${path}/${key}`);
  }
}

/** Installs the strict JSON parser and the calendar check on query strings and bodies. */
export function installStrictInput(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser(
    "application/json",
    { parseAs: "buffer", bodyLimit: 1024 * 1024 },
    (_request, body, done) => {
      try {
        done(null, parseStrictJson(body as Buffer));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  app.addHook("preValidation", async (request: FastifyRequest) => {
    checkDates(request.query, "querystring");
    checkDates(request.body, "body");
    checkText(request.query, "querystring");
  });
}
