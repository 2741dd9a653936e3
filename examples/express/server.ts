/** `npm run start:express`: the Express example on http://localhost:3000 (PORT to change; REDIS_URL for Redis; SMTP_URL to send emails). */
import { emailLine, readServerEnv, USERS_LINE } from '../basic/settings.ts';
import { createExpressExampleApp } from './app.ts';

const { port, redisUrl, encryptionKeys, cookieKeys, email } = readServerEnv();
const { app, ready } = createExpressExampleApp({ redisUrl, encryptionKeys, cookieKeys, email });
await ready();
app.listen(port, () => {
  console.log(`koa-two-factor Express example on http://localhost:${port} (${redisUrl ? 'Redis' : 'in-memory stores'})`);
  console.log(USERS_LINE);
  console.log(emailLine(email));
});
