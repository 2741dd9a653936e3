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
${twoFactorActive ? '' : html`<p><a class="button" href="/2fa/setup">Set up two-factor authentication</a></p>`}
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  });
}
