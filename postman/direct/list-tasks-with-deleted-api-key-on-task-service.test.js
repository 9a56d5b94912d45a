pm.test('Status code is 401', function () {
    pm.response.to.have.status(401);
});

pm.test('Refused as an invalid key', function () {
    pm.expect(pm.response.json().detail).to.eql('Invalid API key');
});
