/**
 * The hardware self-test (SPEC §6): each part of the profile is exercised as far as that is
 * safe on a closed safe and reported as ok, fault or notFitted.
 *
 * Two things a self-test never does: retract the bolt of a closed door (it would open the
 * safe), and pulse the silent alarm (it would alert the alarm receiving centre). With the door
 * open the bolt runs a full retract/throw cycle; with the door closed it is driven to thrown
 * and must be confirmed there.
 */
import { type HardwareProfile, PART_NAMES, type PartName } from "@lockfleet/hardware-profiles";
import type { SelfTestReport } from "@lockfleet/protocol";
import type { Bolt } from "./bolt.js";
import type { CharacterDisplay } from "./display.js";
import type { SwitchInput } from "./inputs.js";
import type { IoPlugin } from "./johnny-five.js";
import type { KeypadDriver } from "./keypad.js";
import type { SilentAlarmOutput } from "./silent-alarm.js";
import type { Sounder } from "./sounder.js";

export type PartResult = SelfTestReport["parts"][number];

export interface SelfTestParts {
  profile: HardwareProfile;
  io: IoPlugin & { pins?: ReadonlyArray<{ value?: number } | undefined> };
  bolt: Bolt;
  doorContact: SwitchInput | undefined;
  tamperSwitch: SwitchInput | undefined;
  powerFail: SwitchInput | undefined;
  keypad: KeypadDriver | undefined;
  display: CharacterDisplay | undefined;
  sounder: Sounder | undefined;
  silentAlarm: SilentAlarmOutput | undefined;
}

/** How long an I2C part may take to answer a read. */
const I2C_ANSWER_MS = 500;

function ok(part: PartName, detail?: string): PartResult {
  return detail === undefined ? { part, result: "ok" } : { part, result: "ok", detail };
}
function fault(part: PartName, detail: string): PartResult {
  return { part, result: "fault", detail };
}

