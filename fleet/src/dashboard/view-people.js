// @ts-check
// People and their rights on locks: add, identify against an official document, enable,
// disable, delete; give and remove rights with each lock's confirmation.
import { allPages, api, errorText, optional } from "./api.js";
import { confirmed, h, table, toast } from "./dom.js";
import { t } from "./i18n.js";
import { change, containerName, me, role, store, viewArea, zoneOf } from "./state.js";
import { localToIso, shownZone, when } from "./time.js";

/** @typedef {import("./types.js").Person} Person */
/** @typedef {import("./types.js").Right} Right */

const DOCUMENT_TYPES = [
  ["idCard", "ID card"],
  ["passport", "Passport"],
  ["residencePermit", "Residence permit"],
  ["driversLicence", "Driver's licence"],
  ["serviceCard", "Service card"],
  ["other", "Other"],
];
const LOCK_ROLES = ["user", "manager", "courier", "service", "master"];
const PERSON_STATUS_WORDS = /** @type {Record<string, string>} */ ({
  registered: "registered",
  identified: "identified",
  enabled: "enabled",
  notYetValid: "not yet valid",
  expired: "expired",
  disabled: "disabled",
  deleted: "deleted",
});

/**
 * @typedef {{ id: string, deviceId: string, slot: number, split: boolean, pending: boolean }} PinLetter
 */

/**
 * A person's waiting PIN letters (initial code, keypad slot, container), each downloadable once
 * into `letterBox` for printing — or, with split delivery, each half once by a different officer.
 * @param {PinLetter[]} letters
 * @param {HTMLElement} letterBox
 */
function pinLetterButtons(letters, letterBox) {
  /**
   * @param {PinLetter} letter
   * @param {1 | 2 | undefined} half
   */
  const take = (letter, half) => async () => {
    try {
      const taken = await api(`/pin-letters/${encodeURIComponent(letter.id)}/download`, {
        method: "POST",
        body: half === undefined ? {} : { half },
      });
      letterBox.textContent = taken.text;
      letterBox.hidden = false;
      toast(t("PIN letter shown once: print it now"));
    } catch (error) {
      toast(errorText(error));
    }
  };
  return letters
    .filter((letter) => letter.pending)
    .flatMap((letter) =>
      (letter.split ? [/** @type {1} */ (1), /** @type {2} */ (2)] : [undefined]).map((half) =>
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            dataset: { pinLetter: letter.id },
            onclick: take(letter, half),
          },
          half === undefined
            ? t("PIN letter {lock} slot {slot}", {
                lock: letter.deviceId,
                slot: String(letter.slot),
              })
            : t("PIN letter {lock} slot {slot} (half {half})", {
                lock: letter.deviceId,
                slot: String(letter.slot),
                half: String(half),
              }),
        ),
      ),
    );
}

