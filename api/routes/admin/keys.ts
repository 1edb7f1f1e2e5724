/**
 * API keys (scope admin): create (the key is shown once), list, revoke. A revocation is
 * published to every API process at once (platform/key-events.ts); were Redis down, the other
 * processes stop accepting the key within API_KEY_CACHE_SECONDS.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createKey, listKeys, revokeKey } from '../../../data/keys/api-keys';
import { ALL_SCOPES, Scope } from '../../../domain/api-keys';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { publishRevocation } from '../../../platform/key-events';
import { errors } from '../../schemas';

const KeyId = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'the id in sk_<id>_<secret>' });
const Stamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String({ description: 'key id (or bootstrap, cli) that created it' }),
  expiresAt: Stamp,
  revokedAt: Stamp,
  revokedBy: Type.Union([Type.String(), Type.Null()]),
});
const access = { access: Scope.ADMIN };

const keys: FastifyPluginAsyncTypebox = async (app) => {
  const { db, redis } = app.deps;

  app.post(
    '/admin/keys',
    {
      config: access,
      schema: {
        summary: 'Create an API key; the answer carries the key itself, shown only this once',
        tags: ['admin'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            scopes: Type.Array(Type.Union(ALL_SCOPES.map((s) => Type.Literal(s))), {
              minItems: 1,
              maxItems: ALL_SCOPES.length,
              uniqueItems: true,
            }),
            expiresAt: Type.Optional(
              Type.String({ format: 'date-time', description: 'when it stops working (default: never)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Composite([
            ApiKey,
            Type.Object({ key: Type.String({ description: 'sk_<id>_<secret>: store it now' }) }),
          ]),
          ...errors(400),
        },
      },
    },
    async (request, reply) => {
      const { name, scopes, expiresAt } = request.body;
      if (expiresAt && Date.parse(expiresAt) <= Date.now())
        throw new DomainError(ErrorCode.VALIDATION_FAILED, 'expiresAt is in the past');
      const created = await createKey(db, {
        name,
        scopes,
        expiresAt: expiresAt ? new Date(expiresAt) : undefined,
        createdBy: request.principal!.keyId,
      });
      request.log.info({ keyId: created.id, scopes, by: request.principal!.keyId }, 'API key created');
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/admin/keys',
    {
      config: access,
      schema: {
        summary: 'Every API key, newest first (never the secrets)',
        tags: ['admin'],
        response: { 200: Type.Object({ keys: Type.Array(ApiKey) }) },
      },
    },
    async () => ({ keys: await listKeys(db) }),
  );

  app.post(
    '/admin/keys/:keyId/revoke',
    {
      config: access,
      schema: {
        summary: 'Revoke an API key: refused at once by every API process (idempotent)',
        tags: ['admin'],
        params: Type.Object({ keyId: KeyId }),
        response: { 200: ApiKey, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { keyId } = request.params;
      const revoked = await revokeKey(db, keyId, request.principal!.keyId);
      if (!revoked) throw new DomainError(ErrorCode.NOT_FOUND, `no API key ${keyId}`);
      app.keys.evict(keyId);
      await publishRevocation(redis, keyId).catch((err) =>
        request.log.warn(
          { err, keyId },
          'revocation not broadcast (Redis down): other processes refuse the key once their cache entry expires',
        ),
      );
      request.log.info({ keyId, by: request.principal!.keyId }, 'API key revoked');
      return revoked;
    },
  );
};

export default keys;
