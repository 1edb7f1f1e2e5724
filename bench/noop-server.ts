/** Baseline: the HTTP ceiling — a Fastify route that does nothing, same framework and logger settings. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/noop', async () => ({ ok: true }));
app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) }).then(
  () => console.log('noop server ready'),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
