pm.test('Asks for a bearer token', function () {
    pm.response.to.have.header('WWW-Authenticate', 'Bearer');
});

pm.test('Answers at once with a JSON error, not a stream', function () {
    pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');
    pm.expect(pm.response.json().detail).to.eql('Not authenticated');
});
