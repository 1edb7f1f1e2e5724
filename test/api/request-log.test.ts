/**
 * The request log (issue 21): at `info`, one line per answered request — method, URL, status,
 * time and its reqId — instead of Fastify's two; above `info`, none.
 */
import type { FastifyInstance } from 'fastify';
import { testApp } from '../helpers/app';
import { useSagaStack } from '../helpers/temporal';

const stack = useSagaStack('time-skipping', 'request-log-test');

async function logged(level: string, work: (app: FastifyInstance) => Promise<unknown>) {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
  const { app } = await testApp(stack.env, stack.db, {}, { logger: { level, stream } });
  try {
    await work(app);
  } finally {
    await app.close();
  }
  return lines;
}

it('at info: one line per request, with what it asked and what it got', async () => {
  const lines = await logged('info', async (app) => {
    const res = await app.inject({ method: 'GET', url: '/orders/no-such-order' });
    expect(res.statusCode).toBe(404);
  });
  const requestLines = lines.filter((l) => /request/.test(String(l.msg)));
  expect(requestLines).toEqual([
    expect.objectContaining({
      msg: 'request completed',
      req: expect.objectContaining({ method: 'GET', url: '/orders/no-such-order' }),
      res: { statusCode: 404 },
      responseTime: expect.any(Number),
      reqId: expect.any(String),
    }),
  ]);
});

it('above info: no request line (the log itself still writes)', async () => {
  const lines = await logged('warn', async (app) => {
    expect((await app.inject({ method: 'GET', url: '/orders/no-such-order' })).statusCode).toBe(404);
    app.log.warn('still written');
  });
  expect(lines.filter((l) => /request/.test(String(l.msg)))).toEqual([]);
  expect(lines.map((l) => l.msg)).toContain('still written');
});
