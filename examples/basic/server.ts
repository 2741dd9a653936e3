/** `npm start`: the example on http://localhost:3000 (PORT to change; REDIS_URL for Redis; SMTP_URL to send emails). */
import { createExampleApp } from './app.ts';
import { emailLine, readServerEnv, USERS_LINE } from './settings.ts';

const { port, redisUrl, encryptionKeys, cookieKeys, email } = readServerEnv();
const { app, ready } = createExampleApp({ redisUrl, encryptionKeys, cookieKeys, email });
await ready();
app.listen(port, () => {
  console.log(`koa-two-factor example on http://localhost:${port} (${redisUrl ? 'Redis' : 'in-memory stores'})`);
  console.log(USERS_LINE);
  console.log(emailLine(email));
});
