// @ts-check
// One lock in detail: where it is, its state now and its recent state history, the last
// self-test, firmware, hardware profile, last seen, open alarms and the recent audit in words
// (the bookkeeping between lock and fleet folded away).
import { api, errorText } from "./api.js";
import { h, table } from "./dom.js";
import { t } from "./i18n.js";
import { branchOf, containerName, personNames, role, store, viewArea, zoneOf } from "./state.js";
import { when } from "./time.js";
import { alarmSentence } from "./view-alarms.js";
import { auditTable, lockAudit } from "./view-audit.js";
import { centralReleaseCard } from "./view-central-release.js";
import { sinceOf, statePill } from "./view-locks.js";
import { auditWords, BOOKKEEPING_KINDS, detailWords } from "./words.js";

/** Audit kinds that change what the lock is doing (its state history). */
const STATE_KINDS = [
  "cycle.started",
  "cycle.delayStarted",
  "cycle.windowOpened",
  "cycle.confirmed",
  "cycle.cancelled",
  "cycle.expired",
  "bolt.retracted",
  "bolt.thrown",
  "door.opened",
  "door.closed",
  "lock.relocked",
  "remote.blocked",
  "remote.unblocked",
  "timeLock.immediate",
  "penalty.started",
  "penalty.ended",
  "alarm.raised",
  "alarm.cleared",
];

/** @param {string} deviceId */
export async function lockDetail(deviceId) {
  const [device, records, names] = await Promise.all([
    api(`/devices/${encodeURIComponent(deviceId)}`),
    lockAudit(deviceId).catch(() => []),
    personNames(),
  ]);
  const lock = { ...device, ...store.devices.get(deviceId) };
  const zone = zoneOf(lock.containerId);
  const branch = branchOf(lock.containerId);
  const newestFirst = records.slice().reverse();
  const selfTest = newestFirst.find((r) => r.kind === "selfTest.completed");
  const history = newestFirst.filter((r) => STATE_KINDS.includes(r.kind)).slice(0, 20);
  const recent = newestFirst.filter((r) => !BOOKKEEPING_KINDS.includes(r.kind)).slice(0, 50);
  const folded = newestFirst.slice(0, 200).filter((r) => BOOKKEEPING_KINDS.includes(r.kind)).length;
  const alarms = store.alarms.filter((a) => a.deviceId === deviceId && a.status === "open");
  /** @type {Array<[string, import("./dom.js").Child]>} */
  const facts = [
    [t("Branch"), [branch?.name ?? "", branch?.address ? ` · ${branch.address}` : ""]],
    [t("Container"), containerName(lock.containerId)],
    [t("State"), [statePill(lock), " ", t("since {when}", { when: when(sinceOf(lock), zone) })]],
    [t("Last seen"), when(lock.state?.at ?? lock.availabilityAt, zone)],
    [t("Connection"), t(lock.availability ?? "unknown")],
    [t("Firmware"), lock.state?.firmware ?? lock.firmware ?? ""],
    [t("Hardware profile"), lock.state?.hardwareProfile ?? lock.hardwareProfile ?? ""],
    [t("Enrolled"), when(lock.enrolledAt, zone)],
    [
      t("Last self-test"),
      selfTest
        ? `${when(selfTest.at, zone)} · ${detailWords(/** @type {Record<string, unknown>} */ (selfTest.data), (id) => names.name(id))}`
        : t("none recorded"),
    ],
    [t("Time zone"), zone ?? ""],
  ];
  // the bank's officers and its internal audit see (and officers ask for) central releases
  const release = ["securityAdmin", "branchManager", "auditor"].includes(role())
    ? await centralReleaseCard(lock, zone, names.name)
    : null;
  viewArea().replaceChildren(
    h(
      "section",
      { class: "card", id: "lock-detail", dataset: { deviceId } },
      h("p", {}, h("a", { href: "#locks" }, `← ${t("All locks")}`)),
      h("h1", {}, `${containerName(lock.containerId)} · ${deviceId}`),
      h(
        "dl",
        { class: "facts" },
        facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
      ),
      alarms.length
        ? h(
            "ul",
            { class: "alarms" },
            alarms.map((a) =>
              h(
                "li",
                { dataset: { priority: a.priority, kind: a.kind } },
                alarmSentence(a, names.name),
              ),
            ),
          )
        : null,
    ),
    release ?? "",
    h(
      "section",
      { class: "card", id: "lock-history" },
      h("h2", {}, t("State history")),
      table(
        [
          { label: t("When"), render: (r) => when(r.at, zone) },
          { label: t("What"), render: (r) => auditWords(r.kind) },
          { label: t("Person"), render: (r) => names.name(r.actor) },
        ],
        history,
      ),
    ),
    h(
      "section",
      { class: "card", id: "lock-recent-audit" },
      h("h2", {}, t("Recent audit")),
      auditTable(recent, names.name, zone),
      folded
        ? h(
            "p",
            { class: "muted" },
            t("{n} acknowledgements and checkpoints between lock and fleet are folded away.", {
              n: folded,
            }),
          )
        : null,
    ),
  );
}

/** @param {string} deviceId */
export async function showLockDetail(deviceId) {
  try {
    await lockDetail(deviceId);
  } catch (error) {
    viewArea().replaceChildren(h("p", { class: "error" }, errorText(error)));
  }
}
