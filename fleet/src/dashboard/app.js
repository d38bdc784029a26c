// The lockfleet dashboard: bank security teams see their locks live, the alarm inbox,
// approvals, people and rights, the audit timeline and reports; CIT dispatchers see their
// contracts, their containers and their window requests.
import { ApiError, allPages, api, connectLive, optional } from "./api.js";
import { h, table, toast, when } from "./dom.js";
import { countdown, lockStatus } from "./lock-state.js";

const BANK_VIEWS = [
  ["locks", "Locks"],
  ["alarms", "Alarms"],
  ["approvals", "Approvals"],
  ["people", "People"],
  ["audit", "Audit"],
  ["reports", "Reports"],
];
const CIT_VIEWS = [
  ["containers", "Containers"],
  ["contracts", "Contracts"],
  ["requests", "Requests"],
];
const ALARM_RANK = { forcedUser: 0, critical: 1, high: 2, medium: 3, low: 4 };

const store = {
  me: null,
  view: null,
  devices: new Map(),
  containers: [],
  branches: new Map(),
  alarms: [],
  ackDrafts: new Map(),
  disconnect: null,
};

const $ = (id) => document.getElementById(id);

// --- log in and out ---

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  $("login-error").textContent = "";
  try {
    await api("/auth/login", {
      method: "POST",
      body: { email: form.elements.email.value, password: form.elements.password.value },
    });
    form.reset();
    await start();
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  await api("/auth/logout", { method: "POST" }).catch(() => undefined);
  store.disconnect?.();
  location.reload();
});

