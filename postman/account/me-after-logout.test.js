pm.test('The logged-out token is refused', function () {
    pm.expect(pm.response.json().detail).to.eql('Could not validate credentials');
});

pm.test('Asks for a bearer token', function () {
    pm.response.to.have.header('WWW-Authenticate', 'Bearer');
});
