/**
 * People lifecycle (SPEC §1, §5): registered → identified once (by whom, against which document
 * type) → enabled, possibly only for a time (automatic expiry) → disabled or deleted. Every
 * change goes to the admin log and out as a `person` event on `app.coreEvents`, which the rights
 * part turns into signed commands for every lock that holds the person.
 */
import { EventEmitter } from "node:events";
import { parseInstant } from "@lockfleet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { documentReferenceHash } from "../auth/keys.js";
import type { Principal } from "../auth/principal.js";
import { SYSTEM_ACTOR } from "../auth/principal.js";
import { conflict, FleetError, notFound } from "../errors.js";
import {
  DOCUMENT_TYPES,
  PERSON_STATUSES,
  type Person,
  type PersonStatus,
} from "../storage/people-repository.js";
import { idParams, PageOf, pageQueryWith } from "./common.js";
import { ProposalAccepted, proposalView } from "./proposals.js";

export type PersonAction = "create" | "identify" | "enable" | "disable" | "expire" | "delete";

/** What other parts hear about a person: enough to find the locks that hold them. */
export interface PersonChange {
  personId: string;
  orgId: string;
  action: PersonAction;
  status: PersonStatus;
  /** Person id of who acted, or `system` for an automatic expiry. */
  by: string;
}

export class CoreEvents extends EventEmitter<{ person: [PersonChange] }> {}

const Instant = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$",
  description: "UTC instant",
});
const DocumentType = Type.Union(DOCUMENT_TYPES.map((type) => Type.Literal(type)));
export const PersonView = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  name: Type.String(),
  status: Type.Union(PERSON_STATUSES.map((status) => Type.Literal(status))),
  createdAt: Type.String(),
  createdBy: Type.String(),
  identifiedBy: Type.Optional(Type.String()),
  identifiedAt: Type.Optional(Type.String()),
  documentType: Type.Optional(DocumentType),
  documentReferenceKept: Type.Boolean(),
  enabledBy: Type.Optional(Type.String()),
  enabledAt: Type.Optional(Type.String()),
  disabledBy: Type.Optional(Type.String()),
  disabledAt: Type.Optional(Type.String()),
  validFrom: Type.Optional(Type.String()),
  validUntil: Type.Optional(Type.String()),
  expiredAt: Type.Optional(Type.String()),
  deletedBy: Type.Optional(Type.String()),
  deletedAt: Type.Optional(Type.String()),
});
const CreatePersonBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    orgId: Type.Optional(
      Type.String({ maxLength: 64, description: "Defaults to my organisation" }),
    ),
  },
  { additionalProperties: false },
);
const IdentifyBody = Type.Object(
  {
    documentType: DocumentType,
    documentNumber: Type.Optional(
      Type.String({
        minLength: 3,
        maxLength: 64,
        description: "Kept only as a keyed hash, to notice the same document used twice",
      }),
    ),
  },
  { additionalProperties: false },
);
const EnableBody = Type.Object(
  { validFrom: Type.Optional(Instant), validUntil: Type.Optional(Instant) },
  { additionalProperties: false },
);
const PeopleQuery = pageQueryWith({
  orgId: Type.Optional(Type.String({ maxLength: 64 })),
  includeDeleted: Type.Optional(Type.Boolean()),
});
const PersonParams = idParams("personId");

/** Marks people whose temporary validity ran out; run by a timer and callable from tests. */
export function sweepExpiredPeople(app: FastifyInstance): PersonChange[] {
  const now = app.clock();
  const changes: PersonChange[] = [];
  for (const person of app.repos.people.dueForExpiry(now)) {
    app.store.transaction(() => {
      app.repos.people.markExpired(person.id, now);
      app.adminLog.append({
        actor: SYSTEM_ACTOR,
        action: "person.expire",
        target: person.id,
        orgId: person.orgId,
        data: { validUntil: person.validUntil },
      });
    });
    const change: PersonChange = {
      personId: person.id,
      orgId: person.orgId,
      action: "expire",
      status: "expired",
      by: SYSTEM_ACTOR,
    };
    changes.push(change);
    app.coreEvents.emit("person", change);
  }
  return changes;
}

