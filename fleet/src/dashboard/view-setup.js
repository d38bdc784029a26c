// @ts-check
// Set-up of a bank (security admin): a first-run guide on an empty bank, regions and
// branches, containers with their opening policy, and enrolment tokens for technicians.
// CIT companies, contracts and accounts are in view-partners.js.
import { allPages, api, optional } from "./api.js";
import { h, table } from "./dom.js";
import { checkedForm, choice, field, timeZones } from "./forms.js";
import { t } from "./i18n.js";
import { loadLocks, me, role, store, viewArea, zoneOf } from "./state.js";
import { viewerZone, when } from "./time.js";
import { partnerSections } from "./view-partners.js";

const BRANCH_TYPES = ["branch", "selfService", "headOffice", "cashCentre", "offsite"];
const CONTAINER_TYPES = ["gaa", "akt", "recycler", "deposit", "safe", "vaultDoor"];
const GRADES = [
  "0",
  "I",
  "II",
  "III",
  "IV",
  "V",
  "VI",
  "VII",
  "VIII",
  "IX",
  "X",
  "XI",
  "XII",
  "XIII",
];
const LOCK_CLASSES = ["A", "B", "C", "D"];

export async function setup() {
  await loadLocks();
  const orgId = me().principal.orgId;
  const regions = /** @type {Array<{ id: string, name: string }>} */ (
    await optional(() => allPages(`/orgs/${encodeURIComponent(orgId)}/regions`))
  );
  const admin = role() === "securityAdmin";
  const sections = [
    firstRunGuide(),
    branchSection(regions, admin),
    containerSection(admin),
    admin ? enrolmentSection() : null,
    ...(await partnerSections(admin, setup)),
  ].filter((section) => section !== null);
  viewArea().replaceChildren(...sections);
}

/**
 * The steps from an empty bank to its first enrolled lock, each ticked when done; shown until
 * a lock is enrolled.
 * @returns {HTMLElement | null}
 */
function firstRunGuide() {
  const steps = [
    [store.branches.size > 0, t("Create the first branch, with its time zone"), "#setup-branches"],
    [
      store.containers.length > 0,
      t("Add a container (safe, ATM, vault door) with its opening policy"),
      "#setup-containers",
    ],
    [false, t("Create an enrolment token and give it to the technician"), "#setup-enrolment"],
    [
      store.devices.size > 0,
      t("The technician provisions the lock; it shows up on the Locks page"),
      "#locks",
    ],
  ];
  if (store.devices.size > 0) return null;
  const next = steps.findIndex(([done]) => !done);
  return h(
    "section",
    { class: "card guide", id: "first-run" },
    h("h1", {}, t("Getting started")),
    h(
      "p",
      {},
      t(
        "This bank has no lock yet. These steps lead from the first branch to the first enrolled lock.",
      ),
    ),
    h(
      "ol",
      {},
      steps.map(([done, text, target], index) =>
        h(
          "li",
          { dataset: { done: done ? "true" : "false", next: index === next ? "true" : undefined } },
          done
            ? `✓ ${text}`
            : index === next
              ? h("a", { href: String(target) }, String(text))
              : String(text),
        ),
      ),
    ),
  );
}

/**
 * @param {Array<{ id: string, name: string }>} regions
 * @param {boolean} admin
 */
