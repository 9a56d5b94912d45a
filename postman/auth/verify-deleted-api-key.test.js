pm.test('Refused as an invalid key', function () {
    pm.expect(pm.response.json().detail).to.eql('Invalid API key');
    pm.expect(pm.response.headers.get('WWW-Authenticate')).to.eql('Bearer');
});
