import { DEFAULT_LOCK_POLICY, ed25519, toBase64url } from "@lockfleet/protocol";
import { describe, expect, it } from "vitest";
import { entry, MINUTE, SECOND, type Setup, setup, USERS } from "./fixtures.js";

function opened(t: Setup): boolean {
  t.lock.advance(500);
  return t.lock.core.state().bolt === "retracted";
}

function bothCodes(t: Setup): void {
  t.lock.press(entry(USERS.anna));
  t.lock.press(entry(USERS.ben));
}

describe("remote block / unblock", () => {
  it("a blocked lock refuses every code; unblock restores it", () => {
    const t = setup();
    expect(t.lock.command(t.sign("remote.block", { reason: "branch robbed" })).status).toBe("ok");
    expect(t.lock.core.state().blocked).toBe(true);
    bothCodes(t);
    expect(opened(t)).toBe(false);
    expect(t.display()).toBe("BLOCKED | ");
    expect(
      t
        .records()
        .filter((r) => r.kind === "code.rejected")
        .at(-1)?.data,
    ).toMatchObject({
      reason: "blocked",
    });
    t.lock.command(t.sign("remote.unblock", { approvedBy: ["p-sec1"] }));
    t.lock.advance(5 * SECOND);
    bothCodes(t);
    expect(opened(t)).toBe(true);
  });

  it("a block ends a running delay", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    t.lock.command(t.sign("remote.block", { reason: "alarm" }));
    expect(t.lock.core.state().cycle.phase).toBe("idle");
    t.lock.advance(6 * MINUTE);
    bothCodes(t);
    expect(opened(t)).toBe(false);
  });

  it("the block survives a restart", () => {
    const t = setup();
    t.lock.command(t.sign("remote.block", { reason: "alarm" }));
    t.restart(false);
    expect(t.lock.core.state().blocked).toBe(true);
  });
});

