// A real OpenID Connect provider (panva/oidc-provider) standing in for the national e-ID in
// motcua's tests and local trials. It speaks the whole protocol (discovery, authorization code
// with PKCE, signed ID tokens, userinfo); only its people are made up.
//
//   node provider.mjs <redirect_uri> [client_id] [client_secret]
//
// Listens on a free port of 127.0.0.1 and prints "ready <issuer>" when it accepts requests.
// Its sign-in page (oidc-provider's development interactions) takes a person's 12-digit
// personal identification number as the login and any password.
import http from 'node:http';
import Provider from 'oidc-provider';

const [redirectUri, clientId = 'motcua', clientSecret = 'motcua-test-secret'] = process.argv.slice(2);
if (!redirectUri) {
  console.error('usage: node provider.mjs <redirect_uri> [client_id] [client_secret]');
  process.exit(2);
}

// People as the national e-ID would describe them: level of assurance 2 is an account
// verified in person with the chip card, 1 one checked against the population database.
const people = {
  '001090000001': { name: 'Nguyễn Thị Mai', birthdate: '1990-05-17', loa: 2 },
  '001085000002': { name: 'Trần Văn Hùng', birthdate: '1985-11-02', loa: 1, tax_code: '0101234567' },
  '001099000003': { name: 'Lê Văn Sai', birthdate: '17/05/1999', loa: 2 },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: {
      openid: ['sub'],
      profile: ['name', 'birthdate', 'personal_id', 'tax_code', 'loa'],
    },
    async findAccount(ctx, id) {
      const person = people[id];
      if (!person) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, personal_id: id, ...person };
        },
      };
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['motcua-test-provider-cookie-key'] },
  });
  server.on('request', provider.callback());
  console.log(`ready ${issuer}`);
});
