pm.test('Asks for a bearer token', function () {
    pm.response.to.have.header('WWW-Authenticate', 'Bearer');
});
