// @ts-check
// Live updates over Server-Sent Events: lock state and presence, alarms, window changes and
// what becomes of a central release at the lock.
import { connectLive, errorText } from "./api.js";
import { $, toast } from "./dom.js";
import { t } from "./i18n.js";
import { loadAlarms, store } from "./state.js";
import { alertIfNeeded, renderAlarms } from "./view-alarms.js";
import { refreshCentralRelease } from "./view-central-release.js";
import { refreshLockRow } from "./view-locks.js";
import { alarmWords } from "./words.js";

/**
 * @param {{ show: (view: string) => unknown, openDetail: (deviceId: string) => void }} views
 */
export function startLive(views) {
  const detail = store.me?.principal.orgKind === "bank" ? views.openDetail : undefined;
  /** @param {string} deviceId */
  const refresh = (deviceId) => {
    refreshLockRow(deviceId, detail);
    if (store.view === `lock/${deviceId}`) views.show(store.view);
  };
  store.disconnect = connectLive(
    {
      /** @param {{ deviceId: string, containerId?: string, state: import("./types.js").LockState }} event */
      state: ({ deviceId, containerId, state }) => {
        const lock = store.devices.get(deviceId) ?? {
          deviceId,
          containerId,
          availability: "online",
        };
        store.devices.set(deviceId, {
          ...lock,
          containerId: lock.containerId ?? containerId,
          state,
        });
        refreshLockRow(deviceId, detail);
      },
      /** @param {{ deviceId: string, containerId?: string, status: "online" | "offline", at?: string }} event */
      availability: ({ deviceId, containerId, status, at }) => {
        const lock = store.devices.get(deviceId) ?? { deviceId, containerId, state: null };
        store.devices.set(deviceId, {
          ...lock,
          availability: status,
          availabilityAt: at ?? new Date().toISOString(),
          // Availability events follow evidence (the lock's signed word, the fleet's own
          // probe): whatever hint the broker's last will gave is settled.
          availabilityHint: null,
        });
        refresh(deviceId);
      },
      /** @param {{ change: string, alarm: import("./types.js").FleetAlarm }} event */
      alarm: async ({ change, alarm }) => {
        if (change === "raised") toast(t("Alarm: {alarm}", { alarm: alarmWords(alarm.kind) }));
        try {
          await loadAlarms();
        } catch (error) {
          toast(errorText(error));
          return;
        }
        alertIfNeeded();
        refresh(alarm.deviceId);
        if (store.view === "alarms") await renderAlarms();
      },
      /** @param {{ deviceId: string }} event */
      centralRelease: ({ deviceId }) => refreshCentralRelease(deviceId),
      /** @param {{ type: string }} event */
      window: (event) => {
        if (store.view === "approvals" || store.view === "requests") views.show(store.view);
        else if (event.type === "window.requested")
          toast(t("A window request is waiting for approval"));
      },
    },
    (up) => {
      const live = $("live");
      live.hidden = false;
      live.classList.toggle("down", !up);
      live.textContent = up ? t("live") : t("reconnecting");
    },
  );
}