export const peopleRoutes: FastifyPluginAsync = async (app) => {
  const { people, users } = app.repos;
  const readers = app.authorize("securityAdmin", "branchManager", "auditor", "citDispatcher");
  const managers = app.authorize("securityAdmin", "citDispatcher");
  const identifiers = app.authorize("securityAdmin", "branchManager", "citDispatcher");

  /** The person, if the principal's organisation manages theirs. */
  const personInScope = (principal: Principal, personId: string): Person => {
    const person = people.get(personId, app.clock());
    if (person === undefined || !app.scope.manages(principal, person.orgId)) {
      throw notFound("person", personId);
    }
    return person;
  };
  const notSelf = (principal: Principal, person: Person, what: string) => {
    if (principal.personId === person.id) {
      throw new FleetError("E_SELF_APPROVAL", `nobody may ${what} themselves`, 403);
    }
  };
  /**
   * The person a change is about: in scope and not deleted; when `selfAction` is named, the
   * principal may not do it to themselves.
   */
  const personToChange = (principal: Principal, personId: string, selfAction?: string): Person => {
    const person = personInScope(principal, personId);
    if (selfAction !== undefined) notSelf(principal, person, selfAction);
    if (person.status === "deleted")
      throw conflict("E_PERSON_DELETED", `person ${person.id} was deleted`);
    return person;
  };
  /**
   * A change to a person and its admin-log entry, in one transaction: a log entry that cannot
   * be written takes the change back. The parts that follow people hear of it after the commit.
   */
  const record = (
    principal: Principal,
    action: PersonAction,
    data: Record<string, unknown>,
    change: () => Person,
  ) => {
    const person = app.store.transaction(() => {
      const changed = change();
      app.adminLog.append({
        actor: principal.personId,
        action: `person.${action}`,
        target: changed.id,
        orgId: changed.orgId,
        data,
      });
      return changed;
    });
    const after = people.get(person.id, app.clock()) as Person;
    app.coreEvents.emit("person", {
      personId: person.id,
      orgId: person.orgId,
      action,
      status: after.status,
      by: principal.personId,
    });
    return after;
  };

  app.get<{ Querystring: Static<typeof PeopleQuery> }>(
    "/people",
    {
      onRequest: readers,
      schema: { tags: ["people"], querystring: PeopleQuery, response: { 200: PageOf(PersonView) } },
    },
    async (request) => {
      const principal = principalOf(request);
      const { orgId, includeDeleted, ...page } = request.query;
      const target = orgId ?? principal.orgId;
      if (!app.scope.manages(principal, target)) throw notFound("organisation", target);
      return people.list(
        { orgIds: [target], now: app.clock(), includeDeleted: includeDeleted ?? false },
        page,
      );
    },
  );

  app.get<{ Params: { personId: string } }>(
    "/people/:personId",
    {
      onRequest: readers,
      schema: { tags: ["people"], params: PersonParams, response: { 200: PersonView } },
    },
    async (request) => personInScope(principalOf(request), request.params.personId),
  );

  app.post<{ Body: Static<typeof CreatePersonBody> }>(
    "/people",
    {
      onRequest: managers,
      schema: {
        summary: "Register a person (to be identified, then enabled)",
        tags: ["people"],
        body: CreatePersonBody,
        response: { 201: PersonView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const orgId = request.body.orgId ?? principal.orgId;
      if (!app.scope.manages(principal, orgId)) throw notFound("organisation", orgId);
      const person = record(principal, "create", { name: request.body.name }, () =>
        people.create({
          orgId,
          name: request.body.name,
          createdBy: principal.personId,
          now: app.clock(),
        }),
      );
      return reply.code(201).send(person);
    },
  );

  app.post<{ Params: { personId: string }; Body: Static<typeof IdentifyBody> }>(
    "/people/:personId/identify",
    {
      onRequest: identifiers,
      schema: {
        summary: "Record that the person was identified (once), against which document type",
        tags: ["people"],
        params: PersonParams,
        body: IdentifyBody,
        response: { 200: PersonView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const person = personToChange(principal, request.params.personId, "identify");
      if (person.identifiedAt !== undefined) {
        throw conflict(
          "E_ALREADY_IDENTIFIED",
          `person ${person.id} was identified on ${person.identifiedAt} by ${person.identifiedBy}`,
        );
      }
      const { documentType, documentNumber } = request.body;
      const documentRefHash =
        documentNumber === undefined
          ? undefined
          : documentReferenceHash(app.authSettings.documentKey, documentType, documentNumber);
      if (documentRefHash !== undefined) {
        const other = people.findByDocumentHash(person.orgId, documentRefHash);
        if (other !== undefined) {
          throw conflict("E_DOCUMENT_IN_USE", `this document already identifies person ${other}`);
        }
      }
      return record(principal, "identify", { documentType }, () => {
        people.identify(person.id, {
          by: principal.personId,
          documentType,
          ...(documentRefHash === undefined ? {} : { documentRefHash }),
          now: app.clock(),
        });
        return person;
      });
    },
  );

  /** Validity from the enable body, checked; throws E_SCHEMA / E_VALIDITY. */
  const validityOf = (body: Static<typeof EnableBody>) => {
    const { validFrom, validUntil } = body;
    const from = validFrom === undefined ? undefined : parseInstant(validFrom);
    const until = validUntil === undefined ? undefined : parseInstant(validUntil);
    if (Number.isNaN(from) || Number.isNaN(until)) {
      throw new FleetError("E_SCHEMA", "validFrom/validUntil must be real UTC instants");
    }
    if (until !== undefined && until <= Math.max(from ?? 0, app.clock())) {
      throw new FleetError("E_VALIDITY", "validUntil must lie after validFrom and in the future");
    }
    return { validFrom, validUntil };
  };

  const enablePerson = (
    actor: Principal,
    person: Person,
    validity: { validFrom?: string | undefined; validUntil?: string | undefined },
    proposal?: { id: string; proposedBy: string },
  ): Person =>
    record(
      actor,
      "enable",
      {
        validFrom: validity.validFrom,
        validUntil: validity.validUntil,
        ...(proposal === undefined
          ? {}
          : { proposalId: proposal.id, proposedBy: proposal.proposedBy }),
      },
      () => {
        people.enable(person.id, {
          by: actor.personId,
          now: app.clock(),
          validFrom: validity.validFrom ?? null,
          validUntil: validity.validUntil ?? null,
        });
        if (proposal !== undefined) people.setEnableProposal(person.id, proposal.id);
        return person;
      },
    );

  app.post<{ Params: { personId: string }; Body: Static<typeof EnableBody> }>(
    "/people/:personId/enable",
    {
      onRequest: managers,
      schema: {
        summary:
          "Enable an identified person, optionally only from/until a time; for a bank person a proposal (202) a second officer approves",
        tags: ["people"],
        params: PersonParams,
        body: EnableBody,
        response: { 200: PersonView, 202: ProposalAccepted },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const person = personToChange(principal, request.params.personId, "enable");
      if (person.identifiedAt === undefined) {
        throw conflict(
          "E_NOT_IDENTIFIED",
          `person ${person.id} must be identified before being enabled`,
        );
      }
      const validity = validityOf(request.body);
      if (app.repos.orgs.getOrg(person.orgId)?.kind === "bank") {
        // identify, then enable: a bank person's enabling is a second officer's decision
        const proposal = app.proposals.propose(principal, {
          orgId: person.orgId,
          kind: "person.enable",
          subjectPersonId: person.id,
          payload: { personId: person.id, ...validity },
          summary: `enable ${person.name}`,
        });
        return reply.code(202).send({ proposal: proposalView(proposal) });
      }
      return enablePerson(principal, person, validity);
    },
  );

  app.proposals.register("person.enable", async (proposal, approver) => {
    // the payload was written by this route's own proposal above
    const p = proposal.payload as unknown as {
      personId: string;
      validFrom?: string;
      validUntil?: string;
    };
    const person = people.get(p.personId, app.clock());
    if (person === undefined || person.status === "deleted") {
      throw conflict("E_PERSON_DELETED", `person ${p.personId} no longer exists`);
    }
    const enabled = enablePerson(approver, person, p, proposal);
    return { answer: enabled, result: { personId: person.id } };
  });

  app.post<{ Params: { personId: string } }>(
    "/people/:personId/disable",
    {
      onRequest: managers,
      schema: {
        summary: "Disable a person: their logins stop and their lock rights are withdrawn",
        tags: ["people"],
        params: PersonParams,
        response: { 200: PersonView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const person = personToChange(principal, request.params.personId);
      return record(principal, "disable", {}, () => {
        people.disable(person.id, { by: principal.personId, now: app.clock() });
        return person;
      });
    },
  );

  app.delete<{ Params: { personId: string } }>(
    "/people/:personId",
    {
      onRequest: managers,
      schema: {
        summary: "Delete a person (the record stays for the audit trail; accounts are closed)",
        tags: ["people"],
        params: PersonParams,
        response: { 200: PersonView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const person = personToChange(principal, request.params.personId, "delete");
      const now = app.clock();
      return record(principal, "delete", {}, () => {
        people.delete(person.id, { by: principal.personId, now });
        users.disableAllOfPerson(person.id, now);
        return person;
      });
    },
  );
};