describe("unblock is a signed fleet command only (SPEC §3 remote functions)", () => {
  function blocked(): Setup {
    const t = setup();
    expect(t.lock.command(t.sign("remote.block", { reason: "branch robbed" })).status).toBe("ok");
    return t;
  }

  it("an unblock signed with a key the lock does not trust leaves the lock blocked", () => {
    const t = blocked();
    const forger = ed25519.generateKeyPair();
    const result = t.lock.command(
      t.sign("remote.unblock", { approvedBy: ["p-sec1"] }, { secretKey: forger.secretKey }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_BAD_SIGNATURE" } });
    expect(t.lock.core.state().blocked).toBe(true);
    expect(t.kinds()).not.toContain("remote.unblocked");
  });

  it("an unblock without a signature leaves the lock blocked", () => {
    const t = blocked();
    const signed = JSON.parse(t.sign("remote.unblock", { approvedBy: ["p-sec1"] })) as {
      payload: string;
    };
    const result = t.lock.command(JSON.stringify({ payload: signed.payload }));
    expect(result.status).toBe("error");
    expect(t.lock.core.state().blocked).toBe(true);
  });

  it("an unblock that names no approver is refused: the fleet approves before it unblocks", () => {
    const t = blocked();
    const result = t.lock.command(t.sign("remote.unblock", { approvedBy: [] }));
    expect(result).toMatchObject({ status: "error", error: { code: "E_APPROVALS_REQUIRED" } });
    expect(t.lock.core.state().blocked).toBe(true);
  });

  it("an unblock captured earlier and replayed after a new block leaves the lock blocked", () => {
    const t = blocked();
    const unblock = t.sign("remote.unblock", { approvedBy: ["p-sec1"] });
    expect(t.lock.command(unblock).status).toBe("ok");
    t.lock.command(t.sign("remote.block", { reason: "again" }));
    expect(t.lock.command(unblock)).toMatchObject({ error: { code: "E_REPLAY" } });
    expect(t.lock.core.state().blocked).toBe(true);
  });

  it("nothing at the keypad lifts a block: codes of two users and a master are all refused", () => {
    const t = setup({
      factory: {
        users: [
          { ...USERS.anna },
          { ...USERS.ben },
          { slot: 99, personId: "p-master", role: "master", enabled: true, code: "86420975" },
        ],
      },
    });
    t.lock.command(t.sign("remote.block", { reason: "alarm" }));
    t.lock.press("9986420975#");
    bothCodes(t);
    expect(opened(t)).toBe(false);
    expect(t.lock.core.state().blocked).toBe(true);
  });

  it("the signed unblock is recorded with the approver who lifted the block", () => {
    const t = blocked();
    expect(t.lock.command(t.sign("remote.unblock", { approvedBy: ["p-sec1"] })).status).toBe("ok");
    expect(t.records().find((r) => r.kind === "remote.unblocked")).toMatchObject({
      actor: "p-sec1",
      data: { approvedBy: ["p-sec1"] },
    });
  });
});

describe("central release", () => {
  it("the fleet's central release counts as one authorisation for one cycle", () => {
    const t = setup();
    const result = t.lock.command(
      t.sign("remote.centralRelease", { approvedBy: ["p-sec1"], reason: "substitute" }),
    );
    expect(result.status).toBe("ok");
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(true);
    expect(t.records().find((r) => r.kind === "cycle.confirmed")?.data.persons).toEqual([
      "p-anna",
      "fleet:c-2",
    ]);
    t.lock.advance(15 * SECOND);
    t.lock.press(entry(USERS.ben));
    expect(opened(t)).toBe(false); // used up by the first cycle
  });

  it("central release is still subject to the time delay", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    t.lock.command(t.sign("remote.centralRelease", { approvedBy: ["p-sec1"], reason: "x" }));
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    expect(t.display()).toMatch(/^TIME DELAY/);
    t.lock.advance(5 * MINUTE);
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(true);
  });

  it("central release is still subject to the time lock and to a block", () => {
    const t = setup();
    t.lock.command(t.sign("remote.centralRelease", { approvedBy: ["p-sec1"], reason: "x" }));
    t.lock.command(t.sign("timeLock.immediate", { minutes: 30 }));
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    expect(t.display()).toBe("TIME LOCK | ");
  });

  it("a central release that names no approver is refused", () => {
    const t = setup();
    const result = t.lock.command(t.sign("remote.centralRelease", { approvedBy: [], reason: "x" }));
    expect(result).toMatchObject({ status: "error", error: { code: "E_APPROVALS_REQUIRED" } });
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
  });

  it("an unused central release lapses when its envelope expires", () => {
    const t = setup();
    t.lock.command(
      t.sign(
        "remote.centralRelease",
        { approvedBy: ["p-sec1"], reason: "x" },
        { expiresInMs: MINUTE },
      ),
    );
    t.lock.advance(2 * MINUTE);
    t.lock.press(entry(USERS.anna));
    expect(opened(t)).toBe(false);
    expect(t.display()).toBe("CODE 2 OF 2 | ");
  });
});

describe("remote immediate time lock", () => {
  it("locks for N minutes from now; codes are refused until it ends", () => {
    const t = setup();
    const result = t.lock.command(t.sign("timeLock.immediate", { minutes: 90 }));
    expect(result.status).toBe("ok");
    bothCodes(t);
    expect(opened(t)).toBe(false);
    expect(t.display()).toBe("TIME LOCK | ");
    t.lock.advance(90 * MINUTE);
    bothCodes(t);
    expect(opened(t)).toBe(true);
  });

  it("accepts 1 min to 144 h; outside is refused by the schema", () => {
    const t = setup();
    expect(t.lock.command(t.sign("timeLock.immediate", { minutes: 0 })).status).toBe("error");
    expect(t.lock.command(t.sign("timeLock.immediate", { minutes: 144 * 60 + 1 })).status).toBe(
      "error",
    );
    expect(t.lock.command(t.sign("timeLock.immediate", { minutes: 144 * 60 })).status).toBe("ok");
  });

  it("a shorter immediate time lock never shortens the running one", () => {
    const t = setup();
    t.lock.command(t.sign("timeLock.immediate", { minutes: 120 }));
    t.lock.command(t.sign("timeLock.immediate", { minutes: 1 }));
    t.lock.advance(60 * MINUTE);
    bothCodes(t);
    expect(opened(t)).toBe(false);
  });

  it("an immediate time lock ends a running delay", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    bothCodes(t);
    t.lock.command(t.sign("timeLock.immediate", { minutes: 10 }));
    expect(t.lock.core.state().cycle.phase).toBe("idle");
  });
});

