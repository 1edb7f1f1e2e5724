/** The sign-in page, and the page an error leaves on (status, code, what to do). */
import { html, type Html } from '../html';
import { bare, csrfField } from './layout';

export function signInPage(csrf: string, problem?: { code: string; message: string }): Html {
  return bare(
    'Sign in',
    html`<div class="card">
      <h1>stockhold console</h1>
      <p class="muted">
        Sign in with an API key: scope <code>ops</code> reads, <code>admin</code> also acts (extend, release, settle,
        reconcile).
      </p>
      ${problem ? html`<p class="notice bad" role="alert"><span class="error-code">${problem.code}</span> ${problem.message}</p>` : ''}
      <form method="post" action="/console/sign-in">
        ${csrfField(csrf)}
        <label>API key <input type="password" name="key" autocomplete="off" required autofocus /></label>
        <button type="submit" class="primary">Sign in</button>
      </form>
    </div>`,
  );
}

export function errorPage(status: number, code: string, message: string): Html {
  const next =
    status === 401
      ? html`<a href="/console/sign-in">Sign in</a>`
      : status === 403
        ? html`Ask for a key with the scope named above, or go <a href="/console">back to the overview</a>.`
        : html`<a href="/console">Back to the overview</a>`;
  return bare(
    `${status} ${code}`,
    html`<div class="card">
      <h1>${status} <span class="error-code">${code}</span></h1>
      <p>${message}</p>
      <p>${next}</p>
    </div>`,
  );
}
