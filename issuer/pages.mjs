// The issuer's few HTML pages: sign-in, sign-out and errors. No script at all and no inline
// style (the stylesheet is a file of this server), so a strict Content-Security-Policy holds.

export const STYLESHEET_PATH = '/assets/issuer.css';

export const STYLESHEET = `body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:22rem;margin:4rem auto;padding:1.5rem 2rem;background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem}
input{box-sizing:border-box;width:100%;padding:.45rem;font:inherit}
button{margin-top:1.2rem;width:100%;padding:.55rem;font:inherit;border:0;border-radius:4px;background:#2456c7;color:#fff;cursor:pointer}
button.secondary{background:#dde1e8;color:#1d2330}.error{color:#b3261e}pre{white-space:pre-wrap;word-break:break-word}
`;

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

/** The operator's sign-in form; `error` is shown after a wrong user name or password. */
export function loginPage({ uid, clientId, username = '', error }) {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  return page(
    'Sign in',
    `<p>to <strong>${escapeHtml(clientId)}</strong></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${base}/login" autocomplete="off">
<label for="username">User name</label>
<input id="username" name="username" value="${escapeHtml(username)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>
<form method="get" action="${base}/abort"><button class="secondary" type="submit">Cancel</button></form>`,
  );
}

/** A page that only says what went wrong. */
export function messagePage(title, message) {
  return page(title, `<p class="error" role="alert">${escapeHtml(message)}</p>`);
}

/** oidc-provider's renderError: `out` holds error and error_description, already public. */
export function errorPage(ctx, out) {
  ctx.type = 'html';
  ctx.body = page(
    'Something went wrong',
    Object.entries(out)
      .map(([key, value]) => `<pre><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</pre>`)
      .join('\n'),
  );
}

/** oidc-provider's logoutSource: `form` is its own form (action and xsrf token), no script. */
export function logoutPage(ctx, form) {
  ctx.type = 'html';
  ctx.body = page(
    'Sign out',
    `<p>Sign out of ${escapeHtml(ctx.host)}?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

export function loggedOutPage(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<p>You are signed out.</p>');
}
