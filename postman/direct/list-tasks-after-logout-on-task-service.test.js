pm.test('The token is refused', function () {
    pm.expect(pm.response.json().detail).to.eql('Could not validate credentials');
});

pm.test('Asks for a bearer token', function () {
    pm.expect(pm.response.headers.get('WWW-Authenticate')).to.eql('Bearer');
});