async function start() {
  try {
    store.me = await api("/auth/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showLogin();
    throw error;
  }
  const { principal, personName, orgName } = store.me;
  $("login-view").hidden = true;
  $("view").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${personName} · ${orgName} · ${principal.role}`;
  // until a second independent officer exists, nobody can check anybody: say so on every page
  $("no-dual-control").hidden = store.me.dualControl !== false;
  const views = principal.orgKind === "bank" ? BANK_VIEWS : CIT_VIEWS;
  const nav = $("nav");
  nav.replaceChildren(
    ...views.map(([name, label]) =>
      h(
        "button",
        { type: "button", dataset: { view: name }, onclick: () => show(name) },
        label,
        name === "alarms" ? h("span", { id: "alarm-count", class: "badge", hidden: true }) : null,
      ),
    ),
  );
  nav.hidden = false;
  await loadLocks();
  if (principal.orgKind === "bank") await loadAlarms();
  store.disconnect = connectLive(
    {
      state: onState,
      availability: onAvailability,
      alarm: onAlarm,
      window: onWindow,
    },
    (up) => {
      $("live").hidden = false;
      $("live").classList.toggle("down", !up);
      $("live").textContent = up ? "live" : "reconnecting";
    },
  );
  await show(views[0][0]);
}

function showLogin() {
  $("login-view").hidden = false;
  $("view").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
}

async function show(name) {
  store.view = name;
  for (const button of $("nav").querySelectorAll("button")) {
    if (button.dataset.view === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  try {
    await VIEWS[name]();
  } catch (error) {
    $("view").replaceChildren(h("p", { class: "error" }, error.message));
  }
}

// --- live updates ---

function onState({ deviceId, containerId, state }) {
  const lock = store.devices.get(deviceId) ?? { deviceId, containerId, availability: "online" };
  store.devices.set(deviceId, { ...lock, containerId: lock.containerId ?? containerId, state });
  refreshLockRow(deviceId);
}

function onAvailability({ deviceId, containerId, status }) {
  const lock = store.devices.get(deviceId) ?? { deviceId, containerId, state: null };
  store.devices.set(deviceId, { ...lock, availability: status });
  refreshLockRow(deviceId);
}

async function onAlarm({ change, alarm }) {
  if (change === "raised") toast(`Alarm ${alarm.kind} on ${alarm.deviceId}`);
  try {
    await loadAlarms();
  } catch (error) {
    toast(error.message);
    return;
  }
  refreshLockRow(alarm.deviceId);
  if (store.view === "alarms") renderAlarms();
}

function onWindow(event) {
  if (store.view === "approvals" || store.view === "requests") show(store.view);
  else if (event.type === "window.requested") toast("A window request is waiting for approval");
}

// --- locks ---

async function loadLocks() {
  const [containers, branches, devices] = await Promise.all([
    allPages("/containers"),
    optional(() => allPages("/branches")),
    optional(() => api("/devices").then((page) => page.items)),
  ]);
  store.containers = containers;
  store.branches = new Map(branches.map((branch) => [branch.id, branch]));
  store.devices = new Map(devices.map((device) => [device.deviceId, device]));
}

function locksOf(containerId) {
  return [...store.devices.values()].filter((lock) => lock.containerId === containerId);
}

function openAlarmsOf(deviceId) {
  return store.alarms.filter((alarm) => alarm.deviceId === deviceId && alarm.status === "open")
    .length;
}

function statePill(lock) {
  const status = lockStatus(lock, lock ? openAlarmsOf(lock.deviceId) : 0);
  return h(
    "span",
    { class: "lock-state", dataset: { state: status.state } },
    status.label,
    status.endsAt
      ? [
          " ",
          h(
            "span",
            { class: "countdown", dataset: { endsAt: status.endsAt } },
            countdown(status.endsAt),
          ),
        ]
      : null,
  );
}

function lockRows() {
  const rows = [];
  for (const container of store.containers) {
    const locks = locksOf(container.id);
    if (locks.length === 0) rows.push({ container, lock: null });
    for (const lock of locks) rows.push({ container, lock });
  }
  return rows;
}

function renderLocks(title) {
  const role = store.me.principal.role;
  const mayManage = ["securityAdmin", "branchManager"].includes(role);
  const panel = h("section", { class: "card", id: "lock-panel", hidden: true });
  const grouped = table(
    [
      { label: "Branch", render: (r) => store.branches.get(r.container.branchId)?.name ?? "" },
      { label: "Container", render: (r) => `${r.container.name} (${r.container.type})` },
      { label: "Lock", render: (r) => r.lock?.deviceId ?? "—" },
      { label: "State", render: (r) => statePill(r.lock) },
      { label: "Since", render: (r) => when(r.lock?.state?.at) },
      ...(mayManage
        ? [
            {
              label: "",
              render: (r) =>
                h(
                  "button",
                  {
                    type: "button",
                    class: "secondary",
                    dataset: { manage: r.container.id },
                    onclick: () => showLockPanel(panel, r.container, r.lock),
                  },
                  "Manage",
                ),
            },
          ]
        : []),
    ],
    lockRows(),
    (r) => ({ dataset: { containerId: r.container.id, deviceId: r.lock?.deviceId } }),
  );
  $("view").replaceChildren(h("section", { class: "card" }, h("h1", {}, title), grouped), panel);
}

/**
 * Remote functions on a container's lock (block, unblock, immediate time lock, time sync,
 * self-test — each a signed command the lock answers) and, for the security admin, a one-time
 * enrolment token for a technician to provision a lock into the container.
 */
function showLockPanel(panel, container, lock) {
  const role = store.me.principal.role;
  const answer = h("p", { class: "muted", id: "command-answer", role: "status" });
  const send = (body, what) => async (event) => {
    event?.preventDefault?.();
    answer.textContent = `${what}: sending…`;
    try {
      const sent = await api(`/devices/${encodeURIComponent(lock.deviceId)}/commands`, {
        method: "POST",
        body: { ...body, waitMs: 5000 },
      });
      answer.textContent =
        sent.status === "ok"
          ? `${what}: done, the lock confirmed`
          : sent.status === "sent"
            ? `${what}: sent; the lock has not answered yet`
            : `${what}: refused by the lock — ${sent.result?.error?.code ?? ""} ${sent.result?.error?.message ?? ""}`;
    } catch (error) {
      answer.textContent = `${what}: ${error.code ?? "E_HTTP"}: ${error.message}`;
    }
  };
  const reason = h("input", { name: "reason", maxlength: 200, placeholder: "reason" });
  const minutes = h("input", { name: "minutes", type: "number", min: 1, max: 8640, value: 60 });
  const block = h(
    "form",
    { class: "inline", id: "lock-block" },
    h("label", {}, "Block ", reason),
    h("button", { type: "submit" }, "Block"),
  );
  block.addEventListener("submit", (event) =>
    send(
      { type: "remote.block", reason: reason.value || "blocked from the dashboard" },
      "Block",
    )(event),
  );
  const timeLock = h(
    "form",
    { class: "inline", id: "lock-time-lock" },
    h("label", {}, "Immediate time lock (min) ", minutes),
    h("button", { type: "submit" }, "Time-lock now"),
  );
  timeLock.addEventListener("submit", (event) =>
    send({ type: "timeLock.immediate", minutes: Number(minutes.value) }, "Time lock")(event),
  );
  const commands =
    lock === undefined
      ? [h("p", { class: "muted" }, "No lock is enrolled in this container yet.")]
      : [
          block,
          timeLock,
          h(
            "p",
            { class: "row" },
            role === "securityAdmin"
              ? h(
                  "button",
                  {
                    type: "button",
                    id: "lock-unblock",
                    onclick: send({ type: "remote.unblock" }, "Unblock"),
                  },
                  "Unblock",
                )
              : null,
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: send({ type: "time.sync" }, "Time sync"),
              },
              "Time sync",
            ),
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: send({ type: "selfTest.request" }, "Self-test"),
              },
              "Self-test",
            ),
          ),
          answer,
        ];
  const enrolment = [];
  if (role === "securityAdmin") {
    const shown = h("p", { id: "enrolment-token" });
    const ttl = h("input", { name: "ttlMinutes", type: "number", min: 1, max: 43200, value: 60 });
    const form = h(
      "form",
      { class: "inline", id: "create-enrolment-token" },
      h("label", {}, "Valid for (min) ", ttl),
      h("button", { type: "submit" }, "Create enrolment token"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const created = await api("/enrolment-tokens", {
          method: "POST",
          body: { containerId: container.id, ttlMinutes: Number(ttl.value) },
        });
        shown.replaceChildren(
          "Give this one-time token to the technician (shown once, valid until ",
          when(created.expiresAt),
          "): ",
          h("code", { class: "token" }, created.token),
        );
      } catch (error) {
        shown.textContent = `${error.code ?? "E_HTTP"}: ${error.message}`;
      }
    });
    enrolment.push(h("h2", {}, "Provision a lock"), form, shown);
  }
  panel.hidden = false;
  panel.replaceChildren(
    h("h2", {}, `${container.name}${lock ? ` · ${lock.deviceId}` : ""}`),
    ...commands,
    ...enrolment,
  );
}

function refreshLockRow(deviceId) {
  if (store.view !== "locks" && store.view !== "containers") return;
  const row = document.querySelector(`tr[data-device-id="${CSS.escape(deviceId)}"]`);
  if (row === null) {
    renderLocks(store.view === "locks" ? "Branches and containers" : "My containers");
    return;
  }
  const lock = store.devices.get(deviceId);
  row.children[3].replaceChildren(statePill(lock));
  row.children[4].textContent = when(lock?.state?.at);
}

setInterval(() => {
  for (const element of document.querySelectorAll(".countdown[data-ends-at]")) {
    element.textContent = countdown(element.dataset.endsAt);
  }
}, 1000);

// --- alarms ---

async function loadAlarms() {
  // roles without alarm access (technician, CIT crew) see an empty inbox
  const [open, acknowledged] = await Promise.all([
    optional(() => allPages("/alarms?status=open")),
    optional(() => allPages(`/alarms?status=acknowledged&from=${recentlyIso()}`, 500)),
  ]);
  store.alarms = [...open, ...acknowledged];
  const count = $("alarm-count");
  if (count) {
    count.textContent = String(open.length);
    count.hidden = open.length === 0;
  }
}

/** A week back: the acknowledged alarms the inbox still shows. */
function recentlyIso() {
  return new Date(Date.now() - 7 * 24 * 3600 * 1000).toISOString();
}

function alarmRank(alarm) {
  return alarm.kind === "forcedUser" ? 0 : (ALARM_RANK[alarm.priority] ?? 9);
}

function renderAlarms() {
  const canAck = ["securityAdmin", "branchManager"].includes(store.me.principal.role);
  const open = store.alarms
    .filter((a) => a.status === "open")
    .sort((a, b) => alarmRank(a) - alarmRank(b) || b.lastSeenAt.localeCompare(a.lastSeenAt));
  const done = store.alarms
    .filter((a) => a.status === "acknowledged")
    .sort((a, b) => b.acknowledgedAt.localeCompare(a.acknowledgedAt))
    .slice(0, 50);
  const item = (alarm) => {
    const container = store.containers.find((c) => c.id === alarm.containerId);
    return h(
      "li",
      {
        dataset: {
          alarmId: alarm.id,
          priority: alarm.priority,
          status: alarm.status,
          kind: alarm.kind,
        },
      },
      h(
        "div",
        { class: "row" },
        h("strong", {}, alarm.kind),
        h("span", { class: "muted" }, alarm.priority),
        alarm.occurrences > 1 ? h("span", { class: "badge" }, `×${alarm.occurrences}`) : null,
        alarm.escalationLevel > 0
          ? h("span", { class: "muted" }, `escalated to level ${alarm.escalationLevel}`)
          : null,
        alarm.clearedAt ? h("span", { class: "muted" }, "condition cleared") : null,
      ),
      h(
        "div",
        { class: "muted" },
        `${container?.name ?? alarm.containerId ?? ""} · ${alarm.deviceId} · raised ${when(alarm.raisedAt)}`,
      ),
      alarm.status === "acknowledged"
        ? h("div", {}, `Acknowledged ${when(alarm.acknowledgedAt)}: ${alarm.ackComment}`)
        : canAck
          ? ackForm(alarm)
          : null,
    );
  };
  $("view").replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, "Alarm inbox"),
      h(
        "ul",
        { class: "alarms", id: "open-alarms" },
        open.length === 0 ? h("li", { class: "muted" }, "No open alarms.") : open.map(item),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Recently acknowledged"),
      h("ul", { class: "alarms", id: "acknowledged-alarms" }, done.map(item)),
    ),
  );
}

function ackForm(alarm) {
  const comment = h("textarea", {
    name: "comment",
    rows: 2,
    required: true,
    maxlength: 2000,
    placeholder: "What was done (required)",
    "aria-label": "Comment",
  });
  comment.value = store.ackDrafts.get(alarm.id) ?? "";
  comment.addEventListener("input", () => store.ackDrafts.set(alarm.id, comment.value));
  return h(
    "form",
    {
      class: "ack",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api(`/alarms/${encodeURIComponent(alarm.id)}/ack`, {
            method: "POST",
            body: { comment: comment.value },
          });
          store.ackDrafts.delete(alarm.id);
          toast("Alarm acknowledged");
          await loadAlarms();
          renderAlarms();
        } catch (error) {
          toast(error.message);
        }
      },
    },
    comment,
    h("button", { type: "submit" }, "Acknowledge"),
  );
}

// --- approvals (bank) and requests (CIT) ---

function windowTable(windows, actions) {
  const container = (id) => store.containers.find((c) => c.id === id)?.name ?? id;
  return table(
    [
      { label: "Container", render: (w) => container(w.containerId) },
      { label: "From", render: (w) => when(w.notBefore) },
      { label: "To", render: (w) => when(w.notAfter) },
      { label: "Purpose", render: (w) => w.purpose },
      { label: "Crew", render: (w) => (w.crewNames ?? w.crew ?? []).join(", ") },
      {
        label: "Status",
        render: (w) =>
          `${w.status}${w.status === "requested" ? ` (${(w.approvedBy ?? []).length}/${w.approvalsRequired})` : ""}`,
      },
      ...(actions ? [{ label: "", render: actions }] : []),
    ],
    windows,
    (w) => ({ dataset: { windowId: w.id, status: w.status } }),
  );
}

async function approvals() {
  const role = store.me.principal.role;
  const canDecide = ["securityAdmin", "branchManager"].includes(role);
  const [waiting, changes, person, proposals] = await Promise.all([
    optional(() => allPages("/windows?status=requested")),
    optional(() => api("/policy-changes").then((page) => page.items)),
    personNames(),
    optional(() => api("/proposals?status=pending").then((page) => page.items)),
  ]);
  const decideProposal = (p, verdict) =>
    change(
      () =>
        api(`/proposals/${encodeURIComponent(p.id)}/${verdict}`, {
          method: "POST",
          ...(verdict === "reject" ? { body: {} } : {}),
        }),
      verdict === "approve" ? "Approved; the change took effect" : "Proposal rejected",
      approvals,
    );
  const decide = (w, verdict) =>
    change(
      () => api(`/windows/${encodeURIComponent(w.id)}/${verdict}`, { method: "POST", body: {} }),
      `Window ${verdict === "approve" ? "approved" : "rejected"}`,
      approvals,
    );
  const decidePolicy = (c, verdict) =>
    change(
      () => api(`/policy-changes/${encodeURIComponent(c.id)}/${verdict}`, { method: "POST" }),
      verdict === "approve" ? "Policy change approved" : "Policy change rejected",
      approvals,
    );
  const containerName = (id) => store.containers.find((c) => c.id === id)?.name ?? id;
  const sections = [
    h(
      "section",
      { class: "card" },
      h("h1", {}, "Windows awaiting approval"),
      windowTable(
        waiting,
        canDecide
          ? (w) =>
              h(
                "span",
                { class: "row" },
                h("button", { type: "button", onclick: decide(w, "approve") }, "Approve"),
                h(
                  "button",
                  { type: "button", class: "secondary", onclick: decide(w, "reject") },
                  "Reject",
                ),
              )
          : null,
      ),
    ),
    h(
      "section",
      { class: "card", id: "policy-changes" },
      h("h2", {}, "Lock policy changes"),
      h(
        "p",
        { class: "muted" },
        "A change that weakens a lock (shorter delay, fewer eyes, a time lock removed) goes out only after a second, distinct bank officer approves it.",
      ),
      table(
        [
          { label: "Container", render: (c) => containerName(c.containerId) },
          { label: "Change", render: (c) => describePolicyChange(c) },
          {
            label: "Requested",
            render: (c) => `${when(c.requestedAt)} · ${person(c.requestedBy)}`,
          },
          {
            label: "Status",
            render: (c) =>
              c.status === "pending"
                ? `awaiting approval (${c.approvedBy.length}/${c.approvalsRequired})`
                : `${c.status}${c.locks.length ? ` · ${c.locks.map((l) => `${l.deviceId}: ${l.status}`).join(", ")}` : ""}`,
          },
          {
            label: "",
            render: (c) =>
              c.status === "pending" && canDecide
                ? h(
                    "span",
                    { class: "row" },
                    h(
                      "button",
                      {
                        type: "button",
                        dataset: { approveChange: c.id },
                        onclick: decidePolicy(c, "approve"),
                      },
                      "Approve",
                    ),
                    role === "securityAdmin"
                      ? h(
                          "button",
                          {
                            type: "button",
                            class: "secondary",
                            onclick: decidePolicy(c, "reject"),
                          },
                          "Reject",
                        )
                      : null,
                  )
                : "",
          },
        ],
        [...(Array.isArray(changes) ? changes : [])].sort((a, b) =>
          b.requestedAt.localeCompare(a.requestedAt),
        ),
        (c) => ({ dataset: { changeId: c.id, status: c.status } }),
      ),
      role === "securityAdmin" ? policyForm() : null,
    ),
  ];
  sections.unshift(
    h(
      "section",
      { class: "card", id: "proposals" },
      h("h2", {}, "Power changes awaiting a second officer"),
      h(
        "p",
        { class: "muted" },
        "New officer accounts, roles, enabling a person and lock rights take effect only when a second, independent officer approves.",
      ),
      table(
        [
          { label: "Change", render: (p) => p.summary },
          { label: "Proposed", render: (p) => `${when(p.proposedAt)} · ${person(p.proposedBy)}` },
          {
            label: "",
            render: (p) =>
              canDecide
                ? h(
                    "span",
                    { class: "row" },
                    h(
                      "button",
                      {
                        type: "button",
                        dataset: { approveProposal: p.id },
                        onclick: decideProposal(p, "approve"),
                      },
                      "Approve",
                    ),
                    h(
                      "button",
                      { type: "button", class: "secondary", onclick: decideProposal(p, "reject") },
                      "Reject",
                    ),
                  )
                : "",
          },
        ],
        Array.isArray(proposals) ? proposals : [],
        (p) => ({ dataset: { proposalId: p.id, kind: p.kind } }),
      ),
    ),
  );
  $("view").replaceChildren(...sections);
}

const POLICY_FIELDS = [
  ["timeDelayMin", "Time delay (min)", { type: "number", min: 0, max: 99 }],
  ["confirmationWindowMin", "Confirmation window (min)", { type: "number", min: 1, max: 19 }],
  ["duressDelayMin", "Duress delay (min)", { type: "number", min: 0, max: 99 }],
];

function describePolicyChange(c) {
  if (c.kind !== "policy") return c.kind === "holidays" ? "holiday calendar" : "time-lock schedule";
  const p = c.proposed ?? {};
  const parts = [
    `delay ${p.timeDelayMin} min`,
    `${p.dualControl} control`,
    `window ${p.confirmationWindowMin} min`,
    `duress delay ${p.duressDelayMin} min`,
    p.mixedParties ? "mixed parties" : null,
  ].filter(Boolean);
  const weaker = c.weakened?.length ? ` — weakens: ${c.weakened.join("; ")}` : "";
  return `${parts.join(", ")}${weaker}`;
}

/** Proposing a container's new opening policy, starting from the policy it has now. */
function policyForm() {
  const container = h(
    "select",
    { name: "containerId", required: true },
    store.containers.map((c) => h("option", { value: c.id }, c.name)),
  );
  const inputs = Object.fromEntries(
    POLICY_FIELDS.map(([name, , attributes]) => [
      name,
      h("input", { name, required: true, ...attributes }),
    ]),
  );
  const eyes = h(
    "select",
    { name: "dualControl" },
    ["single", "dual", "triple"].map((mode) => h("option", { value: mode }, mode)),
  );
  const mixed = h("input", { name: "mixedParties", type: "checkbox" });
  const reason = h("input", { name: "reason", maxlength: 500 });
  const current = () => store.containers.find((c) => c.id === container.value)?.policy;
  const fill = () => {
    const policy = current();
    if (!policy) return;
    for (const [name] of POLICY_FIELDS) inputs[name].value = String(policy[name]);
    eyes.value = policy.dualControl;
    mixed.checked = policy.mixedParties;
  };
  container.addEventListener("change", fill);
  const form = h(
    "form",
    { class: "inline", id: "propose-policy" },
    h("label", {}, "Container ", container),
    POLICY_FIELDS.map(([name, label]) => h("label", {}, `${label} `, inputs[name])),
    h("label", {}, "Control ", eyes),
    h("label", {}, "Mixed parties ", mixed),
    h("label", {}, "Reason ", reason),
    h("button", { type: "submit" }, "Propose change"),
  );
  form.addEventListener(
    "submit",
    change(
      async () => {
        const policy = {
          ...current(),
          ...Object.fromEntries(POLICY_FIELDS.map(([name]) => [name, Number(inputs[name].value)])),
          dualControl: eyes.value,
          mixedParties: mixed.checked,
        };
        const proposed = await api("/policy-changes", {
          method: "POST",
          body: {
            containerId: container.value,
            kind: "policy",
            policy,
            ...(reason.value ? { reason: reason.value } : {}),
          },
        });
        // The container list carries the policy the locks now have.
        if (proposed.status !== "pending") await loadLocks();
      },
      "Policy change proposed",
      approvals,
    ),
  );
  fill();
  return h("div", {}, h("h2", {}, "Propose a change"), form);
}

async function requests() {
  const [windows, notifications] = await Promise.all([
    optional(() => allPages("/windows", 500)),
    optional(() => allPages("/windows/notifications", 100)),
  ]);
  const crewPeople = await optional(() => allPages("/people"));
  windows.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  const form = h(
    "form",
    { class: "inline", id: "request-window" },
    h(
      "label",
      {},
      "Container ",
      h(
        "select",
        { name: "containerId", required: true },
        store.containers.map((c) => h("option", { value: c.id }, c.name)),
      ),
    ),
    h(
      "label",
      {},
      "From ",
      h("input", { name: "notBefore", type: "datetime-local", required: true }),
    ),
    h("label", {}, "To ", h("input", { name: "notAfter", type: "datetime-local", required: true })),
    h(
      "label",
      {},
      "Crew ",
      h(
        "select",
        { name: "crew", required: true, multiple: true, size: 3 },
        crewPeople.map((p) => h("option", { value: p.id }, p.name)),
      ),
    ),
    h("label", {}, "Purpose ", h("input", { name: "purpose", required: true, maxlength: 200 })),
    h("button", { type: "submit" }, "Request window"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    try {
      await api("/windows", {
        method: "POST",
        body: {
          containerId: f.containerId.value,
          notBefore: new Date(f.notBefore.value).toISOString(),
          notAfter: new Date(f.notAfter.value).toISOString(),
          crew: [...f.crew.selectedOptions].map((option) => option.value),
          purpose: f.purpose.value,
        },
      });
      toast("Window requested");
      await requests();
    } catch (error) {
      toast(error.message);
    }
  });
  const sections = [
    h("section", { class: "card" }, h("h1", {}, "Window requests"), windowTable(windows, null)),
  ];
  if (store.me.principal.role === "citDispatcher") {
    sections.push(h("section", { class: "card" }, h("h2", {}, "New request"), form));
  }
  $("view").replaceChildren(
    ...sections,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Notices"),
      table(
        [
          { label: "When", render: (n) => when(n.createdAt) },
          { label: "Notice", render: (n) => n.message },
        ],
        notifications,
      ),
    ),
  );
}

// --- contracts (CIT) ---

async function contracts() {
  const list = await allPages("/contracts");
  const windowText = (w) =>
    `${"MoTuWeThFrSaSu".slice((w.startDay - 1) * 2, w.startDay * 2)} ${w.startTime} – ${"MoTuWeThFrSaSu".slice((w.endDay - 1) * 2, w.endDay * 2)} ${w.endTime}`;
  $("view").replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, "Contracts"),
      table(
        [
          { label: "Contract", render: (c) => c.name },
          {
            label: "Containers",
            render: (c) =>
              c.containerIds
                .map((id) => store.containers.find((x) => x.id === id)?.name ?? id)
                .join(", "),
          },
          {
            label: "Standing windows",
            render: (c) => c.standingWindows.map(windowText).join("; "),
          },
          {
            label: "Valid",
            render: (c) =>
              `${c.validFrom ? when(c.validFrom) : "—"} to ${c.validUntil ? when(c.validUntil) : "—"}`,
          },
          { label: "Active", render: (c) => (c.active ? "yes" : "no") },
        ],
        list,
      ),
    ),
  );
}

// --- people and rights ---

const DOCUMENT_TYPES = [
  ["idCard", "ID card"],
  ["passport", "Passport"],
  ["residencePermit", "Residence permit"],
  ["driversLicence", "Driver's licence"],
  ["serviceCard", "Service card"],
  ["other", "Other"],
];
const LOCK_ROLES = ["user", "manager", "courier", "service", "master"];

/** Runs a change against the fleet, tells the outcome, then redraws the view. */
function change(action, done, redraw) {
  return async (event) => {
    event?.preventDefault?.();
    try {
      await action();
      toast(done);
      await redraw();
    } catch (error) {
      toast(`${error.code ?? "E_HTTP"}: ${error.message}`);
    }
  };
}

async function people(selectedId) {
  const role = store.me.principal.role;
  const mayManage = role === "securityAdmin";
  const mayIdentify = ["securityAdmin", "branchManager"].includes(role);
  const mayGrant = ["securityAdmin", "branchManager"].includes(role);
  const persons = await allPages("/people");
  const redraw = (id) => () => people(id);
  const rightsBox = h(
    "section",
    { class: "card", id: "rights" },
    h("p", { class: "muted" }, "Choose a person to see their rights on locks."),
  );
  const showRights = (person) => async () => {
    const [rights, letters] = await Promise.all([
      optional(() =>
        api(`/rights?personId=${encodeURIComponent(person.id)}&includeRemoved=true`).then(
          (r) => r.items,
        ),
      ),
      optional(() =>
        api(`/pin-letters?personId=${encodeURIComponent(person.id)}`).then((r) => r.items),
      ),
    ]);
    // a PIN letter is shown once: downloaded into this box, printed from here, never again
    const letterBox = h("pre", { id: "pin-letter", class: "card", hidden: true });
    const takeLetter = (letter, half) => async () => {
      try {
        const taken = await api(`/pin-letters/${encodeURIComponent(letter.id)}/download`, {
          method: "POST",
          body: half === undefined ? {} : { half },
        });
        letterBox.textContent = taken.text;
        letterBox.hidden = false;
        toast("PIN letter shown once: print it now");
      } catch (error) {
        toast(`${error.code ?? "E_HTTP"}: ${error.message}`);
      }
    };
    const waiting = (Array.isArray(letters) ? letters : []).filter((l) => l.pending);
    const letterButtons = mayGrant
      ? waiting.flatMap((letter) =>
          (letter.split ? [1, 2] : [undefined]).map((half) =>
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                dataset: { pinLetter: letter.id },
                onclick: takeLetter(letter, half),
              },
              `PIN letter ${letter.deviceId} slot ${letter.slot}${half ? ` (half ${half})` : ""}`,
            ),
          ),
        )
      : [];
    const grantForm = h(
      "form",
      { class: "inline", id: "grant-right" },
      h(
        "label",
        {},
        "Containers ",
        h(
          "select",
          { name: "containerIds", multiple: true, required: true, size: 3 },
          store.containers.map((c) => h("option", { value: c.id }, c.name)),
        ),
      ),
      h(
        "label",
        {},
        "Role ",
        h(
          "select",
          { name: "role" },
          LOCK_ROLES.map((r) => h("option", { value: r }, r)),
        ),
      ),
      h("label", {}, "Valid until ", h("input", { name: "validUntil", type: "datetime-local" })),
      h("button", { type: "submit" }, "Give right"),
    );
    grantForm.addEventListener(
      "submit",
      change(
        () => {
          const f = grantForm.elements;
          return api("/rights", {
            method: "POST",
            body: {
              personId: person.id,
              containerIds: [...f.containerIds.selectedOptions].map((o) => o.value),
              role: f.role.value,
              ...(f.validUntil.value
                ? { validUntil: new Date(f.validUntil.value).toISOString() }
                : {}),
            },
          });
        },
        `Right for ${person.name} proposed; a second officer approves it under Approvals`,
        redraw(person.id),
      ),
    );
    rightsBox.replaceChildren(
      h("h2", {}, `Rights of ${person.name}`),
      table(
        [
          {
            label: "Container",
            render: (r) =>
              store.containers.find((c) => c.id === r.containerId)?.name ?? r.containerId,
          },
          { label: "Role", render: (r) => r.role },
          {
            label: "Valid",
            render: (r) =>
              `${r.validFrom ? when(r.validFrom) : "—"} to ${r.validUntil ? when(r.validUntil) : "—"}`,
          },
          {
            label: "Locks confirmed",
            render: (r) => (r.locks ?? []).map((p) => `${p.deviceId}: ${p.status}`).join(", "),
          },
          {
            label: "Removed",
            render: (r) =>
              r.removedAt
                ? `${when(r.removedAt)} (${r.removedReason ?? ""})`
                : mayGrant
                  ? h(
                      "button",
                      {
                        type: "button",
                        class: "secondary",
                        dataset: { removeRight: r.id },
                        onclick: change(
                          () =>
                            api(`/rights/${encodeURIComponent(r.id)}`, {
                              method: "DELETE",
                            }),
                          "Right removed; the locks are told",
                          redraw(person.id),
                        ),
                      },
                      "Remove",
                    )
                  : "",
          },
        ],
        Array.isArray(rights) ? rights : [],
        (r) => ({ dataset: { rightId: r.id } }),
      ),
      ...(letterButtons.length > 0
        ? [h("p", { class: "row" }, ...letterButtons), letterBox]
        : [letterBox]),
      ...(mayGrant
        ? [
            person.status === "enabled"
              ? grantForm
              : h("p", { class: "muted" }, "Rights are given to enabled people only."),
          ]
        : []),
    );
  };

  /** The next step of a person's lifecycle this account may take, as buttons. */
  const actions = (p) => {
    const buttons = [
      h("button", { type: "button", class: "secondary", onclick: showRights(p) }, "Rights"),
    ];
    if (p.status === "registered" && mayIdentify) {
      const documentType = h(
        "select",
        { name: "documentType", "aria-label": "document" },
        DOCUMENT_TYPES.map(([value, label]) => h("option", { value }, label)),
      );
      buttons.push(
        documentType,
        h(
          "button",
          {
            type: "button",
            dataset: { identify: p.id },
            onclick: change(
              () =>
                api(`/people/${encodeURIComponent(p.id)}/identify`, {
                  method: "POST",
                  body: { documentType: documentType.value },
                }),
              `${p.name} identified`,
              redraw(p.id),
            ),
          },
          "Identified",
        ),
      );
    }
    if (mayManage && ["identified", "disabled"].includes(p.status)) {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            dataset: { enable: p.id },
            onclick: change(
              () => api(`/people/${encodeURIComponent(p.id)}/enable`, { method: "POST", body: {} }),
              `Enabling ${p.name} proposed; a second officer approves it under Approvals`,
              redraw(p.id),
            ),
          },
          "Enable",
        ),
      );
    }
    const isMe = p.id === store.me.principal.personId;
    if (mayManage && !isMe && ["enabled", "notYetValid"].includes(p.status)) {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            dataset: { disable: p.id },
            onclick: change(
              () => api(`/people/${encodeURIComponent(p.id)}/disable`, { method: "POST" }),
              `${p.name} disabled; their rights are withdrawn from the locks`,
              redraw(p.id),
            ),
          },
          "Disable",
        ),
      );
    }
    if (mayManage && !isMe && p.status !== "deleted") {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            dataset: { delete: p.id },
            onclick: (event) => {
              if (!window.confirm(`Delete ${p.name}? Their rights are removed from every lock.`))
                return;
              return change(
                () => api(`/people/${encodeURIComponent(p.id)}`, { method: "DELETE" }),
                `${p.name} deleted`,
                redraw(),
              )(event);
            },
          },
          "Delete",
        ),
      );
    }
    return h("span", { class: "row actions" }, buttons);
  };

  const addForm = h(
    "form",
    { class: "inline", id: "add-person" },
    h("label", {}, "Name ", h("input", { name: "name", required: true, maxlength: 200 })),
    h("button", { type: "submit" }, "Add person"),
  );
  addForm.addEventListener(
    "submit",
    change(
      () => api("/people", { method: "POST", body: { name: addForm.elements.name.value } }),
      "Person added; identify them against an official document next",
      redraw(),
    ),
  );

  $("view").replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, "People"),
      table(
        [
          { label: "Name", render: (p) => p.name },
          { label: "Status", render: (p) => p.status },
          {
            label: "Identified",
            render: (p) =>
              p.identifiedAt ? `${when(p.identifiedAt)} (${p.documentType ?? ""})` : "no",
          },
          { label: "Enabled", render: (p) => (p.enabledAt ? when(p.enabledAt) : "no") },
          { label: "Valid until", render: (p) => when(p.validUntil) },
          { label: "", render: actions },
        ],
        persons,
        (p) => ({ dataset: { personId: p.id, status: p.status } }),
      ),
      mayManage ? addForm : null,
    ),
    rightsBox,
  );
  const selected = persons.find((p) => p.id === selectedId);
  if (selected !== undefined) await showRights(selected)();
}

// --- audit timeline ---

/**
 * Names of the people this account may see (its organisation's, and the crews of its windows),
 * so that records read "Anna Weber" rather than a person id; unknown ids stay as they are.
 */
async function personNames() {
  const [people, windows] = await Promise.all([
    optional(() => allPages("/people")),
    optional(() => allPages("/windows", 500)),
  ]);
  const names = new Map(people.map((p) => [p.id, p.name]));
  for (const w of windows) {
    (w.crew ?? []).forEach((id, i) => {
      if (w.crewNames?.[i] && !names.has(id)) names.set(id, w.crewNames[i]);
    });
  }
  return (id) => (id && names.has(id) ? `${names.get(id)} (${id})` : (id ?? ""));
}

async function audit() {
  const locks = [...store.devices.values()];
  const person = await personNames();
  const results = h("div", { id: "audit-results" });
  const form = h(
    "form",
    { class: "inline", id: "audit-filter" },
    h(
      "label",
      {},
      "Lock ",
      h(
        "select",
        { name: "deviceId" },
        locks.map((l) =>
          h(
            "option",
            { value: l.deviceId },
            `${l.deviceId} · ${store.containers.find((c) => c.id === l.containerId)?.name ?? ""}`,
          ),
        ),
      ),
    ),
    h("label", {}, "Event ", h("input", { name: "kind", placeholder: "e.g. cycle. or alarm." })),
    h("label", {}, "Person ", h("input", { name: "actor", placeholder: "person id" })),
    h("label", {}, "From ", h("input", { name: "from", type: "datetime-local" })),
    h("label", {}, "To ", h("input", { name: "to", type: "datetime-local" })),
    h("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    if (!f.deviceId.value) return;
    const records = [];
    let after = 0;
    for (let i = 0; i < 20; i++) {
      const page = await api(
        `/devices/${encodeURIComponent(f.deviceId.value)}/audit?afterSeq=${after}&limit=500`,
      );
      records.push(...page.items);
      if (page.nextAfterSeq === null) break;
      after = page.nextAfterSeq;
    }
    const from = f.from.value ? new Date(f.from.value).toISOString() : "";
    const to = f.to.value ? new Date(f.to.value).toISOString() : "";
    const shown = records
      .filter(
        (r) =>
          (!f.kind.value || r.kind.startsWith(f.kind.value)) &&
          (!f.actor.value || r.actor === f.actor.value) &&
          (!from || r.at >= from) &&
          (!to || r.at < to),
      )
      .reverse();
    results.replaceChildren(
      table(
        [
          { label: "No.", render: (r) => r.seq },
          { label: "Lock time", render: (r) => when(r.at) },
          { label: "Event", render: (r) => r.kind },
          { label: "Person", render: (r) => person(r.actor) },
          {
            label: "Details",
            render: (r) => h("code", { class: "details" }, JSON.stringify(r.data)),
          },
        ],
        shown,
      ),
    );
  });
  const sections = [h("section", { class: "card" }, h("h1", {}, "Audit timeline"), form, results)];
  if (["securityAdmin", "auditor"].includes(store.me.principal.role)) {
    const entries = await optional(() => allPages("/admin-log", 300));
    sections.push(
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Fleet admin log"),
        table(
          [
            { label: "No.", render: (e) => e.seq },
            { label: "Time", render: (e) => when(e.at) },
            { label: "Actor", render: (e) => person(e.actor) },
            { label: "Action", render: (e) => e.action },
            { label: "Target", render: (e) => e.target ?? "" },
          ],
          entries.slice().reverse(),
        ),
      ),
    );
  }
  $("view").replaceChildren(...sections);
}

// --- reports ---

async function reports() {
  const kinds = await api("/reports");
  const dayMs = 24 * 3600 * 1000;
  const day = (date) => date.toISOString().slice(0, 10);
  const today = new Date();
  const kind = h(
    "select",
    { name: "kind", id: "report-kind" },
    kinds.map((k) => h("option", { value: k.kind }, k.title)),
  );
  const from = h("input", {
    name: "from",
    type: "date",
    value: day(new Date(today.getTime() - 30 * dayMs)),
  });
  // The last day is included: the period ends at the start of the day after it (UTC).
  const to = h("input", { name: "to", type: "date", value: day(today) });
  const container = h(
    "select",
    { name: "containerId" },
    h("option", { value: "" }, "All containers"),
    store.containers.map((c) => h("option", { value: c.id }, c.name)),
  );
  const links = h("p", { class: "row", id: "report-links" });
  const shown = h("div", { id: "report-view" });
  const query = (format) => {
    const end = new Date(`${to.value}T00:00:00.000Z`).getTime() + dayMs;
    const params = new URLSearchParams({
      format,
      from: `${from.value}T00:00:00.000Z`,
      to: new Date(end).toISOString(),
    });
    if (container.value) params.set("containerId", container.value);
    return `/reports/${encodeURIComponent(kind.value)}?${params}`;
  };
  const reportTable = (t, id) =>
    h(
      "div",
      { class: "report-table", id },
      h("h2", {}, t.title),
      table(
        t.columns.map((column) => ({
          label: column.label,
          render: (row) => row[column.key] ?? "",
        })),
        t.rows,
      ),
    );
  const show = async () => {
    shown.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const report = await api(query("json"));
      shown.replaceChildren(
        h(
          "p",
          { class: "muted" },
          `${report.orgName} · ${when(report.from)} – ${when(report.to)} · generated ${when(report.generatedAt)}`,
        ),
        ...report.summaries.map((summary) => reportTable(summary)),
        reportTable(report.table, "report-main"),
        ...report.notes.map((note) => h("p", { class: "muted" }, note)),
      );
    } catch (error) {
      shown.replaceChildren(
        h("p", { class: "error" }, `${error.code ?? "E_HTTP"}: ${error.message}`),
      );
    }
  };
  const update = () => {
    links.replaceChildren(
      h("button", { type: "button", id: "report-show", onclick: show }, "Show"),
      h("a", { id: "report-csv", href: `/api/v1${query("csv")}`, download: "" }, "Download CSV"),
      h("a", { id: "report-pdf", href: `/api/v1${query("pdf")}`, download: "" }, "Download PDF"),
      h(
        "a",
        { id: "report-json", href: `/api/v1${query("json")}`, target: "_blank", rel: "noopener" },
        "JSON",
      ),
    );
    shown.replaceChildren();
  };
  for (const input of [kind, from, to, container]) input.addEventListener("change", update);
  update();
  $("view").replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, "Reports"),
      h(
        "div",
        { class: "inline" },
        h("label", {}, "Report ", kind),
        h("label", {}, "From ", from),
        h("label", {}, "To (inclusive) ", to),
        h("label", {}, "Container ", container),
      ),
      links,
      shown,
    ),
  );
}

const VIEWS = {
  locks: async () => {
    await loadLocks();
    renderLocks("Branches and containers");
  },
  containers: async () => {
    await loadLocks();
    renderLocks("My containers");
  },
  alarms: async () => {
    await loadAlarms();
    renderAlarms();
  },
  approvals,
  requests,
  contracts,
  people,
  audit,
  reports,
};

start().catch((error) => {
  $("login-error").textContent = error.message;
  showLogin();
});
