import { html, type SafeHtml } from './html.ts';
import { errorAlert, layout } from './layout.ts';
import type { AdminPageData } from './types.ts';

const STATE_LABELS = { active: 'Active', pending: 'Pending', none: 'Off' } as const;

function passwordField(id: string): SafeHtml {
  return html`<label for="${id}">Your password, to confirm</label>
<input type="password" id="${id}" name="password" autocomplete="current-password" required>`;
}

function userRows(d: AdminPageData): SafeHtml {
  return html`${d.users.map((u, i) => html`<tr>
<td>${d.requireAll ? '' : html`<input type="checkbox" id="user-${i}" name="userIds" value="${u.id}" form="required-form">`}</td>
<td><label for="user-${i}">${u.username}</label></td>
<td class="state state-${u.state}">${STATE_LABELS[u.state]}</td>
<td>${u.required ? 'Yes' : 'No'}</td>
</tr>`)}`;
}

function resetForms(d: AdminPageData): SafeHtml {
  const active = d.users.filter((u) => u.state === 'active');
  if (active.length === 0) return html`<p class="muted">No user has two-factor authentication to reset.</p>`;
  return html`${active.map((u, i) => html`<form method="post" action="${d.prefix}/admin/users/${encodeURIComponent(u.id)}/reset">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<p>Reset <strong>${u.username}</strong> (lost phone and backup codes): their devices and codes are removed and their sessions must verify again.</p>
${passwordField(`password-reset-${i}`)}
<button type="submit" class="danger">Reset ${u.username}</button>
</form>`)}`;
}

/** The admin's page: each user's 2FA state, the global switch, per-user requirement, resets. */
export function adminPage(d: AdminPageData): string {
  const perUser = d.requireAll
    ? html`<p class="muted">Two-factor authentication is required for all users, so it cannot be set per user.</p>`
    : html`<form method="post" action="${d.prefix}/admin/users/required" id="required-form">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<p>Tick users above, then:</p>
<label for="required-choice">Two-factor authentication for the ticked users</label>
<select id="required-choice" name="required"><option value="true">Required</option><option value="false">Not required</option></select>
${passwordField('password-required')}
<button type="submit">Apply to ticked users</button>
</form>`;

  const body = html`<h1>Two-factor policy</h1>
${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
${errorAlert(d)}
<section>
<h2>All users</h2>
<form method="post" action="${d.prefix}/admin/policy">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<input type="hidden" name="requireAll" value="${d.requireAll ? 'false' : 'true'}">
<p>Two-factor authentication is <strong>${d.requireAll ? 'required for all users' : 'not required for all users'}</strong>.</p>
${passwordField('password-policy')}
<button type="submit">${d.requireAll ? 'Stop requiring it for all users' : 'Require it for all users'}</button>
</form>
</section>
<section>
<h2>Users</h2>
<table class="users">
<thead><tr><th scope="col"><span class="visually-hidden">Select</span></th><th scope="col">User</th><th scope="col">State</th><th scope="col">Required</th></tr></thead>
<tbody>${userRows(d)}</tbody>
</table>
${perUser}
</section>
<section>
<h2>Reset a user</h2>
${resetForms(d)}
</section>
<p><a href="/">Back to the app</a></p>`;
  return layout({ title: 'Two-factor policy', body });
}
