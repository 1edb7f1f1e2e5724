/**
 * The OpenAPI document served on the ops port (OPS_PORT, where npm start puts /docs) names the
 * API's own port as its server, so Swagger's "Try it out" calls the API, not the ops port
 * (where every business route is 404). (Served on the main port it stays relative, "/":
 * test/api/bad-input.test.ts.)
 */
import type { AddressInfo } from 'node:net';
import http, { type Server } from 'node:http';
import { listenOps } from '../../api/server';
import { useAppStack } from '../helpers/app';

const stack = useAppStack('time-skipping', 'ops-docs-test', { OPS_PORT: '0', HOST: '127.0.0.1' });
let api: string;
let ops: Server;
beforeAll(async () => {
  api = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  ops = await listenOps(stack.app, { host: '127.0.0.1', port: 0 });
});
afterAll(() => new Promise((resolve) => ops.close(resolve)));

const opsUrl = (path: string, host = '127.0.0.1') => `http://${host}:${(ops.address() as AddressInfo).port}${path}`;

it("the ops port's /docs/json names the API (its port, the host the reader used) as servers[0]", async () => {
  const doc = (await (await fetch(opsUrl('/docs/json'))).json()) as { servers: { url: string }[] };
  expect(doc.servers[0].url).toBe(api);
  // The reader's host name (as in http://localhost:3001/docs) is kept; only the port changes.
  const local = await new Promise<{ servers: { url: string }[] }>((resolve, reject) => {
    const { port } = ops.address() as AddressInfo;
    http
      .get({ host: '127.0.0.1', port, path: '/docs/json', headers: { host: `localhost:${port}` } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
  expect(local.servers[0].url).toBe(`http://localhost:${new URL(api).port}`);
});

it("a business call sent where the document says reaches the API's route, not the ops port's 404", async () => {
  const doc = (await (await fetch(opsUrl('/docs/json'))).json()) as { servers: { url: string }[] };
  const key = { authorization: 'Bearer test-admin-token' };
  const viaDocument = await fetch(`${doc.servers[0].url}/inventory/NO-SUCH-SKU`, { headers: key });
  expect([viaDocument.status, ((await viaDocument.json()) as { code: string }).code]).toEqual([404, 'SKU_NOT_FOUND']);
  const viaOps = await fetch(opsUrl('/inventory/NO-SUCH-SKU'), { headers: key });
  expect([viaOps.status, ((await viaOps.json()) as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
});
