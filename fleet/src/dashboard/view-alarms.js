// @ts-check
// The control room's alarm inbox: alarms in words with person, branch and container, duress
// first and unmistakable, who acknowledged and when.
import { api, errorText } from "./api.js";
import { h, toast } from "./dom.js";
import { t } from "./i18n.js";
import {
  branchOf,
  containerName,
  loadAlarms,
  personNames,
  role,
  store,
  viewArea,
  zoneOf,
} from "./state.js";
import { when } from "./time.js";
import { alarmWords, priorityWords } from "./words.js";

/** @typedef {import("./types.js").FleetAlarm} FleetAlarm */

const DURESS = "forcedUser";
const PRIORITY_RANK = /** @type {Record<string, number>} */ ({
  critical: 1,
  high: 2,
  medium: 3,
  low: 4,
});

/** Sort rank, lowest first: duress above everything, then by priority. */
/** @param {FleetAlarm} alarm */
export function alarmRank(alarm) {
  return alarm.kind === DURESS ? 0 : (PRIORITY_RANK[alarm.priority] ?? 9);
}

/**
 * "Duress: Anna Weber at Filiale Marienplatz, Tresor".
 * @param {FleetAlarm} alarm
 * @param {(id: string | null | undefined) => string} name
 */
export function alarmSentence(alarm, name) {
  const branch = branchOf(alarm.containerId)?.name;
  const container = alarm.containerId ? containerName(alarm.containerId) : alarm.deviceId;
  const place = branch ? `${branch}, ${container}` : container;
  return alarm.actor
    ? t("{alarm}: {person} at {place}", {
        alarm: alarmWords(alarm.kind),
        person: alarm.actorName ?? name(alarm.actor),
        place,
      })
    : t("{alarm} at {place}", { alarm: alarmWords(alarm.kind), place });
}

export async function renderAlarms() {
  const canAck = ["securityAdmin", "branchManager"].includes(role());
  const names = await personNames();
  const open = store.alarms
    .filter((a) => a.status === "open")
    .sort((a, b) => alarmRank(a) - alarmRank(b) || b.lastSeenAt.localeCompare(a.lastSeenAt));
  const done = store.alarms
    .filter((a) => a.status === "acknowledged")
    .sort((a, b) => (b.acknowledgedAt ?? "").localeCompare(a.acknowledgedAt ?? ""))
    .slice(0, 50);
  /** @param {FleetAlarm} alarm */
  const item = (alarm) => {
    const zone = zoneOf(alarm.containerId);
    const branch = branchOf(alarm.containerId);
    return h(
      "li",
      {
        dataset: {
          alarmId: alarm.id,
          priority: alarm.priority,
          status: alarm.status,
          kind: alarm.kind,
          duress: alarm.kind === DURESS ? "true" : undefined,
        },
      },
      h(
        "div",
        { class: "row" },
        h("strong", { class: "alarm-text" }, alarmSentence(alarm, names.name)),
        h("span", { class: "priority" }, priorityWords(alarm.priority)),
        alarm.occurrences > 1 ? h("span", { class: "badge" }, `×${alarm.occurrences}`) : null,
        alarm.escalationLevel > 0
          ? h(
              "span",
              { class: "muted" },
              t("escalated to level {level}", { level: alarm.escalationLevel }),
            )
          : null,
        alarm.clearedAt ? h("span", { class: "muted" }, t("condition cleared")) : null,
      ),
      h(
        "div",
        { class: "muted" },
        [
          branch?.address ?? null,
          t("lock {lock}", { lock: alarm.deviceId }),
          t("raised {when}", { when: when(alarm.raisedAt, zone) }),
        ]
          .filter(Boolean)
          .join(" · "),
      ),
      alarm.status === "acknowledged"
        ? h(
            "div",
            { class: "acknowledged" },
            t("Acknowledged by {person} at {when}: {comment}", {
              person: alarm.acknowledgedByName ?? names.name(alarm.acknowledgedBy),
              when: when(alarm.acknowledgedAt, zone),
              comment: alarm.ackComment ?? "",
            }),
          )
        : canAck
          ? ackForm(alarm)
          : null,
    );
  };
  viewArea().replaceChildren(
    h(
      "section",
      { class: "card" },
      h("div", { class: "row spread" }, h("h1", {}, t("Alarm inbox")), soundToggle()),
      h(
        "ul",
        { class: "alarms", id: "open-alarms" },
        open.length === 0 ? h("li", { class: "muted" }, t("No open alarms.")) : open.map(item),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("Recently acknowledged")),
      h(
        "ul",
        { class: "alarms", id: "acknowledged-alarms" },
        done.length === 0
          ? h("li", { class: "muted" }, t("No alarm acknowledged in the last seven days."))
          : done.map(item),
      ),
    ),
  );
}

