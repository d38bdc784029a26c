// @ts-check
// Window requests (CIT): the company's windows with their stage, and for the dispatcher a
// request form that picks the crew by name, warns when the crew is too small for the
// container's dual control and says what is wrong in words before anything is sent.
import { allPages, api, errorText, optional } from "./api.js";
import { confirmed, h, table, toast } from "./dom.js";
import { t } from "./i18n.js";
import { containerName, containerOf, me, role, store, viewArea, zoneOf } from "./state.js";
import { localToIso, shownZone, when } from "./time.js";
import { windowTable } from "./windows.js";

/** @typedef {import("./types.js").Window} Window */
/** @typedef {import("./types.js").Person} Person */

/** People a lock's dual control asks for. */
const EYES = /** @type {Record<string, number>} */ ({ single: 1, dual: 2, triple: 3 });

export async function requests() {
  const [windows, notifications, people] = await Promise.all([
    optional(() => allPages("/windows", 500)),
    optional(() => allPages("/windows/notifications", 100)),
    optional(() => allPages("/people")),
  ]);
  const list = /** @type {Window[]} */ (windows);
  list.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  const codes = h("div", { id: "window-codes" });
  const names = new Map(/** @type {Person[]} */ (people).map((p) => [p.id, p.name]));
  /** One-time codes for a lock the network does not reach: shown once, to the dispatcher. */
  const showCodes = (/** @type {Window} */ w) =>
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        dataset: { codes: w.id },
        onclick: async () => {
          if (!confirmed(t("Show the one-time codes now? They are shown only once."))) return;
          try {
            const answer = await api(`/windows/${encodeURIComponent(w.id)}/codes`, {
              method: "POST",
            });
            codes.replaceChildren(
              h(
                "h2",
                {},
                t("One-time codes for {container}", { container: containerName(w.containerId) }),
              ),
              h(
                "p",
                { class: "warning" },
                t("Shown once. Pass each code to its crew member only."),
              ),
              table(
                [
                  { label: t("Crew member"), render: (c) => names.get(c.personId) ?? c.personId },
                  { label: t("Lock"), render: (c) => c.deviceId },
                  { label: t("Code"), render: (c) => h("code", { class: "token" }, c.code) },
                ],
                answer.codes,
              ),
              h(
                "p",
                { class: "muted" },
                t("valid {from} – {to}", {
                  from: when(answer.notBefore, zoneOf(w.containerId)),
                  to: when(answer.notAfter, zoneOf(w.containerId)),
                }),
              ),
            );
          } catch (error) {
            codes.replaceChildren(h("p", { class: "error" }, errorText(error)));
          }
        },
      },
      t("One-time codes"),
    );
  const dispatcher = role() === "citDispatcher";
  const sections = [
    h(
      "section",
      { class: "card" },
      h("h1", {}, t("Window requests")),
      windowTable(
        list,
        dispatcher
          ? (w) =>
              ["approved", "active"].includes(w.status) && Date.parse(w.notAfter) > Date.now()
                ? showCodes(w)
                : ""
          : null,
      ),
      codes,
    ),
  ];
  if (role() === "citDispatcher") {
    const crew = /** @type {Person[]} */ (people).filter(
      (p) => p.status === "enabled" && p.id !== me().principal.personId,
    );
    sections.push(
      h("section", { class: "card" }, h("h2", {}, t("New request")), requestForm(crew)),
    );
  }
  viewArea().replaceChildren(
    ...sections,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("Notices")),
      table(
        [
          { label: t("When"), render: (n) => when(n.createdAt) },
          { label: t("Notice"), render: (n) => n.message },
        ],
        /** @type {import("./types.js").WindowNotice[]} */ (notifications),
      ),
    ),
  );
}

/** @param {Person[]} crewPeople enabled members of the company, the dispatcher left out */
function requestForm(crewPeople) {
  const container = h(
    "select",
    { name: "containerId", required: true },
    store.containers.map((c) => h("option", { value: c.id }, c.name)),
  );
  const notBefore = h("input", { name: "notBefore", type: "datetime-local", required: true });
  const notAfter = h("input", { name: "notAfter", type: "datetime-local", required: true });
  const purpose = h("input", { name: "purpose", required: true, maxlength: 200 });
  const zoneNote = h("span", { class: "muted", id: "request-zone" });
  const crewBoxes = crewPeople.map((p) =>
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "crew", value: p.id }),
      ` ${p.name}`,
    ),
  );
  const warning = h("p", { class: "warning", id: "crew-warning", role: "status" });
  const problem = h("p", { class: "error", id: "request-problem", role: "alert" });
  const chosenCrew = () =>
    crewBoxes
      .map((label) => label.querySelector("input"))
      .filter((input) => input?.checked)
      .map((input) => input?.value ?? "");
  const zone = () => zoneOf(container.value) ?? shownZone();
  const check = () => {
    const policy = containerOf(container.value)?.policy;
    const needed = EYES[policy?.dualControl ?? "single"] ?? 1;
    const chosen = chosenCrew().length;
    zoneNote.textContent = t("times in {zone}", { zone: zone() });
    warning.textContent =
      chosen > 0 && chosen < needed
        ? t(
            "This container needs {needed} people to open (dual control); with {chosen} in the crew it cannot be opened.",
            { needed, chosen },
          )
        : "";
  };
  container.addEventListener("change", check);
  for (const label of crewBoxes) label.addEventListener("change", check);
  const form = h(
    "form",
    { class: "stacked", id: "request-window" },
    h("label", {}, `${t("Container")} `, container),
    h(
      "div",
      { class: "row" },
      h("label", {}, `${t("From")} `, notBefore),
      h("label", {}, `${t("To")} `, notAfter),
      zoneNote,
    ),
    h(
      "fieldset",
      { id: "crew-picker" },
      h("legend", {}, t("Crew")),
      crewBoxes.length === 0
        ? h("p", { class: "muted" }, t("No enabled crew members in your company."))
        : crewBoxes,
    ),
    warning,
    h("label", {}, `${t("Purpose")} `, purpose),
    h("button", { type: "submit" }, t("Request window")),
    problem,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const crew = chosenCrew();
    const from = notBefore.value ? localToIso(notBefore.value, zone()) : "";
    const to = notAfter.value ? localToIso(notAfter.value, zone()) : "";
    const problems = [
      !from || !to ? t("Give the start and the end of the window.") : null,
      from && to && to <= from ? t("The window must end after it starts.") : null,
      to && Date.parse(to) <= Date.now() ? t("The window must end in the future.") : null,
      crew.length === 0 ? t("Choose at least one crew member.") : null,
      purpose.value.trim() === "" ? t("Say what the visit is for.") : null,
    ].filter(Boolean);
    problem.textContent = problems.join(" ");
    if (problems.length > 0) return;
    try {
      await api("/windows", {
        method: "POST",
        body: {
          containerId: container.value,
          notBefore: from,
          notAfter: to,
          crew,
          purpose: purpose.value.trim(),
        },
      });
      toast(t("Window requested"));
      await requests();
    } catch (error) {
      problem.textContent = errorText(error);
    }
  });
  check();
  return form;
}
