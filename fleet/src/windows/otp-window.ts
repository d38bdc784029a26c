/**
 * One-time codes are valid in a window on the protocol's grid (quarter-hour starts, fixed
 * lengths) so that an offline lock can find it. The fleet never widens what the bank approved:
 * it picks the longest grid window inside the approved range (earliest if several).
 */
import { OTP_WINDOW_LENGTHS_MIN, OTP_WINDOW_STEP_MS } from "@lockfleet/protocol";

export function otpWindowInside(
  notBefore: number,
  notAfter: number,
): { notBefore: number; notAfter: number } | undefined {
  const firstStart = Math.ceil(notBefore / OTP_WINDOW_STEP_MS) * OTP_WINDOW_STEP_MS;
  const lengths = [...OTP_WINDOW_LENGTHS_MIN].sort((a, b) => b - a);
  for (const lengthMin of lengths) {
    const length = lengthMin * 60_000;
    if (firstStart + length <= notAfter) {
      return { notBefore: firstStart, notAfter: firstStart + length };
    }
  }
  return undefined;
}
