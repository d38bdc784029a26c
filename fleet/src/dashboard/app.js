// @ts-check
// The lockfleet dashboard: bank security teams see their locks live, the alarm inbox,
// approvals, people and rights, the audit timeline and reports; CIT dispatchers see their
// contracts, their containers and their window requests. Each view is a module of its own;
// this one logs in and out, draws the header and routes between views (`#view` in the URL).
import { ApiError, api, errorText } from "./api.js";
import { $, h } from "./dom.js";
import { currentLanguage, setLanguage, t } from "./i18n.js";
import { startLive } from "./live.js";
import { loadAlarms, loadLocks, me, store, viewArea } from "./state.js";
import { setZoneMode, viewerZone, zoneMode } from "./time.js";
import { alertIfNeeded, renderAlarms } from "./view-alarms.js";
import { approvals } from "./view-approvals.js";
import { audit } from "./view-audit.js";
import { contracts } from "./view-contracts.js";
import { showLockDetail } from "./view-lock.js";
import { renderLocks } from "./view-locks.js";
import { people } from "./view-people.js";
import { reports } from "./view-reports.js";
import { requests } from "./view-requests.js";
import { risk } from "./view-risk.js";
import { setup } from "./view-setup.js";
import { updates } from "./view-updates.js";
import { roleWords } from "./words.js";

/** @type {Array<[string, string]>} */
const BANK_VIEWS = [
  ["locks", "Locks"],
  ["alarms", "Alarms"],
  ["approvals", "Approvals"],
  ["people", "People"],
  ["audit", "Audit"],
  ["reports", "Reports"],
];
/** @type {Record<string, Array<[string, string]>>} */
const EXTRA_VIEWS = {
  securityAdmin: [
    ["risk", "Risk"],
    ["setup", "Setup"],
    ["updates", "Updates"],
  ],
  auditor: [
    ["risk", "Risk"],
    ["setup", "Setup"],
    ["updates", "Updates"],
  ],
  branchManager: [["setup", "Setup"]],
};
/** @type {Array<[string, string]>} */
const CIT_VIEWS = [
  ["containers", "Containers"],
  ["contracts", "Contracts"],
  ["requests", "Requests"],
];

/** @param {string} deviceId */
function openDetail(deviceId) {
  location.hash = `lock/${deviceId}`;
}

/** @type {Record<string, () => Promise<unknown>>} */
const VIEWS = {
  locks: async () => {
    await loadLocks();
    renderLocks(openDetail);
  },
  // a CIT company sees its containers' state; a lock's detail page is the bank's
  containers: async () => {
    await loadLocks();
    renderLocks();
  },
  alarms: async () => {
    await loadAlarms();
    await renderAlarms();
  },
  approvals,
  requests,
  contracts,
  people: () => people(),
  audit,
  reports,
  risk,
  setup,
  updates,
};

function views() {
  const { orgKind, role } = me().principal;
  return orgKind === "bank" ? [...BANK_VIEWS, ...(EXTRA_VIEWS[role] ?? [])] : CIT_VIEWS;
}