describe("policy changes", () => {
  const weaker = { ...DEFAULT_LOCK_POLICY, dualControl: "single" as const, timeDelayMin: 0 };

  it("a change that weakens security needs two distinct approvers", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    for (const approvedBy of [[], ["p-sec1"]]) {
      const result = t.lock.command(t.sign("policy.change", { policy: weaker, approvedBy }));
      expect(result).toMatchObject({ status: "error", error: { code: "E_APPROVALS_REQUIRED" } });
    }
    expect(t.lock.core.policy.dualControl).toBe("dual");
    const result = t.lock.command(
      t.sign("policy.change", { policy: weaker, approvedBy: ["p-sec1", "p-sec2"] }),
    );
    expect(result.status).toBe("ok");
    expect(t.lock.core.policy.dualControl).toBe("single");
  });

  it("a change that strengthens security needs one approver", () => {
    const t = setup({ policy: { timeDelayMin: 5 } });
    const result = t.lock.command(
      t.sign("policy.change", {
        policy: { ...DEFAULT_LOCK_POLICY, timeDelayMin: 10, dualControl: "triple" },
        approvedBy: ["p-sec1"],
      }),
    );
    expect(result.status).toBe("ok");
  });

  it("removing a weekly time lock period needs two approvers", () => {
    const weekend = { startDay: 5, startTime: "18:00", endDay: 1, endTime: "07:00" } as const;
    const t = setup({ factory: { weekly: [weekend] } });
    const result = t.lock.command(
      t.sign("timeLock.schedule", {
        schedule: { timeZone: "Europe/Berlin", weekly: [], holidays: [] },
        approvedBy: ["p-sec1"],
      }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_APPROVALS_REQUIRED" } });
  });
});

describe("signed commands: attacks", () => {
  it("a command signed with a key the lock does not trust is refused and recorded", () => {
    const t = setup();
    const forger = ed25519.generateKeyPair();
    const result = t.lock.command(
      t.sign("remote.unblock", { approvedBy: ["p-x"] }, { secretKey: forger.secretKey }),
    );
    expect(result).toMatchObject({ status: "error", error: { code: "E_BAD_SIGNATURE" } });
    expect(t.records().at(-1)).toMatchObject({
      kind: "command.rejected",
      data: { code: "E_BAD_SIGNATURE" },
    });
  });

  it("a command naming an unknown key id is refused", () => {
    const t = setup();
    const result = t.lock.command(t.sign("remote.block", { reason: "x" }, { keyId: "fleet-9" }));
    expect(result).toMatchObject({ status: "error", error: { code: "E_UNKNOWN_KEY" } });
  });

  it("a tampered command (body changed after signing) is refused", () => {
    const t = setup();
    const envelope = t.sign("timeLock.immediate", { minutes: 5 });
    const tampered = envelope.replace('\\"minutes\\":5', '\\"minutes\\":1');
    expect(tampered).not.toBe(envelope);
    const result = t.lock.command(tampered);
    expect(result.status).toBe("error");
    expect(t.lock.core.state().timeLocked).toBe(false);
  });

  it("a replayed command (same seq) is refused", () => {
    const t = setup();
    const block = t.sign("remote.block", { reason: "x" });
    t.lock.command(block);
    t.lock.command(t.sign("remote.unblock", { approvedBy: ["p-sec1"] }));
    const result = t.lock.command(block);
    expect(result).toMatchObject({ status: "error", error: { code: "E_REPLAY" } });
    expect(t.lock.core.state().blocked).toBe(false);
  });

  it("an older command (lower seq) arriving late is refused", () => {
    const t = setup();
    const older = t.sign("remote.block", { reason: "x" }, { seq: 50 });
    t.lock.command(t.sign("remote.unblock", { approvedBy: ["p-1"] }, { seq: 60 }));
    expect(t.lock.command(older)).toMatchObject({ error: { code: "E_REPLAY" } });
  });

  it("the last accepted seq survives a restart: a replay after a power cut is refused", () => {
    const t = setup();
    const block = t.sign("remote.block", { reason: "x" });
    t.lock.command(block);
    t.restart(false);
    expect(t.lock.command(block)).toMatchObject({ error: { code: "E_REPLAY" } });
  });

  it("an expired command is refused", () => {
    const t = setup();
    const block = t.sign("remote.block", { reason: "x" }, { expiresInMs: MINUTE });
    t.lock.advance(5 * MINUTE);
    expect(t.lock.command(block)).toMatchObject({ error: { code: "E_EXPIRED" } });
    expect(t.lock.core.state().blocked).toBe(false);
  });

  it("a command for another lock is refused", () => {
    const t = setup();
    const result = t.lock.command(t.sign("remote.block", { reason: "x" }, { deviceId: "safe-2" }));
    expect(result).toMatchObject({ error: { code: "E_WRONG_DEVICE" } });
  });

  it("a rejected command does not consume its seq", () => {
    const t = setup();
    const forger = ed25519.generateKeyPair();
    t.lock.command(
      t.sign("remote.block", { reason: "x" }, { seq: 100, secretKey: forger.secretKey }),
    );
    const result = t.lock.command(t.sign("remote.block", { reason: "y" }, { seq: 100 }));
    expect(result.status).toBe("ok");
  });

  it("a fleet key rotation is signed by a trusted key; the retired key is no longer accepted", () => {
    const t = setup();
    const next = ed25519.generateKeyPair();
    const result = t.lock.command(
      t.sign("fleetKey.install", {
        keyId: "fleet-2",
        publicKey: toBase64url(next.publicKey),
        retire: "fleet-1",
      }),
    );
    expect(result.status).toBe("ok");
    expect(t.lock.command(t.sign("remote.block", { reason: "x" }))).toMatchObject({
      error: { code: "E_UNKNOWN_KEY" },
    });
    expect(
      t.lock.command(
        t.sign("remote.block", { reason: "x" }, { keyId: "fleet-2", secretKey: next.secretKey }),
      ).status,
    ).toBe("ok");
  });
});
