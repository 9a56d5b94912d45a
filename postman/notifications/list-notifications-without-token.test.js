pm.test('Status code is 401', function () {
    pm.response.to.have.status(401);
});

pm.test('Asks for a bearer token', function () {
    pm.response.to.have.header('WWW-Authenticate', 'Bearer');
});