/** @param {string} [selectedId] the person whose rights stay open across redraws */
export async function people(selectedId) {
  const mayManage = role() === "securityAdmin";
  const mayIdentify = ["securityAdmin", "branchManager"].includes(role());
  const mayGrant = mayIdentify;
  const persons = /** @type {Person[]} */ (await allPages("/people"));
  /** @param {string} [id] */
  const redraw = (id) => () => people(id);
  const rightsBox = h(
    "section",
    { class: "card", id: "rights" },
    h("p", { class: "muted" }, t("Choose a person to see their rights on locks.")),
  );
  /** @param {Person} person */
  const showRights = (person) => async () => {
    const [rights, letters] = /** @type {[Right[], PinLetter[]]} */ (
      await Promise.all([
        optional(() =>
          api(`/rights?personId=${encodeURIComponent(person.id)}&includeRemoved=true`).then(
            (r) => r.items,
          ),
        ),
        optional(() =>
          api(`/pin-letters?personId=${encodeURIComponent(person.id)}`).then((r) => r.items),
        ),
      ])
    );
    // A PIN letter is shown once: downloaded into this box, printed from here, never again.
    const letterBox = h("pre", { id: "pin-letter", class: "card", hidden: true });
    const letterButtons = mayGrant
      ? pinLetterButtons(Array.isArray(letters) ? letters : [], letterBox)
      : [];
    const containers = h(
      "select",
      { name: "containerIds", multiple: true, required: true, size: 3 },
      store.containers.map((c) => h("option", { value: c.id }, c.name)),
    );
    const lockRole = h(
      "select",
      { name: "role" },
      LOCK_ROLES.map((r) => h("option", { value: r }, t(r))),
    );
    const validUntil = h("input", { name: "validUntil", type: "datetime-local" });
    const grantForm = h(
      "form",
      { class: "inline", id: "grant-right" },
      h("label", {}, `${t("Containers")} `, containers),
      h("label", {}, `${t("Role")} `, lockRole),
      h("label", {}, `${t("Valid until")} (${shownZone()}) `, validUntil),
      h("button", { type: "submit" }, t("Give right")),
    );
    grantForm.addEventListener(
      "submit",
      change(
        async () => {
          return api("/rights", {
            method: "POST",
            body: {
              personId: person.id,
              containerIds: [...containers.selectedOptions].map((o) => o.value),
              role: lockRole.value,
              ...(validUntil.value
                ? { validUntil: localToIso(validUntil.value, shownZone()) }
                : {}),
            },
          });
        },
        /** @param {{ proposal?: unknown } | undefined} answer */
        (answer) =>
          answer?.proposal
            ? t("Right for {name} proposed; a second officer approves it under Approvals", {
                name: person.name,
              })
            : t("Right given to {name}; the locks are told", { name: person.name }),
        redraw(person.id),
      ),
    );
    rightsBox.replaceChildren(
      h("h2", {}, t("Rights of {name}", { name: person.name })),
      table(
        [
          { label: t("Container"), render: (r) => containerName(r.containerId) },
          { label: t("Role"), render: (r) => t(r.role) },
          {
            label: t("Valid"),
            render: (r) =>
              `${r.validFrom ? when(r.validFrom, zoneOf(r.containerId)) : "—"} – ${r.validUntil ? when(r.validUntil, zoneOf(r.containerId)) : "—"}`,
          },
          {
            label: t("Locks confirmed"),
            render: (r) =>
              r.locks
                .map(
                  (/** @type {{ deviceId: string, slot: number, status: string }} */ p) =>
                    `${p.deviceId} (${t("slot {slot}", { slot: p.slot })}): ${t(p.status)}`,
                )
                .join(", "),
          },
          {
            label: t("Removed"),
            render: (r) =>
              r.removedAt
                ? `${when(r.removedAt, zoneOf(r.containerId))} (${r.removedReason ?? ""})`
                : mayGrant
                  ? h(
                      "button",
                      {
                        type: "button",
                        class: "secondary",
                        dataset: { removeRight: r.id },
                        onclick: change(
                          () => api(`/rights/${encodeURIComponent(r.id)}`, { method: "DELETE" }),
                          t("Right removed; the locks are told"),
                          redraw(person.id),
                        ),
                      },
                      t("Remove"),
                    )
                  : "",
          },
        ],
        Array.isArray(rights) ? rights : [],
        (r) => ({ dataset: { rightId: r.id } }),
      ),
      ...(letterButtons.length > 0 ? [h("p", { class: "row" }, ...letterButtons)] : []),
      letterBox,
      ...(mayGrant
        ? [
            person.status === "enabled"
              ? grantForm
              : h("p", { class: "muted" }, t("Rights are given to enabled people only.")),
          ]
        : []),
    );
  };

  /**
   * The next step of a person's lifecycle this account may take, as buttons.
   * @param {Person} p
   */
  const actions = (p) => {
    /** @type {HTMLElement[]} */
    const buttons = [
      h("button", { type: "button", class: "secondary", onclick: showRights(p) }, t("Rights")),
    ];
    if (p.status === "registered" && mayIdentify) {
      const documentType = h(
        "select",
        { name: "documentType", "aria-label": t("document") },
        DOCUMENT_TYPES.map(([value, label]) => h("option", { value }, t(label ?? ""))),
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
              t("{name} identified", { name: p.name }),
              redraw(p.id),
            ),
          },
          t("Identified"),
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
              /** @param {{ proposal?: unknown } | undefined} answer */
              (answer) =>
                answer?.proposal
                  ? t("Enabling {name} proposed; a second officer approves it under Approvals", {
                      name: p.name,
                    })
                  : t("{name} enabled", { name: p.name }),
              redraw(p.id),
            ),
          },
          t("Enable"),
        ),
      );
    }
    const isMe = p.id === me().principal.personId;
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
              t("{name} disabled; their rights are withdrawn from the locks", { name: p.name }),
              redraw(p.id),
            ),
          },
          t("Disable"),
        ),
      );
    }
    if (mayManage && !isMe && p.status !== "deleted") {
      const remove = change(
        () => api(`/people/${encodeURIComponent(p.id)}`, { method: "DELETE" }),
        t("{name} deleted", { name: p.name }),
        redraw(),
      );
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            dataset: { delete: p.id },
            /** @param {Event} event */
            onclick: (event) => {
              if (
                confirmed(
                  t("Delete {name}? Their rights are removed from every lock.", { name: p.name }),
                )
              )
                remove(event);
            },
          },
          t("Delete"),
        ),
      );
    }
    return h("span", { class: "row actions" }, buttons);
  };

  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const addForm = h(
    "form",
    { class: "inline", id: "add-person" },
    h("label", {}, `${t("Name")} `, name),
    h("button", { type: "submit" }, t("Add person")),
  );
  addForm.addEventListener(
    "submit",
    change(
      () => api("/people", { method: "POST", body: { name: name.value } }),
      t("Person added; identify them against an official document next"),
      redraw(),
    ),
  );

  viewArea().replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("People")),
      table(
        [
          { label: t("Name"), render: (p) => p.name },
          { label: t("Status"), render: (p) => t(PERSON_STATUS_WORDS[p.status] ?? p.status) },
          {
            label: t("Identified"),
            render: (p) =>
              p.identifiedAt
                ? `${when(p.identifiedAt)} (${t(DOCUMENT_TYPES.find(([v]) => v === p.documentType)?.[1] ?? "")})`
                : t("no"),
          },
          { label: t("Enabled"), render: (p) => (p.enabledAt ? when(p.enabledAt) : t("no")) },
          { label: t("Valid until"), render: (p) => when(p.validUntil) },
          { label: t("Actions"), render: actions },
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
