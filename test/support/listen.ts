/** Serves an app on a free loopback port, for tests: a Koa app, or any Node request handler (an Express app is one). */
import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import type Koa from 'koa';

export async function listenOnLoopback(app: Koa | RequestListener): Promise<{ server: Server; url: string }> {
  // What Koa's app.listen() does; an Express app is itself the handler.
  const server = createServer(typeof app === 'function' ? app : app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
