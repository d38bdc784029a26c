/**
 * Alarms over HTTP: the tenant-scoped inbox with filters, one alarm with its history, and
 * acknowledgement with a mandatory comment; the service is `app.alarms` (alarms/plugin.ts).
 */
import { ALARM_KINDS, ALARM_PRIORITIES } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import type { AlarmScope, FleetAlarm } from "../alarms/alarm.js";
import { MAX_ACK_COMMENT } from "../alarms/alarm-service.js";
import { principalOf } from "../auth/authorize.js";
import type { Principal } from "../auth/principal.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";

/** Who reads alarms: the bank's security staff and auditors, and CIT dispatchers (own contracts). */
export const ALARM_READERS = [
  "securityAdmin",
  "branchManager",
  "auditor",
  "citDispatcher",
] as const;
/** Who takes charge of an alarm: the bank's security admin and branch managers. */
export const ALARM_ACKNOWLEDGERS = ["securityAdmin", "branchManager"] as const;

/** The alarms a principal may see (duress never reaches a CIT company). */
export function alarmScopeOf(app: FastifyInstance, principal: Principal): AlarmScope {
  if (principal.orgKind === "bank") {
    if (principal.role !== "branchManager") return { kind: "bank", orgId: principal.orgId };
    // a branch manager's alarms: those of their branches' containers
    const containerIds = (principal.branches ?? []).flatMap((branchId) =>
      app.repos.orgs
        .listContainers({ orgId: principal.orgId, branchId }, { limit: 200 })
        .items.map((container) => container.id),
    );
    return { kind: "bank", orgId: principal.orgId, containerIds };
  }
  return {
    kind: "cit",
    orgId: principal.orgId,
    containerIds: app.scope.citContainerIds(principal) ?? [],
  };
}

const Alarm = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  deviceId: Type.String(),
  containerId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.String(),
  priority: Type.String(),
  source: Type.String(),
  status: Type.String(),
  raisedAt: Type.String(),
  lastSeenAt: Type.String(),
  occurrences: Type.Integer(),
  auditSeq: Type.Union([Type.Integer(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  clearedAt: Type.Union([Type.String(), Type.Null()]),
  acknowledgedAt: Type.Union([Type.String(), Type.Null()]),
  acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
  ackComment: Type.Union([Type.String(), Type.Null()]),
  escalationLevel: Type.Integer(),
  escalatedAt: Type.Union([Type.String(), Type.Null()]),
  nextEscalationAt: Type.Union([Type.String(), Type.Null()]),
  actorName: Type.Optional(
    Type.String({ description: "name of the person at the lock, when the reader may see it" }),
  ),
  acknowledgedByName: Type.Optional(
    Type.String({ description: "name of the person who acknowledged, when the reader may see it" }),
  ),
});

const Instant = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$",
  description: "UTC instant",
});

const AlarmQuery = pageQueryWith({
  status: Type.Optional(Type.Union([Type.Literal("open"), Type.Literal("acknowledged")])),
  kind: Type.Optional(Type.Union(ALARM_KINDS.map((kind) => Type.Literal(kind)))),
  priority: Type.Optional(Type.Union(ALARM_PRIORITIES.map((p) => Type.Literal(p)))),
  deviceId: Type.Optional(Type.String({ maxLength: 64 })),
  containerId: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
});

const AckBody = Type.Object(
  { comment: Type.String({ minLength: 1, maxLength: MAX_ACK_COMMENT }) },
  { additionalProperties: false },
);

const History = Type.Array(
  Type.Object({
    at: Type.String(),
    event: Type.String(),
    actor: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.Unknown()),
  }),
);

export const alarmRoutes: FastifyPluginAsync = async (app) => {
  const readers = app.authorize(...ALARM_READERS);
  const acknowledgers = app.authorize(...ALARM_ACKNOWLEDGERS);

  /**
   * The alarm with the names of the person at the lock and of the acknowledger, so a control
   * room reads "Duress: Anna Weber" — only names of people the reader's organisation manages.
   */
  const withNames = (alarm: FleetAlarm, principal: Principal) => {
    const nameOf = (personId: string | null): string | undefined => {
      if (personId === null) return undefined;
      const person = app.repos.people.get(personId, app.clock());
      return person !== undefined && app.scope.manages(principal, person.orgId)
        ? person.name
        : undefined;
    };
    const actorName = nameOf(alarm.actor);
    const acknowledgedByName = nameOf(alarm.acknowledgedBy);
    return {
      ...alarm,
      ...(actorName === undefined ? {} : { actorName }),
      ...(acknowledgedByName === undefined ? {} : { acknowledgedByName }),
    };
  };

  app.get<{ Querystring: Static<typeof AlarmQuery> }>(
    "/alarms",
    {
      onRequest: readers,
      schema: {
        summary:
          "Alarms in my scope, oldest first; filter by status, kind, priority, lock, container, period",
        tags: ["alarms"],
        querystring: AlarmQuery,
        response: { 200: PageOf(Alarm) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const principal = principalOf(request);
      const page = app.alarms.list(alarmScopeOf(app, principal), filter, { limit, cursor });
      return { ...page, items: page.items.map((alarm) => withNames(alarm, principal)) };
    },
  );

  app.get<{ Params: { alarmId: string } }>(
    "/alarms/:alarmId",
    {
      onRequest: readers,
      schema: {
        summary:
          "One alarm with its history (raised, repeats, escalations, acknowledgement, forwarding)",
        tags: ["alarms"],
        params: idParams("alarmId"),
        response: { 200: Type.Object({ alarm: Alarm, history: History }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const scope = alarmScopeOf(app, principal);
      const alarm = app.alarms.get(request.params.alarmId, scope);
      return { alarm: withNames(alarm, principal), history: app.alarms.history(alarm.id, scope) };
    },
  );

  app.post<{ Params: { alarmId: string }; Body: Static<typeof AckBody> }>(
    "/alarms/:alarmId/ack",
    {
      onRequest: acknowledgers,
      schema: {
        summary: "Acknowledge an alarm; the comment says what was done",
        tags: ["alarms"],
        params: idParams("alarmId"),
        body: AckBody,
        response: { 200: Alarm },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const alarm = app.alarms.acknowledge(
        request.params.alarmId,
        alarmScopeOf(app, principal),
        principal.personId,
        request.body.comment,
      );
      app.adminLog.append({
        actor: principal.personId,
        action: "alarm.acknowledge",
        target: alarm.id,
        orgId: alarm.orgId,
        data: { kind: alarm.kind, deviceId: alarm.deviceId, comment: alarm.ackComment },
      });
      return withNames(alarm, principal);
    },
  );
};
