// A real OpenID Provider (panva/oidc-provider, OpenID certified) for the portal's single
// sign-on tests and the local demo. Only the login screen is replaced: instead of a form, the
// interaction signs in the account named by the request's login_hint, or the `default`
// account of ACCOUNTS_FILE (re-read on every request, so a test changes a person's groups or
// e-mail verification between two sign-ins by rewriting the file).
//
// Environment:
//   PORT                  port on 127.0.0.1 (required)
//   ISSUER                issuer identifier (default http://127.0.0.1:PORT)
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS, POST_LOGOUT_REDIRECT_URIS (comma-separated)
//   ACCOUNTS_FILE         {"default": "id", "accounts": {"id": {email, email_verified, name, groups}}}
//   JWKS_FILE             signing keys (private JWKS); unset: a fresh RSA key per start, so a
//                         restart is a key rotation
//   ID_TOKEN_TTL          ID token lifetime in seconds (default 3600)
//   CLOCK_OFFSET_SECONDS  shift this provider's clock (a negative value issues tokens that
//                         expired before they arrive)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(env.PORT);
const offsetMs = Number(env.CLOCK_OFFSET_SECONDS || 0) * 1000;
if (offsetMs) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + offsetMs;
}
const list = (value) => (value || '').split(',').map((s) => s.trim()).filter(Boolean);

function readAccounts() {
  return JSON.parse(readFileSync(env.ACCOUNTS_FILE, 'utf8'));
}

async function signingKeys() {
  if (env.JWKS_FILE) return JSON.parse(readFileSync(env.JWKS_FILE, 'utf8'));
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { keys: [{ ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}

async function findAccount(ctx, id) {
  const account = readAccounts().accounts[id];
  if (!account) return undefined;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: account.email,
        email_verified: account.email_verified,
        name: account.name,
        groups: account.groups || [],
      };
    },
  };
}

const issuer = env.ISSUER || `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: env.CLIENT_ID,
    client_secret: env.CLIENT_SECRET,
    redirect_uris: list(env.REDIRECT_URIS),
    post_logout_redirect_uris: list(env.POST_LOGOUT_REDIRECT_URIS),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: await signingKeys(),
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  // The groups are signed into the ID token, as enterprise providers do when asked to.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html><head><title>Sign out</title></head><body>
          ${form}<button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">
          Sign out</button><script>document.forms[0].requestSubmit?.(
          document.querySelector('button[name=logout]'))</script></body></html>`;
      },
    },
  },
  pkce: { required: () => true },
  ttl: {
    IdToken: Number(env.ID_TOKEN_TTL || 3600),
    AccessToken: 600,
    AuthorizationCode: 60,
    Interaction: 3600,
    Session: 3600,
    Grant: 3600,
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

// The interaction: sign in the hinted (or default) account and grant what was asked.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const store = readAccounts();
  const accountId = details.params.login_hint in store.accounts
    ? details.params.login_hint : store.default;
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 400;
      res.end(String(err));
    });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
