/**
 * PIN letters (rights/pin-letters.ts): a new lock user's initial code, downloadable once as a
 * printable letter by a bank officer, recorded in the admin log; split delivery in two halves
 * by two officers as a bank setting.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { principalOf } from "../auth/authorize.js";
import { BANK_ROLES } from "../auth/principal.js";
import { idParams } from "./common.js";

export const PinLetterView = Type.Object({
  id: Type.String(),
  personId: Type.String(),
  containerId: Type.String(),
  deviceId: Type.String(),
  slot: Type.Integer(),
  split: Type.Boolean(),
  pending: Type.Boolean(),
});
const Downloaded = Type.Object({
  letterId: Type.String(),
  personId: Type.String(),
  containerId: Type.String(),
  deviceId: Type.String(),
  slot: Type.Integer(),
  code: Type.String(),
  half: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
  text: Type.String(),
});
const Half = Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)]));
const DownloadBody = Type.Union([
  Type.Object({ half: Half }, { additionalProperties: false }),
  Type.Null(),
]);
const PrintQuery = Type.Object({ half: Half }, { additionalProperties: false });
const ListQuery = Type.Object(
  { personId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
const Settings = Type.Object({ splitPinLetters: Type.Boolean() }, { additionalProperties: false });
const Params = idParams("letterId");
const tags = ["rights"];

export const pinLetterRoutes: FastifyPluginAsync = async (app) => {
  const readers = app.authorize(...BANK_ROLES);
  const officers = app.authorizeAudited("pinLetter.download", ["securityAdmin", "branchManager"]);
  const securityAdmin = app.authorize("securityAdmin");

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    "/pin-letters",
    {
      onRequest: readers,
      schema: {
        summary: "A person's PIN letters and whether each still waits to be downloaded",
        tags,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(PinLetterView) }) },
      },
    },
    async (request) => ({
      items: app.pinLetters.list(principalOf(request), request.query.personId),
    }),
  );

  app.post<{ Params: Static<typeof Params>; Body: Static<typeof DownloadBody> }>(
    "/pin-letters/:letterId/download",
    {
      onRequest: officers,
      schema: {
        summary:
          "Download the PIN letter once (or one half of it, under split delivery); never again",
        tags,
        params: Params,
        body: DownloadBody,
        response: { 200: Downloaded },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      return app.pinLetters.download(
        principalOf(request),
        request.params.letterId,
        request.body?.half,
      );
    },
  );

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof PrintQuery> }>(
    "/pin-letters/:letterId/print",
    {
      onRequest: officers,
      schema: {
        summary: "The PIN letter as printable text, once (the same single download)",
        tags,
        params: Params,
        querystring: PrintQuery,
        response: { 200: Type.String() },
      },
    },
    async (request, reply) => {
      const letter = app.pinLetters.download(
        principalOf(request),
        request.params.letterId,
        request.query.half,
      );
      reply.header("cache-control", "no-store");
      return reply.type("text/plain; charset=utf-8").send(letter.text);
    },
  );

  app.get(
    "/bank-settings",
    { onRequest: readers, schema: { tags: ["tenants"], response: { 200: Settings } } },
    async (request) => ({
      splitPinLetters: app.pinLetters.splitDelivery(principalOf(request).orgId),
    }),
  );

  app.put<{ Body: Static<typeof Settings> }>(
    "/bank-settings",
    {
      onRequest: securityAdmin,
      schema: {
        summary: "Bank settings: splitPinLetters delivers each PIN letter in two halves",
        tags: ["tenants"],
        body: Settings,
        response: { 200: Settings },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      app.pinLetters.setSplitDelivery(principal, request.body.splitPinLetters);
      return { splitPinLetters: app.pinLetters.splitDelivery(principal.orgId) };
    },
  );
};
