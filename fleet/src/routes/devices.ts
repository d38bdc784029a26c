/**
 * Locks (SPEC §5): list and inspect them with their live state, send the remote functions a
 * person may trigger directly, read a lock's verified audit trail, rotate the fleet key.
 * Everything is scoped through the lock's container: a bank sees its own, a CIT company only
 * those under a contract in force.
 */
import { AuditRecord, CommandResult, LockState } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { principalOf } from "../auth/authorize.js";
import {
  inBranchScope,
  type Principal,
  ROLES,
  type Role,
  SYSTEM_ACTOR,
} from "../auth/principal.js";
import type { DeviceSummary } from "../devices/hub.js";
import { FleetError, notFound, outOfScope } from "../errors.js";

const DeviceView = Type.Object({
  deviceId: Type.String(),
  orgId: Type.String(),
  containerId: Type.String(),
  hardwareProfile: Type.String(),
  firmware: Type.String(),
  enrolledAt: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("retired")]),
  availability: Type.Union([
    Type.Literal("unknown"),
    Type.Literal("online"),
    Type.Literal("offline"),
  ]),
  availabilityAt: Type.Union([Type.String(), Type.Null()]),
  /** The broker's last will, not yet confirmed by the lock's silence: a hint, not evidence. */
  availabilityHint: Type.Union([
    Type.Object({ status: Type.Literal("offline"), at: Type.String() }),
    Type.Null(),
  ]),
  state: Type.Union([LockState, Type.Null()]),
  auditHeadSeq: Type.Integer(),
  clockDriftMs: Type.Union([Type.Integer(), Type.Null()]),
  trustedKeyIds: Type.Array(Type.String()),
  stateSince: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description: "lock time of the newest audit record that changed the lock's state",
    }),
  ),
});

const DeviceParams = Type.Object({
  deviceId: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" }),
});
type DeviceParams = Static<typeof DeviceParams>;

const DeviceQuery = Type.Object(
  { containerId: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

const WaitMs = Type.Optional(
  Type.Integer({
    minimum: 0,
    maximum: 30_000,
    default: 0,
    description: "Wait this long for the lock's answer",
  }),
);

/** The remote functions sent directly from the API; the rest go through their own flows. */
const CommandRequest = Type.Union([
  Type.Object(
    {
      type: Type.Literal("remote.block"),
      reason: Type.String({ minLength: 1, maxLength: 200 }),
      waitMs: WaitMs,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal("remote.unblock"), waitMs: WaitMs },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal("timeLock.immediate"),
      minutes: Type.Integer({ minimum: 1, maximum: 144 * 60 }),
      waitMs: WaitMs,
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal("time.sync"), waitMs: WaitMs }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal("selfTest.request"), waitMs: WaitMs },
    { additionalProperties: false },
  ),
]);
type CommandRequest = Static<typeof CommandRequest>;

/** Who may trigger which remote function (securityAdmin all of them). */
const COMMAND_ROLES: Record<CommandRequest["type"], readonly Role[]> = {
  "remote.block": ["securityAdmin", "branchManager"],
  "remote.unblock": ["securityAdmin"],
  "timeLock.immediate": ["securityAdmin", "branchManager"],
  "time.sync": ["securityAdmin", "branchManager", "technician"],
  "selfTest.request": ["securityAdmin", "branchManager", "technician"],
};
const COMMANDERS = [...new Set(Object.values(COMMAND_ROLES).flat())];

const CommandAnswer = Type.Object({
  commandId: Type.String(),
  status: Type.Union([Type.Literal("sent"), Type.Literal("ok"), Type.Literal("error")]),
  result: Type.Union([CommandResult, Type.Null()]),
});

