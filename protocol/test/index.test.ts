import * as protocol from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";

describe("package root @lockfleet/protocol", () => {
  it.each([
    // canonical JSON (RFC 8785)
    "canonicalJson",
    "isCanonicalJsonText",
    // Ed25519, both backends, and the byte helpers they use
    "ed25519",
    "nodeEd25519",
    "tweetnaclEd25519",
    "toBase64url",
    "fromBase64url",
    "toHex",
    "fromHex",
    // envelopes and replay protection
    "signEnvelope",
    "openEnvelope",
    "openCommand",
    "encodeEnvelope",
    "peekEnvelopeId",
    "MemoryReplayGuard",
    "MAX_ENVELOPE_BYTES",
    "PROTOCOL_ERROR_CODES",
    // one-time codes and close seals
    "oneTimeCode",
    "closeSeal",
    "findOneTimeCode",
    "dynamicTruncate",
    "otpWindowsContaining",
    "isOtpWindow",
    "openingSeal",
    "openingSealMessage",
    "verifyOpeningSeal",
    "matchOtpCloseSeal",
    "sealsEqual",
    "OPENING_SEAL_PURPOSE",
    "CLOSE_SEAL_PATTERN",
    // which policy changes weaken a lock
    "policyWeakenings",
    "scheduleWeakenings",
    "holidayWeakenings",
    "WEAKENING_APPROVERS_REQUIRED",
    // sealed secrets and the audit chain
    "sealSecret",
    "openSealedSecret",
    "x25519",
    "chainAuditRecord",
    "verifyAuditChain",
    "signCheckpoint",
    "verifyCheckpoint",
    // topics
    "topics",
    "parseTopic",
    "deviceMayPublish",
    "deviceMaySubscribe",
    "deviceTopicGrants",
    "fleetSubscription",
    // schemas and validation
    "COMMAND_BODIES",
    "AccessGrant",
    "LockState",
    "Availability",
    "AuditRecord",
    "Alarm",
    "Checkpoint",
    "CommandResult",
    "EnrolmentRequest",
    "EnrolmentResponse",
    "LockPolicy",
    "TimeLockSchedule",
    "SignedEnvelope",
    "validate",
    "isValid",
    // local wall time
    "WallClock",
  ])("exports %s", (name) => {
    expect(protocol).toHaveProperty(name);
    expect((protocol as Record<string, unknown>)[name]).toBeDefined();
  });

  it("ed25519 has generateKeyPair, sign and verify(message, signature, publicKey)", () => {
    const { publicKey, secretKey } = protocol.ed25519.generateKeyPair();
    const message = new TextEncoder().encode("lockfleet");
    const signature = protocol.ed25519.sign(message, secretKey);
    expect(protocol.ed25519.verify(message, signature, publicKey)).toBe(true);
    expect(protocol.ed25519.name).toBe("node");
  });

  it("a command signed and opened through the package root", () => {
    const fleet = protocol.ed25519.generateKeyPair();
    const now = Date.parse("2026-11-23T10:00:00.000Z");
    const wire = protocol.encodeEnvelope(
      protocol.signEnvelope(
        {
          type: "selfTest.request",
          deviceId: "lock-1",
          id: "cmd-1",
          seq: 1,
          issuedAt: now,
          expiresAt: now + 60_000,
          keyId: "k-1",
          body: {},
        },
        fleet.secretKey,
      ),
    );
    const opened = protocol.openCommand(wire, {
      deviceId: "lock-1",
      now,
      keys: new Map([["k-1", fleet.publicKey]]),
      replayGuard: new protocol.MemoryReplayGuard(),
    });
    expect(opened.ok && opened.value.type).toBe("selfTest.request");
  });

  it("every command body schema is reachable by type", () => {
    expect(protocol.COMMAND_TYPES).toContain("remote.centralRelease");
    expect(protocol.COMMAND_TYPES).toContain("grant");
  });
});
