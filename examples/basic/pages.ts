/** The example app's own pages (login, dashboard), on the package's escaping helpers. */
import { html, layout } from '../../views/index.ts';
import type { User } from './users.ts';

export function loginPage(error?: string): string {
  return layout({
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="hint">Try alice / alice-password, bob / bob-password or admin / admin-password.</p>`,
  });
}

export function dashboardPage(user: User, twoFactorActive: boolean): string {
  return layout({
    title: 'Dashboard',
    body: html`<h1>Dashboard</h1>
<p>Signed in as <strong>${user.username}</strong>.</p>
<p>Two-factor authentication is ${twoFactorActive ? 'on' : 'off'}.</p>
<p><a class="button" href="/remote/take-control">Take control</a> of a remote session (needs two-factor authentication).</p>
<p><a href="/2fa">${twoFactorActive ? 'Manage two-factor authentication' : 'Set up two-factor authentication'}</a></p>
${user.role === 'admin' ? html`<p><a href="/2fa/admin/users">Two-factor policy for users</a></p>` : ''}
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  });
}

export function takeControlPage(user: User, csrfToken: string, sessionId?: string): string {
  return layout({
    title: 'Take control',
    body: sessionId
      ? html`<h1>Remote session started</h1>
<p role="status">You (${user.username}) are now in control of remote session <code>${sessionId}</code>.</p>
<p><a href="/dashboard">Back to the dashboard</a></p>`
      : html`<h1>Take control</h1>
<p>Start a remote control session as ${user.username}.</p>
<form method="post" action="/remote/take-control"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit">Start the session</button></form>
<p><a href="/dashboard">Back to the dashboard</a></p>`,
  });
}
