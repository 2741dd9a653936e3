/** `npm start`: the example on http://localhost:3000 (PORT to change; REDIS_URL for Redis). */
import { createExampleApp } from './app.ts';
import { readServerEnv, USERS_LINE } from './settings.ts';

const { port, redisUrl, encryptionKeys, cookieKeys } = readServerEnv();
const { app, ready } = createExampleApp({ redisUrl, encryptionKeys, cookieKeys });
await ready();
app.listen(port, () => {
  console.log(`koa-two-factor example on http://localhost:${port} (${redisUrl ? 'Redis' : 'in-memory stores'})`);
  console.log(USERS_LINE);
});