function branchSection(regions, admin) {
  const regionName = new Map(regions.map((r) => [r.id, r.name]));
  const list = table(
    [
      { label: t("Branch"), render: (b) => b.name },
      { label: t("Region"), render: (b) => regionName.get(b.regionId) ?? "" },
      { label: t("Kind"), render: (b) => t(b.branchType) },
      { label: t("Time zone"), render: (b) => b.timeZone },
      { label: t("Address"), render: (b) => b.address ?? "" },
    ],
    [...store.branches.values()],
    (b) => ({ dataset: { branchId: b.id } }),
  );
  if (!admin)
    return h("section", { class: "card", id: "setup-branches" }, h("h2", {}, t("Branches")), list);
  const regionName$ = h("input", { name: "name", required: true, maxlength: 200 });
  const regionForm = checkedForm(
    "create-region",
    [field(t("Region name"), regionName$)],
    t("Add region"),
    {
      check: () => [regionName$.value.trim() === "" && t("Give the region a name.")],
      send: () =>
        api(`/orgs/${encodeURIComponent(me().principal.orgId)}/regions`, {
          method: "POST",
          body: { name: regionName$.value.trim() },
        }),
      done: () => t("Region added"),
      after: setup,
    },
  );
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const kind = choice(
    "branchType",
    BRANCH_TYPES.map((k) => [k, t(k)]),
  );
  const zone = choice(
    "timeZone",
    timeZones(viewerZone()).map((z) => [z, z]),
  );
  const region = choice("regionId", [
    ["", t("no region")],
    ...regions.map((r) => /** @type {[string, string]} */ ([r.id, r.name])),
  ]);
  const address = h("input", { name: "address", maxlength: 500 });
  const branchForm = checkedForm(
    "create-branch",
    [
      field(t("Name"), name),
      field(t("Kind"), kind),
      field(t("Time zone"), zone),
      field(t("Region"), region),
      field(t("Address"), address),
    ],
    t("Add branch"),
    {
      check: () => [name.value.trim() === "" && t("Give the branch a name.")],
      send: () =>
        api("/branches", {
          method: "POST",
          body: {
            name: name.value.trim(),
            branchType: kind.value,
            timeZone: zone.value,
            ...(region.value ? { regionId: region.value } : {}),
            ...(address.value.trim() ? { address: address.value.trim() } : {}),
          },
        }),
      done: () => t("Branch added"),
      after: setup,
    },
  );
  return h(
    "section",
    { class: "card", id: "setup-branches" },
    h("h2", {}, t("Regions and branches")),
    list,
    h("h3", {}, t("New branch")),
    branchForm,
    h("h3", {}, t("New region")),
    regionForm,
  );
}

