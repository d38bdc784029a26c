/**
 * Password and e-mail rules for fleet accounts: at least 12 characters, not one of the common
 * or breached passwords of the maintained list shipped with `@zxcvbn-ts/language-common`
 * (about 49,000 entries), not a run of one or two characters; account e-mails must be
 * addresses a mail system delivers to (local part, dotted domain, no spaces).
 */
import { dictionary } from "@zxcvbn-ts/language-common";
import { FleetError } from "../errors.js";
import { MIN_PASSWORD_LENGTH } from "./passwords.js";

const COMMON = new Set((dictionary["passwords-common"] as string[]).map((p) => p.toLowerCase()));

/** Why the password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return "this password is on a list of common or breached passwords";
  if (new Set(lower).size < 4) return "a password needs more than three different characters";
  // a common password with digits or punctuation around it is still a common password
  const core = lower.replace(/^[^a-z]+|[^a-z]+$/g, "");
  if (core.length >= 4 && core !== lower && COMMON.has(core)) {
    return "this password is a common password with a few characters added";
  }
  return undefined;
}

export function assertPasswordAcceptable(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new FleetError("E_PASSWORD_WEAK", problem);
}

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export function isValidEmail(email: string): boolean {
  if (!EMAIL.test(email)) return false;
  const local = email.slice(0, email.indexOf("@"));
  return !local.startsWith(".") && !local.endsWith(".") && !local.includes("..");
}

export function assertEmail(email: string): void {
  if (!isValidEmail(email)) {
    throw new FleetError("E_EMAIL", `"${email}" is not an e-mail address (name@domain.tld)`);
  }
}
