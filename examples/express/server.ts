/** `npm run start:express`: the Express example on http://localhost:3000 (PORT to change; REDIS_URL for Redis). */
import { createExpressExampleApp } from './app.ts';

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL || undefined;
const encryptionKeys = process.env.TWO_FACTOR_KEYS || undefined;

if (redisUrl && !encryptionKeys) {
  console.error('REDIS_URL is set: also set TWO_FACTOR_KEYS (e.g. TWO_FACTOR_KEYS="k1:$(openssl rand -base64 32)") so secrets are encrypted at rest.');
  process.exit(1);
}

const { app, ready } = createExpressExampleApp({ redisUrl, encryptionKeys, cookieKeys: process.env.COOKIE_KEYS?.split(',') });
await ready();
app.listen(port, () => {
  console.log(`koa-two-factor Express example on http://localhost:${port} (${redisUrl ? 'Redis' : 'in-memory stores'})`);
  console.log('Users: alice / alice-password, bob / bob-password, admin / admin-password');
});
