/**
 * The gate runs its after-request check when the app ends the response
 * (before express-session saves). Until then the response must still count
 * as sent: an app that answers twice (the classic missing `return` after
 * `res.status(403).json(…)`) gets Express' usual "headers already sent"
 * error, and the client gets the first answer — never the second one, which
 * here is the data the refusal was meant to protect (Express 5 and 4, with
 * and without express-session having to save).
 */
import { expect } from 'chai';
import { startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpClient } from '../support/http-client.ts';

/** The response, or null when the server cut the connection (what Express does after a second answer). */
async function getOrCut(client: HttpClient, path: string) {
  try {
    return await client.get(path);
  } catch {
    return null;
  }
}

for (const major of [5, 4] as const) {
  describe(`Express ${major} adapter: a response ended by the app stays ended`, () => {
    let app: CarelessExpressApp;
    before(async () => { app = await startCarelessExpressApp({ express: major }); });
    after(() => app.stop());

    it('an app answering twice (missing return after a 403) never sends the second answer', async () => {
      const client = await app.login();
      for (let i = 0; i < 3; i++) {
        const res = await getOrCut(client, '/report');
        if (res) {
          expect(res.text).to.not.include('salaries');
          expect(res.status).to.equal(403);
        }
      }
      // Express saw its usual error for the second answer.
      expect(app.unhandled.map((e) => (e as { code?: string }).code)).to.include('ERR_HTTP_HEADERS_SENT');
    });

    it('the first answer arrives whole when the app answers once', async () => {
      const client = await app.login();
      const res = await client.get('/report?as=admin');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ report: 'salaries' });
    });
  });
}