/** The level an output pin holds, as the IO plugin records it; undefined where it keeps none. */
function outputLevel(parts: SelfTestParts, pin: number): number | undefined {
  const value = parts.io.pins?.[pin]?.value;
  return typeof value === "number" ? value : undefined;
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function testBolt(parts: SelfTestParts): Promise<[PartResult, PartResult]> {
  const { bolt, doorContact } = parts;
  const timeout = parts.profile.timings.boltSensorTimeoutMs;
  if (bolt.position === "unknown")
    return [
      fault("boltActuator", "not driven: the bolt sensor gives no reading"),
      fault("boltSensor", "no reading from the bolt sensor"),
    ];
  if (bolt.expected === "retracted") {
    // The lock is released (a cycle completed): the self-test leaves the bolt where it is.
    return bolt.position === "retracted"
      ? [
          ok("boltActuator", "holds the bolt retracted (lock released); not driven"),
          ok("boltSensor", "reads retracted"),
        ]
      : [
          fault("boltActuator", "driven to retracted, but the bolt reads thrown"),
          fault("boltSensor", "reads thrown while the actuator holds the bolt retracted"),
        ];
  }
  const doorOpen = doorContact?.active === false;
  const steps: Array<"retracted" | "thrown"> = doorOpen ? ["retracted", "thrown"] : ["thrown"];
  for (const step of steps) {
    const confirmed = await bolt.driveAndConfirm(step);
    if (!confirmed) {
      if (step === "retracted") bolt.drive("thrown");
      const why = `the bolt did not reach ${step} within ${timeout} ms (jammed bolt, actuator or sensor fault)`;
      return [fault("boltActuator", why), fault("boltSensor", `did not confirm ${step}: ${why}`)];
    }
  }
  return doorOpen
    ? [
        ok("boltActuator", "retracted and threw with the door open"),
        ok("boltSensor", "confirmed retracted and thrown"),
      ]
    : [
        ok("boltActuator", "driven to thrown (door closed: retract not exercised)"),
        ok("boltSensor", "confirms thrown"),
      ];
}

function testInput(
  part: PartName,
  input: SwitchInput | undefined,
  activeMeans: string,
  inactiveMeans: string,
  inactiveIsFault: boolean,
): PartResult {
  if (input === undefined) return { part, result: "notFitted" };
  const active = input.active;
  if (active === undefined) return fault(part, "no reading from the input");
  if (active) return ok(part, activeMeans);
  return inactiveIsFault ? fault(part, inactiveMeans) : ok(part, inactiveMeans);
}

async function testKeypad(parts: SelfTestParts): Promise<PartResult> {
  const { keypad } = parts;
  const fitted = parts.profile.parts.keypad;
  if (keypad === undefined || fitted === undefined) return { part: "keypad", result: "notFitted" };
  const scan = await keypad.keysDown(I2C_ANSWER_MS);
  if (!scan.answered)
    return fault(
      "keypad",
      fitted.kind === "i2cMatrix"
        ? `no answer from the keypad backpack at I2C address 0x${fitted.address.toString(16)}`
        : "the key matrix scan did not complete",
    );
  if (scan.keys.length > 0)
    return fault(
      "keypad",
      `${scan.keys.length} key(s) read pressed with nobody at the lock: stuck key or short`,
    );
  return ok("keypad", "no key reads pressed");
}

async function testDisplay(parts: SelfTestParts): Promise<PartResult> {
  const { display } = parts;
  const fitted = parts.profile.parts.display;
  if (display === undefined || fitted === undefined)
    return { part: "display", result: "notFitted" };
  const before = [...display.lines];
  display.show(["*".repeat(fitted.cols), "SELF TEST"]);
  const answered = await display.answers(I2C_ANSWER_MS);
  display.show(before);
  if (!answered)
    return fault(
      "display",
      `no answer from the LCD backpack at I2C address 0x${fitted.address.toString(16)}`,
    );
  return ok("display", "backpack answers; test pattern shown");
}

async function testSounder(parts: SelfTestParts): Promise<PartResult> {
  const { sounder } = parts;
  if (sounder === undefined) return { part: "buzzer", result: "notFitted" };
  sounder.play("key");
  const level = outputLevel(parts, sounder.pin);
  await wait(60);
  if (level === 0)
    return fault("buzzer", `pin ${sounder.pin} does not take the level the buzzer is driven with`);
  return ok(
    "buzzer",
    level === undefined ? "beeped (the pin level cannot be read back here)" : "beeped",
  );
}

function testSilentAlarm(parts: SelfTestParts): PartResult {
  const { silentAlarm } = parts;
  const fitted = parts.profile.parts.silentAlarmRelay;
  if (silentAlarm === undefined || fitted === undefined)
    return { part: "silentAlarmRelay", result: "notFitted" };
  if (silentAlarm.closed)
    return ok("silentAlarmRelay", "pulse under way; not pulsed by the self-test");
  const idle = fitted.activeLow ? 1 : 0;
  const level = outputLevel(parts, silentAlarm.pin);
  if (level !== undefined && level !== idle)
    return fault("silentAlarmRelay", `pin ${silentAlarm.pin} does not hold the relay's idle level`);
  return ok(
    "silentAlarmRelay",
    "idle; not pulsed by a self-test (it would alert the alarm receiving centre)",
  );
}

/** A part whose test throws (an I2C read failing with EIO on raspi-io) is a fault of that part. */
async function guarded(
  part: PartName,
  test: () => PartResult | Promise<PartResult>,
): Promise<PartResult> {
  try {
    return await test();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fault(part, message.slice(0, 200));
  }
}

export async function runSelfTest(
  parts: SelfTestParts,
  deviceId: string,
  at: string,
): Promise<SelfTestReport> {
  const results = new Map<PartName, PartResult>();
  let bolt: [PartResult, PartResult];
  try {
    bolt = await testBolt(parts);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    bolt = [fault("boltActuator", message.slice(0, 200)), fault("boltSensor", "not tested")];
  }
  results.set("boltActuator", bolt[0]);
  results.set("boltSensor", bolt[1]);
  results.set(
    "doorContact",
    testInput("doorContact", parts.doorContact, "reads closed", "reads open", false),
  );
  results.set(
    "tamperSwitch",
    testInput(
      "tamperSwitch",
      parts.tamperSwitch,
      "housing closed",
      "housing open (tamper loop broken)",
      true,
    ),
  );
  results.set(
    "powerFail",
    testInput("powerFail", parts.powerFail, "power good", "mains failed", true),
  );
  results.set("keypad", await guarded("keypad", () => testKeypad(parts)));
  results.set("display", await guarded("display", () => testDisplay(parts)));
  results.set("buzzer", await guarded("buzzer", () => testSounder(parts)));
  results.set("silentAlarmRelay", await guarded("silentAlarmRelay", () => testSilentAlarm(parts)));
  return {
    deviceId,
    at,
    hardwareProfile: parts.profile.id,
    parts: PART_NAMES.map((part) => results.get(part) ?? { part, result: "notFitted" }),
  };
}
