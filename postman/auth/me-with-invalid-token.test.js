pm.test('Says why: "Could not validate credentials"', function () {
    pm.expect(pm.response.json().detail).to.eql('Could not validate credentials');
});

pm.test('Asks for a bearer token', function () {
    pm.response.to.have.header('WWW-Authenticate', 'Bearer');
});