/** @param {FleetAlarm} alarm */
function ackForm(alarm) {
  const comment = h("textarea", {
    name: "comment",
    rows: 2,
    required: true,
    maxlength: 2000,
    placeholder: t("What was done (required)"),
    "aria-label": t("Comment"),
  });
  comment.value = store.ackDrafts.get(alarm.id) ?? "";
  comment.addEventListener("input", () => store.ackDrafts.set(alarm.id, comment.value));
  return h(
    "form",
    {
      class: "ack",
      /** @param {Event} event */
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api(`/alarms/${encodeURIComponent(alarm.id)}/ack`, {
            method: "POST",
            body: { comment: comment.value },
          });
          store.ackDrafts.delete(alarm.id);
          toast(t("Alarm acknowledged"));
          await loadAlarms();
          await renderAlarms();
        } catch (error) {
          toast(errorText(error));
        }
      },
    },
    comment,
    h("button", { type: "submit" }, t("Acknowledge")),
  );
}

// --- sound and title: an open duress or critical alarm is hard to miss ---

const MUTE_KEY = "lockfleet.alarmSoundMuted";

function muted() {
  return localStorage.getItem(MUTE_KEY) === "true";
}

function soundToggle() {
  const button = h(
    "button",
    { type: "button", class: "secondary", id: "alarm-sound", "aria-pressed": String(!muted()) },
    muted() ? t("Sound off") : t("Sound on"),
  );
  button.addEventListener("click", () => {
    localStorage.setItem(MUTE_KEY, String(!muted()));
    button.textContent = muted() ? t("Sound off") : t("Sound on");
    button.setAttribute("aria-pressed", String(!muted()));
    if (muted()) stopAlerting();
    else alertIfNeeded();
  });
  return button;
}

/** @type {AudioContext | null} */
let audio = null;
/** @type {ReturnType<typeof setInterval> | null} */
let alertTimer = null;
const baseTitle = document.title;

function beep() {
  if (muted()) return;
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.2;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch {
    // a browser without audio (or before any click on the page) stays silent; the title still flashes
  }
}

function stopAlerting() {
  if (alertTimer !== null) clearInterval(alertTimer);
  alertTimer = null;
  document.title = baseTitle;
  document.body.classList.remove("duress-open");
}

/** While an open duress or critical alarm stands: title flashes, sound unless muted. */
export function alertIfNeeded() {
  const open = store.alarms.filter((a) => a.status === "open");
  const duress = open.some((a) => a.kind === DURESS);
  const critical = duress || open.some((a) => a.priority === "critical");
  document.body.classList.toggle("duress-open", duress);
  if (!critical) {
    stopAlerting();
    return;
  }
  if (alertTimer !== null) return;
  let flip = false;
  const text = duress ? t("DURESS") : t("ALARM");
  alertTimer = setInterval(() => {
    flip = !flip;
    document.title = flip ? `⚠ ${text} ⚠` : baseTitle;
    if (flip) beep();
  }, 1000);
}
