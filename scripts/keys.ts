/**
 * `npm run keys -- <command>`: API keys from a shell (DATABASE_URL, REDIS_URL), recorded as
 * made by `cli`.
 *
 *   create --name NAME --scopes orders,inventory:read [--expires-in 30d]   prints the key once
 *   list                                                                    every key, no secrets
 *   revoke ID                                                               refused at once by every API process
 */
import { createKey, listKeys, revokeKey } from '../data/keys/api-keys';
import { createDb, type Db } from '../data/db';
import { ALL_SCOPES, parseLifetime, parseScopes } from '../domain/api-keys';
import { loadConfig, type Config } from '../config';
import { publishRevocation } from '../platform/key-events';
import { createRedis } from '../platform/redis';

const USAGE = `npm run keys -- create --name NAME --scopes ${ALL_SCOPES.join(',')} [--expires-in 30d]
npm run keys -- list
npm run keys -- revoke ID`;

const ACTOR = 'cli';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function create(db: Db, args: string[]): Promise<void> {
  const name = option(args, 'name');
  const scopes = option(args, 'scopes');
  if (!name || !scopes) throw new Error(`create needs --name and --scopes\n${USAGE}`);
  const lifetime = option(args, 'expires-in');
  const expiresAt = lifetime ? new Date(Date.now() + parseLifetime(lifetime)) : undefined;
  const { key, ...created } = await createKey(db, { name, scopes: parseScopes(scopes), expiresAt, createdBy: ACTOR });
  console.log(JSON.stringify(created, null, 2));
  console.log(`\nkey (shown only now): ${key}`);
}

async function list(db: Db): Promise<void> {
  for (const k of await listKeys(db)) {
    const state = k.revokedAt
      ? `revoked ${k.revokedAt} by ${k.revokedBy}`
      : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
        ? `expired ${k.expiresAt}`
        : 'active';
    console.log(
      `${k.id}  ${k.name.padEnd(24)} ${k.scopes.join(',').padEnd(30)} ${state}${k.expiresAt && !k.revokedAt ? ` (expires ${k.expiresAt})` : ''}`,
    );
  }
}

async function revoke(db: Db, config: Config, id: string | undefined): Promise<void> {
  if (!id) throw new Error(`revoke needs the key id\n${USAGE}`);
  const revoked = await revokeKey(db, id, ACTOR);
  if (!revoked) throw new Error(`no API key ${id}`);
  console.log(`revoked ${id} at ${revoked.revokedAt}`);
  const redis = createRedis(config.redisUrl, {
    connectTimeoutMs: config.cache.connectTimeoutMs,
    commandTimeoutMs: config.cache.commandTimeoutMs,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Redis not reachable')), config.cache.connectTimeoutMs);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await publishRevocation(redis, id);
    console.log('every API process was told at once');
  } catch (err) {
    console.log(
      `not broadcast (${(err as Error).message}): API processes refuse the key within API_KEY_CACHE_SECONDS (${config.apiKeyCacheMs / 1000} s)`,
    );
  } finally {
    redis.disconnect();
  }
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (!['create', 'list', 'revoke'].includes(command ?? '')) throw new Error(USAGE);
  const config = loadConfig();
  const db = createDb(config.databaseUrl, { maxConnections: 1 });
  try {
    if (command === 'create') await create(db, rest);
    else if (command === 'list') await list(db);
    else await revoke(db, config, rest[0]);
  } finally {
    await db.$disconnect();
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`[keys] ${err.message}`);
  process.exitCode = 1;
});