const AuditQuery = Type.Object(
  {
    afterSeq: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

const AuditPage = Type.Object({
  items: Type.Array(AuditRecord),
  /** Pass as `afterSeq` for the next page; null at the end. */
  nextAfterSeq: Type.Union([Type.Integer(), Type.Null()]),
});

export const deviceRoutes: FastifyPluginAsync = async (app) => {
  const stateSince = app.store.readModels.stateSince;
  const withSince = (device: DeviceSummary) => ({
    ...device,
    stateSince: stateSince(device.deviceId),
  });
  /** The lock, if the principal may see its container (404 otherwise, as if it did not exist). */
  function visibleDevice(principal: Principal, deviceId: string): DeviceSummary {
    const device = app.hub.device(deviceId);
    if (device === undefined) throw notFound("lock", deviceId);
    try {
      app.scope.container(principal, device.containerId);
    } catch {
      throw outOfScope("lock", deviceId, device.orgId);
    }
    return device;
  }

  function ownedDevice(request: FastifyRequest<{ Params: DeviceParams }>): DeviceSummary {
    const principal = principalOf(request);
    const device = visibleDevice(principal, request.params.deviceId);
    if (device.orgId !== principal.orgId) {
      throw new FleetError("E_FORBIDDEN", "only the bank that owns a lock commands it", 403);
    }
    return device;
  }

  app.get<{ Querystring: Static<typeof DeviceQuery> }>(
    "/devices",
    {
      onRequest: app.authorize(...ROLES),
      schema: {
        summary: "Locks I can see, with live state",
        tags: ["devices"],
        querystring: DeviceQuery,
        response: { 200: Type.Object({ items: Type.Array(DeviceView) }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const cit = app.scope.citContainerIds(principal);
      let items: DeviceSummary[];
      if (cit === undefined) {
        // a branch manager sees the locks of their branches only
        items = app.hub.devices(principal.orgId).filter((device) => {
          const container = app.repos.orgs.getContainer(device.containerId);
          return container !== undefined && inBranchScope(principal, container.branchId);
        });
      } else {
        const allowed = new Set(cit);
        const banks = new Set(cit.map((id) => app.scope.container(principal, id).orgId));
        items = [...banks]
          .flatMap((orgId) => app.hub.devices(orgId))
          .filter((device) => allowed.has(device.containerId));
      }
      const containerId = request.query.containerId;
      if (containerId !== undefined)
        items = items.filter((device) => device.containerId === containerId);
      return { items: items.map(withSince) };
    },
  );

  app.get<{ Params: DeviceParams }>(
    "/devices/:deviceId",
    {
      onRequest: app.authorize(...ROLES),
      schema: {
        summary: "One lock with its live state",
        tags: ["devices"],
        params: DeviceParams,
        response: { 200: DeviceView },
      },
    },
    async (request) => withSince(visibleDevice(principalOf(request), request.params.deviceId)),
  );

  app.post<{ Params: DeviceParams; Body: CommandRequest }>(
    "/devices/:deviceId/commands",
    {
      onRequest: app.authorize(...COMMANDERS),
      schema: {
        summary:
          "Send a remote function to a lock: block, unblock, immediate time lock, time sync, self-test",
        tags: ["devices"],
        params: DeviceParams,
        body: CommandRequest,
        response: { 202: CommandAnswer },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const command = request.body;
      if (!COMMAND_ROLES[command.type].includes(principal.role)) {
        throw new FleetError(
          "E_FORBIDDEN",
          `role ${principal.role} may not send ${command.type}`,
          403,
        );
      }
      const device = ownedDevice(request);
      const waitMs = command.waitMs ?? 0;
      const now = app.clock();
      const issued = await (() => {
        switch (command.type) {
          case "remote.block":
            return app.hub.issueCommand(
              device.deviceId,
              command.type,
              { reason: command.reason },
              { waitMs },
            );
          case "remote.unblock":
            return app.hub.issueCommand(
              device.deviceId,
              command.type,
              { approvedBy: [principal.personId] },
              { waitMs },
            );
          case "timeLock.immediate":
            return app.hub.issueCommand(
              device.deviceId,
              command.type,
              { minutes: command.minutes },
              { waitMs },
            );
          case "time.sync":
            return app.hub.issueCommand(
              device.deviceId,
              command.type,
              { time: new Date(now).toISOString() },
              { waitMs, ttlMs: 60_000 },
            );
          case "selfTest.request":
            return app.hub.issueCommand(device.deviceId, command.type, {}, { waitMs });
        }
      })();
      app.adminLog.append({
        actor: principal.personId,
        action: `device.command.${command.type}`,
        target: device.deviceId,
        orgId: device.orgId,
        data: {
          commandId: issued.commandId,
          ...(command.type === "remote.block" ? { reason: command.reason } : {}),
        },
      });
      return reply.code(202).send({
        commandId: issued.commandId,
        status: issued.result?.status ?? "sent",
        result: issued.result ?? null,
      });
    },
  );

  app.get<{ Params: DeviceParams; Querystring: Static<typeof AuditQuery> }>(
    "/devices/:deviceId/audit",
    {
      onRequest: app.authorize("securityAdmin", "branchManager", "auditor"),
      schema: {
        summary: "The lock's verified audit trail, in seq order",
        tags: ["devices"],
        params: DeviceParams,
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (request) => {
      const device = visibleDevice(principalOf(request), request.params.deviceId);
      const limit = request.query.limit ?? 100;
      const items = app.hub.auditRecords(device.deviceId, request.query.afterSeq ?? 0, limit);
      const last = items[items.length - 1];
      return {
        items,
        nextAfterSeq: items.length === limit && last !== undefined ? last.seq : null,
      };
    },
  );

  app.post(
    "/fleet-keys/rotate",
    {
      onRequest: app.authorize("securityAdmin"),
      schema: {
        summary: "Rotate the fleet signing key (installed on every lock before it is used)",
        tags: ["devices"],
        response: {
          200: Type.Object({
            keyId: Type.String(),
            confirmed: Type.Integer(),
            pending: Type.Integer(),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const rotated = await app.hub.rotateFleetKey();
      const own = rotated.byOrg.get(principal.orgId) ?? { confirmed: 0, pending: 0 };
      app.adminLog.append({
        actor: principal.personId,
        action: "fleetKey.rotate",
        target: rotated.keyId,
        orgId: principal.orgId,
        data: own,
      });
      // The key is the fleet's, so every other organisation's locks took it too: each finds
      // the rotation in its own log, with its own locks' counts and without the initiator's
      // name or anything of the initiating organisation.
      for (const [orgId, counts] of rotated.byOrg) {
        if (orgId === principal.orgId) continue;
        app.adminLog.append({
          actor: SYSTEM_ACTOR,
          action: "fleetKey.rotated",
          target: rotated.keyId,
          orgId,
          data: counts,
        });
      }
      return { keyId: rotated.keyId, ...own };
    },
  );
};
