#!/usr/bin/env node
// `npm run -s token -- --customer <customerId>` / `npm run -s token -- --operator`: prints a
// bearer token of that customer, or an operator's, from the identity issuer (AUTH_ISSUER,
// default http://127.0.0.1:3004) and nothing else, so it composes:
//   curl -H "Authorization: Bearer $(npm run -s token -- --operator)" http://127.0.0.1:3000/admin/orders
import { TokenError, fetchToken } from './token-client.mjs';

const USAGE = 'usage: npm run -s token -- --customer <customerId> | --operator';

function parse(args) {
  if (args.length === 1 && args[0] === '--operator') return { operator: true };
  if (args.length === 2 && args[0] === '--customer' && !args[1].startsWith('--')) {
    return { customerId: args[1] };
  }
  return undefined;
}

const who = parse(process.argv.slice(2));
if (!who) {
  console.error(USAGE);
  process.exit(2);
}
try {
  console.log(await fetchToken(who));
} catch (error) {
  if (!(error instanceof TokenError)) throw error;
  console.error(`token: ${error.message}`);
  // A customer id the issuer refuses is a bad argument too.
  if (error.error === 'invalid_request') {
    console.error(USAGE);
    process.exit(2);
  }
  process.exit(1);
}
