pm.test('Says why: "Incorrect username or password"', function () {
    pm.expect(pm.response.json().detail).to.eql('Incorrect username or password');
});

pm.test('Asks for a bearer token', function () {
    pm.response.to.have.header('WWW-Authenticate', 'Bearer');
});