/** @param {boolean} admin */
function containerSection(admin) {
  const branchName = (/** @type {string} */ id) => store.branches.get(id)?.name ?? "";
  const list = table(
    [
      { label: t("Branch"), render: (c) => branchName(c.branchId) },
      { label: t("Container"), render: (c) => c.name },
      { label: t("Kind"), render: (c) => t(c.type) },
      { label: t("Grade / lock class"), render: (c) => `${c.grade} / ${c.lockClass}` },
      {
        label: t("Opening policy"),
        render: (c) =>
          t("{control}, delay {delay} min, confirmation window {window} min", {
            control: t(`${c.policy.dualControl} control`),
            delay: c.policy.timeDelayMin,
            window: c.policy.confirmationWindowMin,
          }),
      },
      { label: t("Created"), render: (c) => when(c.createdAt, zoneOf(c.id)) },
    ],
    store.containers,
    (c) => ({ dataset: { containerId: c.id } }),
  );
  const section = h(
    "section",
    { class: "card", id: "setup-containers" },
    h("h2", {}, t("Containers")),
    list,
    h(
      "p",
      { class: "muted" },
      t("A container's opening policy changes under the approval rules on the Approvals page."),
    ),
  );
  if (!admin) return section;
  if (store.branches.size === 0) {
    section.append(h("p", { class: "muted" }, t("Create a branch first.")));
    return section;
  }
  const branch = choice(
    "branchId",
    [...store.branches.values()].map((b) => /** @type {[string, string]} */ ([b.id, b.name])),
  );
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const kind = choice(
    "type",
    CONTAINER_TYPES.map((k) => [k, t(k)]),
    { value: "safe" },
  );
  const grade = choice(
    "grade",
    GRADES.map((g) => [g, g]),
  );
  grade.value = "IV";
  const lockClass = choice(
    "lockClass",
    LOCK_CLASSES.map((c) => [c, c]),
  );
  lockClass.value = "B";
  const control = choice("dualControl", [
    ["dual", t("dual control")],
    ["single", t("single control")],
    ["triple", t("triple control")],
  ]);
  // empty: the fleet's default policy; a value given goes the way every policy change goes
  const delay = h("input", {
    name: "timeDelayMin",
    type: "number",
    min: 0,
    max: 99,
    placeholder: t("default"),
  });
  const window = h("input", {
    name: "confirmationWindowMin",
    type: "number",
    min: 1,
    max: 19,
    placeholder: t("default"),
  });
  const form = checkedForm(
    "create-container",
    [
      field(t("Branch"), branch),
      field(t("Name"), name),
      field(t("Kind"), kind),
      field(t("Grade (EN 1143-1)"), grade),
      field(t("Lock class (EN 1300)"), lockClass),
      field(t("Control"), control),
      field(t("Time delay (min)"), delay),
      field(t("Confirmation window (min)"), window),
    ],
    t("Add container"),
    {
      check: () => [
        name.value.trim() === "" && t("Give the container a name."),
        delay.value !== "" &&
          !(Number(delay.value) >= 0 && Number(delay.value) <= 99) &&
          t("The time delay is 0 to 99 minutes."),
        window.value !== "" &&
          !(Number(window.value) >= 1 && Number(window.value) <= 19) &&
          t("The confirmation window is 1 to 19 minutes."),
      ],
      send: async () => {
        const created = await api("/containers", {
          method: "POST",
          body: {
            branchId: branch.value,
            name: name.value.trim(),
            type: kind.value,
            grade: grade.value,
            lockClass: lockClass.value,
          },
        });
        const policy = {
          ...created.policy,
          dualControl: control.value,
          ...(delay.value === "" ? {} : { timeDelayMin: Number(delay.value) }),
          ...(window.value === "" ? {} : { confirmationWindowMin: Number(window.value) }),
        };
        if (JSON.stringify(policy) === JSON.stringify(created.policy)) {
          return { created, change: null };
        }
        const change = await api("/policy-changes", {
          method: "POST",
          body: {
            containerId: created.id,
            kind: "policy",
            policy,
            reason: t("policy chosen when the container was set up"),
          },
        });
        return { created, change };
      },
      done: ({ created, change }) =>
        change?.status === "pending"
          ? t(
              "Container {name} added; its weaker policy waits for a second officer on the Approvals page",
              { name: created.name },
            )
          : t("Container {name} added", { name: created.name }),
      after: setup,
    },
  );
  section.append(h("h3", {}, t("New container")), form);
  return section;
}

function enrolmentSection() {
  const container = choice(
    "containerId",
    store.containers.map((c) => /** @type {[string, string]} */ ([c.id, c.name])),
  );
  const ttl = h("input", { name: "ttlMinutes", type: "number", min: 1, max: 43200, value: 60 });
  const shown = h("p", { id: "setup-enrolment-token" });
  const form = checkedForm(
    "setup-enrolment-form",
    [field(t("Container"), container), field(t("Valid for (min)"), ttl)],
    t("Create enrolment token"),
    {
      check: () => [!container.value && t("Add a container first.")],
      send: () =>
        api("/enrolment-tokens", {
          method: "POST",
          body: { containerId: container.value, ttlMinutes: Number(ttl.value) },
        }),
      done: (created) => {
        shown.replaceChildren(
          t("Give this one-time token to the technician (shown once, valid until {until}):", {
            until: when(created.expiresAt, zoneOf(container.value)),
          }),
          " ",
          h("code", { class: "token" }, created.token),
          " ",
          h(
            "span",
            { class: "muted" },
            t(
              "On the lock: lockfleet-edge provision --fleet <fleet address> --token - --profile <hardware profile>",
            ),
          ),
        );
      },
    },
  );
  return h(
    "section",
    { class: "card", id: "setup-enrolment" },
    h("h2", {}, t("Enrol a lock")),
    form,
    shown,
  );
}