/** @param {string} name a view, or `lock/<deviceId>` */
async function show(name) {
  store.view = name;
  const section = name.startsWith("lock/") ? "locks" : name;
  for (const button of $("nav").querySelectorAll("button")) {
    if (button instanceof HTMLElement && button.dataset.view === section)
      button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  // busy while the view loads: screen readers wait, and so can anyone scripting the page
  viewArea().setAttribute("aria-busy", "true");
  try {
    if (name.startsWith("lock/")) await showLockDetail(name.slice(5));
    else await (VIEWS[name] ?? VIEWS[views()[0]?.[0] ?? "locks"])?.();
  } catch (error) {
    viewArea().replaceChildren(h("p", { class: "error" }, errorText(error)));
  } finally {
    if (store.view === name) {
      viewArea().dataset.shown = name;
      viewArea().setAttribute("aria-busy", "false");
      // chosen from the sections: keyboard and screen-reader users land on the new heading
      if (focusHeading) focusViewHeading();
    } else if (store.view && viewArea().getAttribute("aria-busy") === "false") {
      // This draw (e.g. a live redraw) finished after the view opened since, and covered it:
      // draw that view again.
      void show(store.view);
    }
  }
}

/** Set when a person picks a section; the next drawn view then takes the focus. */
let focusHeading = false;

function focusViewHeading() {
  focusHeading = false;
  const heading = viewArea().querySelector("h1");
  if (!(heading instanceof HTMLElement)) return;
  heading.tabIndex = -1;
  heading.focus();
}

function route() {
  if (store.me === null) return;
  const wanted = decodeURIComponent(location.hash.slice(1));
  const allowed = views().map(([name]) => name);
  // an empty bank starts where it is set up (the first-run guide)
  const first =
    allowed.includes("setup") && me().principal.role === "securityAdmin" && store.devices.size === 0
      ? "setup"
      : (allowed[0] ?? "locks");
  const name =
    allowed.includes(wanted) || (wanted.startsWith("lock/") && allowed.includes("locks"))
      ? wanted
      : first;
  return show(name);
}

/** Language and time-zone switches in the header, remembered in this browser. */
function drawSettings() {
  const language = h(
    "select",
    { id: "language", "aria-label": t("Language") },
    h("option", { value: "de" }, "Deutsch"),
    h("option", { value: "en" }, "English"),
  );
  language.value = currentLanguage();
  language.addEventListener("change", () => {
    setLanguage(language.value === "de" ? "de" : "en");
    redrawShell();
  });
  const zone = h(
    "select",
    { id: "time-zone", "aria-label": t("Times shown in") },
    h("option", { value: "container" }, t("Times: the lock's zone")),
    h("option", { value: "viewer" }, t("Times: my zone ({zone})", { zone: viewerZone() })),
  );
  zone.value = zoneMode();
  zone.addEventListener("change", () => {
    setZoneMode(zone.value === "viewer" ? "viewer" : "container");
    if (store.view) show(store.view);
  });
  $("settings").replaceChildren(language, zone);
}

/** Every text of the shell in the current language. */
function redrawShell() {
  document.documentElement.lang = currentLanguage();
  for (const element of document.querySelectorAll("[data-t]")) {
    if (element instanceof HTMLElement) element.textContent = t(element.dataset.t ?? "");
  }
  for (const element of document.querySelectorAll("[data-t-label]")) {
    if (element instanceof HTMLElement)
      element.setAttribute("aria-label", t(element.dataset.tLabel ?? ""));
  }
  drawSettings();
  if (store.me !== null) {
    drawNav();
    const { principal, personName, orgName } = store.me;
    $("who").textContent = `${personName} · ${orgName} · ${roleWords(principal.role)}`;
    if (store.view) show(store.view);
  }
}

/**
 * Opens a view; the one already open is drawn again (a click on it reloads what it shows).
 * @param {string} name
 */
function navigate(name) {
  focusHeading = true;
  if (location.hash === `#${name}`) void show(name);
  else location.hash = name;
}

function drawNav() {
  const nav = $("nav");
  nav.replaceChildren(
    ...views().map(([name, label]) =>
      h(
        "button",
        { type: "button", dataset: { view: name }, onclick: () => navigate(name) },
        t(label),
        name === "alarms" ? h("span", { id: "alarm-count", class: "badge", hidden: true }) : null,
      ),
    ),
  );
  nav.hidden = false;
}

// --- log in and out ---

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const email = /** @type {HTMLInputElement} */ (form.elements.namedItem("email"));
  const password = /** @type {HTMLInputElement} */ (form.elements.namedItem("password"));
  $("login-error").textContent = "";
  try {
    await api("/auth/login", {
      method: "POST",
      body: { email: email.value, password: password.value },
    });
    form.reset();
    await start();
  } catch (error) {
    $("login-error").textContent = errorText(error);
  }
});

$("logout").addEventListener("click", async () => {
  await api("/auth/logout", { method: "POST" }).catch(() => undefined);
  store.disconnect?.();
  location.hash = "";
  location.reload();
});

async function start() {
  try {
    store.me = await api("/auth/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin();
    throw error;
  }
  const { principal, personName, orgName } = me();
  $("login-view").hidden = true;
  $("view").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${personName} · ${orgName} · ${roleWords(principal.role)}`;
  // Until a second independent officer exists, nobody can check anybody: say so on every page.
  $("no-dual-control").hidden = store.me?.dualControl !== false;
  drawNav();
  await loadLocks();
  if (principal.orgKind === "bank") {
    await loadAlarms();
    alertIfNeeded();
  }
  startLive({ show, openDetail });
  window.addEventListener("hashchange", () => route());
  await route();
}

function showLogin() {
  $("login-view").hidden = false;
  $("view").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
}

redrawShell();
start().catch((error) => {
  $("login-error").textContent = errorText(error);
  showLogin();
});
