/**
 * The rules a JWT configuration must meet before the gateway starts (docs/SECURITY.md): keys from a
 * JWKS URL only over https (http only from this machine), and in JWKS mode a required issuer and
 * audience unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false says otherwise. A token from an
 * identity provider that serves many applications would otherwise be accepted whatever it was
 * issued for. Each problem names the setting to change; none shows a secret.
 */
import type { VariableName } from './config';

export interface JwtRules {
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** False only when GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false. */
  requireIssuerAudience?: boolean;
}

export interface JwtProblem {
  variable: VariableName;
  /** The value as the error shows it (a URL without any user:password part). */
  value: string;
  /** What the variable must be, as the configuration error says it. */
  form: string;
}

/** Host names of a URL that only this machine reaches. */
function loopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function jwtProblems(jwt: JwtRules): JwtProblem[] {
  if (!jwt.jwksUrl) return [];
  const problems: JwtProblem[] = [];
  let url: URL | undefined;
  try {
    url = new URL(jwt.jwksUrl);
  } catch {
    problems.push({ variable: 'GATEWAY_JWKS_URL', value: '<not a URL>', form: 'a URL' });
  }
  if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackHost(url.hostname)))
    problems.push({
      variable: 'GATEWAY_JWKS_URL',
      value: `${url.protocol}//${url.host}${url.pathname}`,
      form: 'an https: URL (http: only for a loopback host: keys fetched in clear could be swapped on the way)',
    });
  if (jwt.requireIssuerAudience !== false)
    for (const [variable, value] of [
      ['GATEWAY_JWT_ISSUER', jwt.issuer],
      ['GATEWAY_JWT_AUDIENCE', jwt.audience],
    ] as const)
      if (!value)
        problems.push({
          variable,
          value: '',
          form: 'set (GATEWAY_JWKS_URL needs it, unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false)',
        });
  return problems;
}
