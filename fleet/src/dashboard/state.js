// @ts-check
// What every view shares: who is logged in, the containers, branches and locks in scope, the
// alarm inbox, and the names behind ids. Live events (live.js) keep it current.
import { allPages, api, errorText, optional } from "./api.js";
import { $, toast } from "./dom.js";
import { t } from "./i18n.js";
import { setHomeZone } from "./time.js";

/** @typedef {import("./types.js").Me} Me */
/** @typedef {import("./types.js").Container} Container */
/** @typedef {import("./types.js").Branch} Branch */
/** @typedef {import("./types.js").Device} Device */
/** @typedef {import("./types.js").FleetAlarm} FleetAlarm */

export const store = {
  /** @type {Me | null} */
  me: null,
  /** @type {string | null} */
  view: null,
  /** @type {Map<string, Device>} */
  devices: new Map(),
  /** @type {Container[]} */
  containers: [],
  /** @type {Map<string, Branch>} */
  branches: new Map(),
  /** @type {FleetAlarm[]} */
  alarms: [],
  /** @type {Map<string, string>} */
  ackDrafts: new Map(),
  /** @type {(() => void) | null} */
  disconnect: null,
};

/** The logged-in account; views are shown only after log-in. */
export function me() {
  if (store.me === null) throw new Error("not logged in");
  return store.me;
}

export function role() {
  return me().principal.role;
}

export async function loadLocks() {
  const [containers, branches, devices] = await Promise.all([
    allPages("/containers"),
    optional(() => allPages("/branches")),
    optional(() => api("/devices").then((page) => page.items)),
  ]);
  store.containers = /** @type {Container[]} */ (containers);
  store.branches = new Map(/** @type {Branch[]} */ (branches).map((branch) => [branch.id, branch]));
  store.devices = new Map(/** @type {Device[]} */ (devices).map((d) => [d.deviceId, d]));
  setHomeZone([...store.branches.values()][0]?.timeZone);
}

/** @param {string | null | undefined} id */
export function containerOf(id) {
  return store.containers.find((c) => c.id === id);
}

/** @param {string | null | undefined} id */
export function containerName(id) {
  return containerOf(id)?.name ?? id ?? "";
}

/** @param {string | null | undefined} containerId */
export function branchOf(containerId) {
  const container = containerOf(containerId);
  return container ? store.branches.get(container.branchId) : undefined;
}

/**
 * The time zone of a container's branch (null when unknown: the bank's zone is used).
 * @param {string | null | undefined} containerId
 */
export function zoneOf(containerId) {
  return branchOf(containerId)?.timeZone ?? null;
}

/** @param {string} containerId */
export function locksOf(containerId) {
  return [...store.devices.values()].filter((lock) => lock.containerId === containerId);
}

/** @param {string} deviceId */
export function openAlarmsOf(deviceId) {
  return store.alarms.filter((alarm) => alarm.deviceId === deviceId && alarm.status === "open")
    .length;
}

export async function loadAlarms() {
  // roles without alarm access (technician, CIT crew) see an empty inbox
  const [open, acknowledged] = await Promise.all([
    optional(() => allPages("/alarms?status=open")),
    optional(() => allPages(`/alarms?status=acknowledged&from=${recentlyIso()}`, 500)),
  ]);
  store.alarms = /** @type {FleetAlarm[]} */ ([...open, ...acknowledged]);
  const count = document.getElementById("alarm-count");
  if (count) {
    count.textContent = String(open.length);
    count.hidden = open.length === 0;
  }
}

/** A week back: the acknowledged alarms the inbox still shows. */
function recentlyIso() {
  return new Date(Date.now() - 7 * 24 * 3600 * 1000).toISOString();
}

/**
 * Names of the people this account may see (its organisation's, and the crews of its windows),
 * so that records read "Anna Weber" rather than a person id; unknown ids stay as they are.
 * @returns {Promise<{ name: (id: string | null | undefined) => string, people: Array<{ id: string, name: string }> }>}
 */
export async function personNames() {
  const [people, windows] = await Promise.all([
    optional(() => allPages("/people")),
    optional(() => allPages("/windows", 500)),
  ]);
  /** @type {Map<string, string>} */
  const names = new Map(
    /** @type {import("./types.js").Person[]} */ (people).map((p) => [p.id, p.name]),
  );
  for (const w of /** @type {import("./types.js").Window[]} */ (windows)) {
    w.crew.forEach((id, i) => {
      const crewName = w.crewNames[i];
      if (crewName && !names.has(id)) names.set(id, crewName);
    });
  }
  return {
    name: (id) => {
      if (!id) return "";
      if (id === "system") return t("the fleet");
      return names.get(id) ?? id;
    },
    people: [...names].map(([id, name]) => ({ id, name })),
  };
}

/** The page area views draw into. */
export function viewArea() {
  return $("view");
}

/**
 * Runs a change against the fleet, tells the outcome, then redraws the view.
 * @param {() => Promise<unknown>} action
 * @param {string | ((result: any) => string)} done the toast on success
 * @param {() => Promise<unknown> | unknown} redraw
 */
export function change(action, done, redraw) {
  /** @param {Event} [event] */
  return async (event) => {
    event?.preventDefault?.();
    try {
      const result = await action();
      toast(typeof done === "function" ? done(result) : done);
      await redraw();
    } catch (error) {
      toast(errorText(error));
    }
  };
}
