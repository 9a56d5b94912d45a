pm.test('Refused as an invalid key', function () {
    pm.expect(pm.response.json().detail).to.eql('Invalid API key');
});
